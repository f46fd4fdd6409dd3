"""The history stores: migrations from blank, WAL, round trips, atomic steps, refusing foreign files.
The round trips run on both stores (SQLite, and a real PostgreSQL server when one can run here)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from interviewer.core.errors import UserError
from interviewer.core.models import Grade, KeyPointResult
from interviewer.core.records import KeywordState, SessionRecord, Turn
from interviewer.history.migrations import MIGRATIONS, m001_initial, m002_keyword_progress
from interviewer.history.postgres import PostgresHistory
from interviewer.history.sqlite import APPLICATION_ID, History, SQLiteHistory


def make_session(session_id: str = "s1") -> SessionRecord:
    return SessionRecord(id=session_id, client="test", feedback_mode="immediate", n_questions=2,
                         max_follow_ups=2, topics=["optimization"], seed=7, plan=["a", "b"])


def make_grade(card_id: str = "a") -> Grade:
    return Grade(card_id=card_id, score=50, grade=2, keypoints=[
        KeyPointResult(keyword="학습률", verdict="covered", evidence="학습률이 크면 발산합니다", similarity=0.91,
                       method="model"),
        KeyPointResult(keyword="momentum", verdict="missing")])


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> History:
    if request.param == "postgres":
        return PostgresHistory(request.getfixturevalue("database_url"))
    return SQLiteHistory(tmp_path / "h.sqlite3")


def test_schema_builds_from_blank_and_migrations_apply_once(tmp_path: Path):
    history = SQLiteHistory(tmp_path / "h.sqlite3")
    assert history.migrate() == [fn.__name__ for fn in MIGRATIONS]
    assert all(fn.__name__.startswith("m0") for fn in MIGRATIONS)
    assert history.migrate() == []
    assert SQLiteHistory(tmp_path / "h.sqlite3").migrate() == []
    assert history.journal_mode() == "wal"
    db = sqlite3.connect(tmp_path / "h.sqlite3")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "turns", "events", "keyword_progress", "_migrations"} <= tables


def test_an_older_database_is_upgraded_in_place(tmp_path: Path):
    """A file written before keyword progress existed keeps its sessions and gains the new table."""
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    m001_initial(db)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    db.execute("INSERT INTO _migrations VALUES ('m001_initial', '2026-11-01T00:00:00.000+00:00')")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("INSERT INTO sessions VALUES ('old', 't', 't', NULL, 'running', 'chat', 'immediate', 1, 2,"
               " '[]', 7, '[\"dropout\"]', 'none', NULL, 0, 0)")
    db.execute("COMMIT")
    db.close()
    history = SQLiteHistory(path)
    assert history.migrate() == [fn.__name__ for fn in MIGRATIONS[1:]]
    assert history.session("old").plan == ["dropout"] and history.keyword_progress("") == []
    assert SQLiteHistory(path).migrate() == []


def test_leitner_progress_becomes_fsrs_cards_and_keeps_what_was_recorded(tmp_path: Path):
    """A file of the Leitner schema (m001 + m002) upgrades in place: counts, verdicts, times, due dates
    and sessions stay; each box becomes the FSRS card that schedules like it."""
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    m001_initial(db)
    m002_keyword_progress(db)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name in ("m001_initial", "m002_keyword_progress"):
        db.execute("INSERT INTO _migrations VALUES (?, '2026-11-01T00:00:00.000+00:00')", (name,))
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("INSERT INTO sessions VALUES ('old', 't', 't', NULL, 'finished', 'chat', 'immediate', 1, 2,"
               " '[]', 7, '[\"dropout\"]', 'none', NULL, 0, 0)")
    seen = "2026-11-10T09:00:00.000+00:00"
    rows = [("", "dropout", "co-adaptation 방지", 3, 2, 3, "covered", seen, "2026-11-13T09:00:00.000+00:00", "old", 2),
            ("", "dropout", "다양한 모델 학습", 1, 0, 1, "missing", seen, seen, "old", 1),
            ("kim", "dropout", "다양한 모델 학습", 5, 5, 5, "covered", seen, "2026-11-24T09:00:00.000+00:00", "old", 4)]
    db.executemany("INSERT INTO keyword_progress VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    db.close()
    history = SQLiteHistory(path)
    assert history.migrate() == [fn.__name__ for fn in MIGRATIONS[2:]]
    assert history.session("old").status == "finished"
    states = {(k.learner, k.keyword): k for learner in ("", "kim") for k in history.keyword_progress(learner)}
    assert len(states) == 3
    for learner, card_id, keyword, asked, covered, _box, verdict, last_seen, due, session_id, _ in rows:
        k = states[(learner, keyword)]
        assert (k.card_id, k.asked, k.covered, k.last_verdict, k.last_seen, k.due_at, k.session_id) == \
            (card_id, asked, covered, verdict, last_seen, due, session_id)
    box3, box1, box5 = states[("", "co-adaptation 방지")], states[("", "다양한 모델 학습")], states[("kim", "다양한 모델 학습")]
    assert (box3.state, box3.stability, box5.state, box5.stability) == (2, 3.0, 2, 14.0)  # review, days
    assert (box1.state, box1.step, box1.stability) == (1, 0, None)  # still learning: due at once
    assert box1.prev_card is None and box3.prev_card is not None  # a first review has nothing to revise to
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(keyword_progress)")}
    assert not {"box", "prev_box"} & columns
    assert SQLiteHistory(path).migrate() == []


def test_keyword_progress_round_trip_and_due_filter(store: History):
    history = store
    states = [KeywordState(learner="", card_id="a", keyword=kw, asked=1, covered=0, last_verdict="missing",
                           last_seen="2026-11-01T00:00:00.000+00:00", due_at=due, session_id="s1", state=1, step=0,
                           stability=0.2, difficulty=7.5, last_review="2026-11-01T00:00:00.000+00:00",
                           best_evidence="학습률이 크면", best_verdict="partial")
              for kw, due in (("학습률", "2026-11-01T00:00:00.000+00:00"), ("momentum", "2026-11-09T00:00:00.000+00:00"))]
    with history.transaction() as tx:
        for state in states:
            tx.save_keyword_state(state)
        assert tx.keyword_states("", "a") == {s.keyword: s for s in states}
    assert history.keyword_progress("") == states
    assert history.keyword_progress("", due_by="2026-11-05T00:00:00.000+00:00") == states[:1]
    assert history.keyword_progress("kim") == []


def test_session_turn_and_event_round_trip(store: History):
    history = store
    session = make_session()
    turn = Turn(session_id="s1", seq=1, main_index=1, kind="main", card_id="a", question="질문 A?")
    with history.transaction() as tx:
        tx.create_session(session)
        tx.ask(turn)
    assert history.turns("s1")[0].pending
    turn.answer, turn.outcome, turn.answered_at, turn.grade = "학습률이 크면 발산합니다", "answered", "t", make_grade()
    turn.hints_used = 1
    with history.transaction() as tx:
        tx.hint(turn)
        tx.answer(turn)
        tx.event("s1", "hint", turn.id, keyword="momentum")
    [stored] = history.turns("s1")
    assert stored.answer == "학습률이 크면 발산합니다" and stored.outcome == "answered"
    assert stored.grade == make_grade() and stored.hints_used == 1 and not stored.pending
    loaded = history.session("s1")
    assert (loaded.topics, loaded.plan, loaded.seed, loaded.status) == (["optimization"], ["a", "b"], 7, "running")
    assert history.events("s1")[0]["data"] == {"keyword": "momentum"}
    assert [s.id for s in history.sessions(status="running")] == ["s1"]
    with history.transaction() as tx:
        tx.finish(loaded)
    assert history.session("s1").status == "finished" and history.sessions(status="running") == []


def test_a_failed_step_writes_nothing(store: History):
    history = store
    with history.transaction() as tx:
        tx.create_session(make_session())
    with pytest.raises(RuntimeError), history.transaction() as tx:
        tx.ask(Turn(session_id="s1", seq=1, main_index=1, kind="main", card_id="a", question="Q"))
        raise RuntimeError("crash between the writes of one step")
    assert history.turns("s1") == []


def test_unknown_session_is_a_user_error(store: History):
    with pytest.raises(UserError, match="unknown session id"):
        store.session("nope")
    with pytest.raises(UserError, match="unknown session id"), store.event("nope"):
        pass


def test_foreign_sqlite_file_is_refused_not_written(tmp_path: Path):
    path = tmp_path / "other.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (x)")
    db.commit()
    db.close()
    with pytest.raises(UserError, match="other.sqlite3: not an interviewer history database"):
        SQLiteHistory(path).migrate()
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert tables == {"notes"}


def test_corrupt_file_names_the_file(tmp_path: Path):
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(UserError, match="broken.sqlite3"):
        SQLiteHistory(path).migrate()
