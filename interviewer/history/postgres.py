"""The history on PostgreSQL (INTERVIEWER_DATABASE_URL), so several app replicas share one history.

The schema and the SQL are `interviewer.history.sqlite`'s and `interviewer.history.migrations`'s; `PgDatabase`
speaks them to psycopg (placeholders, and the column types listed in `POSTGRES_TYPES`). Connections
come from a pool sized for the app's concurrency. An event of a session (`event`) runs in one
transaction that first locks the session's row (`SELECT ... FOR UPDATE`) and reads its turns, so
two events of one session on different replicas run one after the other, each on what the other
wrote. A lost connection fails the event with one Korean line and rolls its writes back; the pool
checks a connection before lending it, so the next event gets a fresh one.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from interviewer.core.errors import UserError
from interviewer.core.records import now
from interviewer.history.migrations import MIGRATIONS, POSTGRES_TYPES
from interviewer.history.sqlite import EventScope, History, Tx, load_session, load_turns

SETTING = "INTERVIEWER_DATABASE_URL"
# The app handles 8 events and 2 sandbox runs at once (app.CONCURRENCY, app.SANDBOX_CONCURRENCY),
# each holding one connection; the rest serve readers (the history tab, report downloads).
POOL_SIZE = 12
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 10  # waiting for a free connection, or for the server to come back
# How long an event waits for another event of the same session elsewhere: longer than one answer
# with an LLM reply (INTERVIEWER_LLM_TIMEOUT, 30 s by default) takes.
LOCK_TIMEOUT_S = 90
MIGRATION_LOCK = 0x494E5456  # advisory lock: replicas starting at once migrate one after the other
MARKER = "interviewer history"  # the comment on `_migrations` that says the tables are ours
UNREACHABLE = "기록 저장소(PostgreSQL)에 연결할 수 없어 이번 입력은 저장되지 않았습니다. 잠시 후 다시 보내 주세요."
BUSY = "이 면접의 다른 입력을 아직 처리하고 있습니다. 잠시 후 다시 보내 주세요."


def where(url: str) -> str:
    """The database a URL names, without its password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "an invalid PostgreSQL URL"
    user = f"{params['user']}@" if params.get("user") else ""
    return f"postgresql://{user}{params.get('host') or 'localhost'}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class PgDatabase:
    """A psycopg connection speaking the history's SQL: `?` placeholders, SQLite's column types."""

    def __init__(self, conn: psycopg.Connection[Any]):
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        sql = sql.replace("?", "%s")
        if sql.lstrip().upper().startswith("CREATE TABLE"):
            for sqlite_type, postgres_type in POSTGRES_TYPES:
                sql = sql.replace(sqlite_type, postgres_type)
        return self.conn.execute(sql, parameters or None)


class PostgresHistory(History):
    def __init__(self, url: str, pool_size: int = POOL_SIZE):
        self.url = url
        self.where = where(url)
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False, timeout=POOL_TIMEOUT_S,
                                    kwargs={"autocommit": True, "row_factory": dict_row,
                                            "connect_timeout": CONNECT_TIMEOUT_S},
                                    check=ConnectionPool.check_connection, name="interviewer-history")
        self._migrated = False

    def migrate(self) -> list[str]:
        """Connect (a bad URL or an unreachable server is a one-line error naming the setting), refuse
        a database holding other tables, apply what is missing, then open the pool."""
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise UserError(f"{SETTING}: cannot connect to {self.where}: {one_line(exc)}") from None
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                applied = self._apply_migrations(conn)
        finally:
            conn.close()
        if not self._migrated:
            self._pool.open(wait=True, timeout=POOL_TIMEOUT_S)
            atexit.register(self._pool.close)
            self._migrated = True
        return applied

    def _apply_migrations(self, conn: psycopg.Connection[Any]) -> list[str]:
        self._check_ours(conn)
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        conn.execute(f"COMMENT ON TABLE _migrations IS '{MARKER}'")
        done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
        applied = []
        for fn in MIGRATIONS:
            if fn.__name__ in done:
                continue
            with conn.transaction():  # a savepoint: each migration whole or not at all
                fn(PgDatabase(conn))
                conn.execute("INSERT INTO _migrations VALUES (%s, %s)", (fn.__name__, now()))
            applied.append(fn.__name__)
        return applied

    def _check_ours(self, conn: psycopg.Connection[Any]) -> None:
        rows = conn.execute(
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')").fetchall()
        comments = dict(rows)
        if comments and comments.get("_migrations") != MARKER:
            tables = ", ".join(sorted(comments)[:5]) + (" …" if len(comments) > 5 else "")
            raise UserError(f"{self.where}: not an interviewer history database (it holds {tables}); "
                            f"point {SETTING} at an empty database of its own")

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if not self._migrated:
            self.migrate()
        try:
            with self._pool.connection() as conn:
                yield conn
        except errors.LockNotAvailable:
            raise UserError(BUSY) from None
        except (psycopg.OperationalError, PoolTimeout):
            raise UserError(UNREACHABLE) from None

    @contextmanager
    def _read(self) -> Iterator[PgDatabase]:
        with self._connection() as conn:
            yield PgDatabase(conn)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._connection() as conn, conn.transaction():
            yield Tx(PgDatabase(conn))

    @contextmanager
    def event(self, session_id: str) -> Iterator[EventScope]:
        """One transaction for the whole event, begun by locking the session's row: an event of the
        same session on another replica waits here, then reads what this one wrote."""
        with self._connection() as conn, conn.transaction():
            db = PgDatabase(conn)
            db.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'")
            session = load_session(db, session_id, lock=" FOR UPDATE")
            tx = Tx(db)
            yield EventScope(session, load_turns(db, session_id), lambda: nullcontext(tx))

    def close(self) -> None:
        self._pool.close()
