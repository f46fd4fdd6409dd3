"""The history on a real PostgreSQL server: the schema from blank (the same migrations as SQLite's),
foreign tables refused, bad URLs refused at start, events of one session serialised across stores
(as across replicas), and a lost connection that writes nothing and is recovered from."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from bench.pgserver import free_port
from interviewer.core.errors import UserError
from interviewer.core.records import SessionRecord, Turn
from interviewer.history.migrations import MIGRATIONS
from interviewer.history.postgres import POOL_SIZE, UNREACHABLE, PostgresHistory
from interviewer.settings import Settings
from interviewer.shells import app

SESSION = SessionRecord(id="s1", client="test", feedback_mode="immediate", n_questions=2, max_follow_ups=2,
                        topics=[], seed=7, plan=["a", "b"])


def started(url: str) -> PostgresHistory:
    history = PostgresHistory(url)
    with history.transaction() as tx:
        tx.create_session(SessionRecord(**{**SESSION.__dict__}))
    return history


def question(seq: int) -> Turn:
    return Turn(session_id="s1", seq=seq, main_index=seq, kind="main", card_id="a", question=f"질문 {seq}?")


def test_schema_builds_from_blank_with_the_same_migrations(database_url: str):
    history = PostgresHistory(database_url)
    assert history.migrate() == [fn.__name__ for fn in MIGRATIONS]
    assert history.migrate() == [] and PostgresHistory(database_url).migrate() == []
    with psycopg.connect(database_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        recorded = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
        stability = conn.execute("SELECT data_type FROM information_schema.columns WHERE table_name = "
                                 "'keyword_progress' AND column_name = 'stability'").fetchone()[0]
    assert tables == {"sessions", "turns", "events", "keyword_progress", "_migrations"}
    assert recorded == [fn.__name__ for fn in MIGRATIONS]
    assert stability == "double precision"


def test_a_database_holding_other_tables_is_refused_untouched(database_url: str):
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE notes (x int)")
    with pytest.raises(UserError, match=r"not an interviewer history database \(it holds notes\)"):
        PostgresHistory(database_url).migrate()
    with psycopg.connect(database_url) as conn:
        assert {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")} == {"notes"}


def test_unreachable_or_wrong_database_is_one_line_naming_the_setting(postgres, cli):
    for url in (f"postgresql://postgres:pw@127.0.0.1:{free_port()}/x", postgres.url("no_such_db")):
        with pytest.raises(UserError, match="INTERVIEWER_DATABASE_URL: cannot connect") as caught:
            PostgresHistory(url).migrate()
        assert "\n" not in str(caught.value) and ":pw@" not in str(caught.value)
    with pytest.raises(UserError, match="INTERVIEWER_DATABASE_URL must be a postgresql://"):
        Settings.from_env({"INTERVIEWER_DATABASE_URL": "mysql://u@h/db"})
    begun = time.monotonic()
    result = cli("serve", "--port", str(free_port()),
                 env={"INTERVIEWER_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("interviewer: error: INTERVIEWER_DATABASE_URL: cannot connect to postgresql://"), line
    assert time.monotonic() - begun < 30  # at start: before indexing, models or the port


def test_events_of_one_session_run_one_after_the_other_across_stores(database_url: str):
    """Two stores on one database, as two replicas: the second event waits for the first's commit,
    then starts from what it wrote."""
    first, second = started(database_url), PostgresHistory(database_url)
    inside, seen = threading.Event(), []

    def replica_b() -> None:
        inside.wait()
        with second.event("s1") as scope:
            seen.append([t.seq for t in scope.turns])

    other = threading.Thread(target=replica_b)
    other.start()
    with first.event("s1") as scope:
        with scope.transaction() as tx:
            tx.ask(question(1))
        inside.set()
        time.sleep(0.5)  # replica B is waiting on the session's row meanwhile
        assert seen == []
    other.join(timeout=10)
    assert seen == [[1]]


def test_a_lost_connection_fails_the_event_writes_nothing_and_the_next_one_reconnects(database_url: str):
    history = started(database_url)
    with pytest.raises(UserError) as caught, history.event("s1") as scope:
        with scope.transaction() as tx:
            tx.ask(question(1))
        with psycopg.connect(database_url, autocommit=True) as admin:  # the server drops our connections
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert str(caught.value) == UNREACHABLE
    assert history.turns("s1") == []  # a fresh connection, and nothing half-written
    with history.event("s1") as scope, scope.transaction() as tx:
        tx.ask(question(1))
    assert [t.seq for t in history.turns("s1")] == [1]


def test_the_pool_has_a_connection_for_every_event_the_app_runs_at_once():
    assert POOL_SIZE >= app.CONCURRENCY + app.SANDBOX_CONCURRENCY
