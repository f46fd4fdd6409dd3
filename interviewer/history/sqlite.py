"""Interview history: sessions, turns (question, answer, grade), events, and each learner's progress
per key point (an FSRS card each, see `interviewer.history.progress`), behind one `History` interface.

Two stores hold it with the same schema (`interviewer.history.migrations`) and the same SQL: SQLite under
INTERVIEWER_HOME (`SQLiteHistory`, here: the embedded default, WAL so readers never block the
interview) and PostgreSQL at INTERVIEWER_DATABASE_URL (`interviewer.history.postgres`, for several app
replicas on one history). Nothing is lost: each question is written when it is asked, each answer
with its grade when it is given, one transaction per step. An event on a session (`History.event`)
reads the session as the store holds it now and writes through that scope, so whichever process
handles the next event of a session sees every step before it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from interviewer.core.errors import UserError
from interviewer.core.models import Grade, from_json, to_json
from interviewer.core.records import KeywordState, SessionRecord, Turn, now
from interviewer.history.migrations import MIGRATIONS, Database

Row = Any  # sqlite3.Row or psycopg's dict row: both read by column name
# Marks the file as ours, so a foreign SQLite database is refused instead of being written into.
APPLICATION_ID = 0x494E5456  # "INTV"
BUSY_TIMEOUT_MS = 10_000

def _json_or_none(grade: Grade | None) -> str | None:
    return to_json(grade) if grade is not None else None


def _grade_or_none(text: str | None) -> Grade | None:
    return from_json(Grade, text) if text else None


def _session_from_row(row: Row) -> SessionRecord:
    data = dict(row)
    data["topics"] = json.loads(data["topics"])
    data["plan"] = json.loads(data["plan"])
    return SessionRecord(**data)


def _turn_from_row(row: Row) -> Turn:
    data = dict(row)
    data.pop("score"), data.pop("grade")
    data["grade"] = _grade_or_none(data.pop("grade_json"))
    data["merged"] = _grade_or_none(data.pop("merged_json"))
    data["truncated"] = bool(data["truncated"])
    return Turn(**data)


class Tx:
    """The writes of one engine step, committed together or not at all. The SQL is the same for both
    stores (`?` placeholders; PostgreSQL's adapter turns them into its own)."""

    def __init__(self, db: Database):
        self.db = db

    def create_session(self, s: SessionRecord) -> None:
        s.updated_at = s.started_at
        self.db.execute(
            "INSERT INTO sessions (id, started_at, updated_at, finished_at, status, client, feedback_mode,"
            " n_questions, max_follow_ups, topics, seed, plan, llm_backend, llm_model)"
            " VALUES (?, ?, ?, NULL, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (s.id, s.started_at, s.updated_at, s.client, s.feedback_mode, s.n_questions,
             s.max_follow_ups, json.dumps(s.topics, ensure_ascii=False), s.seed, json.dumps(s.plan),
             s.llm_backend, s.llm_model))

    def ask(self, turn: Turn) -> None:
        row = self.db.execute(
            "INSERT INTO turns (session_id, seq, main_index, kind, card_id, parent_card_id, probe_keyword,"
            " question, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (turn.session_id, turn.seq, turn.main_index, turn.kind, turn.card_id, turn.parent_card_id,
             turn.probe_keyword, turn.question, turn.asked_at)).fetchall()[0]  # stepped to the end: SQLite
        turn.id = row["id"]
        self.touch(turn.session_id)

    def answer(self, turn: Turn) -> None:
        result = turn.result
        self.db.execute(
            "UPDATE turns SET answer = ?, answered_at = ?, outcome = ?, grade_json = ?, merged_json = ?,"
            " score = ?, grade = ?, truncated = ? WHERE id = ?",
            (turn.answer, turn.answered_at, turn.outcome, _json_or_none(turn.grade),
             _json_or_none(turn.merged), result.score if result else None,
             result.grade if result else None, int(turn.truncated), turn.id))
        self.touch(turn.session_id)

    def hint(self, turn: Turn) -> None:
        self.db.execute("UPDATE turns SET hints_used = ? WHERE id = ?", (turn.hints_used, turn.id))

    def event(self, session_id: str, kind: str, turn_id: int | None = None, **data) -> None:
        self.db.execute("INSERT INTO events (session_id, turn_id, at, kind, data) VALUES (?, ?, ?, ?, ?)",
                        (session_id, turn_id, now(), kind, json.dumps(data, ensure_ascii=False)))

    def finish(self, s: SessionRecord) -> None:
        s.status, s.finished_at = "finished", now()
        self.db.execute(
            "UPDATE sessions SET status = 'finished', finished_at = ?, updated_at = ?, llm_calls = ?,"
            " llm_failures = ? WHERE id = ?",
            (s.finished_at, s.finished_at, s.llm_calls, s.llm_failures, s.id))

    def llm_usage(self, s: SessionRecord) -> None:
        self.db.execute("UPDATE sessions SET llm_calls = ?, llm_failures = ? WHERE id = ?",
                        (s.llm_calls, s.llm_failures, s.id))

    def touch(self, session_id: str) -> None:
        self.db.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now(), session_id))

    def keyword_states(self, learner: str, card_id: str) -> dict[str, KeywordState]:
        rows = self.db.execute("SELECT * FROM keyword_progress WHERE learner = ? AND card_id = ?",
                               (learner, card_id)).fetchall()
        return {row["keyword"]: KeywordState(**dict(row)) for row in rows}

    def save_keyword_state(self, k: KeywordState) -> None:
        row = asdict(k)
        key = ("learner", "card_id", "keyword")
        self.db.execute(f"INSERT INTO keyword_progress ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})"
                        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                        + ", ".join(f"{name} = excluded.{name}" for name in row if name not in key),
                        tuple(row.values()))


def load_session(db: Database, session_id: str, lock: str = "") -> SessionRecord:
    """The session row (`lock`: PostgreSQL's `FOR UPDATE`, held until the transaction ends)."""
    row = db.execute(f"SELECT * FROM sessions WHERE id = ?{lock}", (session_id,)).fetchone()
    if row is None:
        raise UserError(f"unknown session id: {session_id!r}")
    return _session_from_row(row)


def load_turns(db: Database, session_id: str) -> list[Turn]:
    rows = db.execute("SELECT * FROM turns WHERE session_id = ? ORDER BY seq", (session_id,)).fetchall()
    return [_turn_from_row(row) for row in rows]


@dataclass
class EventScope:
    """One event on a session: the session and its turns as the store holds them when the event
    starts, and where the event's writes go (`transaction()`)."""

    session: SessionRecord
    turns: list[Turn]
    transaction: Callable[[], AbstractContextManager[Tx]]


class History:
    """The interface both stores share: migrate, write a step (`transaction`), handle one event of a
    session (`event`), and the reads. A store implements `migrate`, `_read`, `transaction`, `event`."""

    where = ""  # the store as messages name it (a path, a URL without its password)

    def migrate(self) -> list[str]:
        """Create or upgrade the schema; returns the names of the migrations applied now."""
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Database]:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def event(self, session_id: str) -> AbstractContextManager[EventScope]:
        """The scope of one event of `session_id`; events of one session never overlap in it."""
        raise NotImplementedError

    def session(self, session_id: str) -> SessionRecord:
        with self._read() as db:
            return load_session(db, session_id)

    def turns(self, session_id: str) -> list[Turn]:
        with self._read() as db:
            return load_turns(db, session_id)

    def events(self, session_id: str) -> list[dict]:
        with self._read() as db:
            rows = db.execute("SELECT * FROM events WHERE session_id = ? ORDER BY id", (session_id,)).fetchall()
        return [{**dict(row), "data": json.loads(row["data"])} for row in rows]

    def sessions(self, status: str | None = None, limit: int = 50, client: str | None = None) -> list[SessionRecord]:
        """Most recently active first; optionally only those with `status`, or of `client`."""
        where = {"status = ?": status, "client = ?": client}
        clauses = [clause for clause, value in where.items() if value]
        query = "SELECT * FROM sessions" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        params = [value for value in where.values() if value]
        with self._read() as db:
            rows = db.execute(query + " ORDER BY updated_at DESC, id LIMIT ?", (*params, limit)).fetchall()
        return [_session_from_row(row) for row in rows]

    def keyword_progress(self, learner: str, due_by: str | None = None) -> list[KeywordState]:
        """One learner's key points; with `due_by`, only those due by then, soonest first."""
        query, params = "SELECT * FROM keyword_progress WHERE learner = ?", [learner]
        if due_by is not None:
            query, params = query + " AND due_at <= ?", [learner, due_by]
        with self._read() as db:
            rows = db.execute(query + " ORDER BY due_at, card_id, keyword", params).fetchall()
        return [KeywordState(**dict(row)) for row in rows]


class SQLiteHistory(History):
    """The embedded store, one file. Connections are short-lived and per call, so any thread may use
    it; one process serves its sessions, so an event needs no lock here beyond the interview's own."""

    def __init__(self, path: Path):
        self.path = path
        self.where = str(path)
        self._migrated = False
        self._lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise UserError(f"{self.path}: cannot open the history database: {exc}") from None
        db.row_factory = sqlite3.Row
        try:
            yield db
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise UserError(f"{self.path}: not a readable SQLite database ({exc})") from None
            raise
        finally:
            db.close()

    def migrate(self) -> list[str]:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                applied = self._apply_migrations(db)
            self._migrated = True
            return applied

    def _apply_migrations(self, db: sqlite3.Connection) -> list[str]:
        self._check_ours(db)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
        applied = []
        for fn in MIGRATIONS:
            if fn.__name__ in done:
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                fn(db)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (fn.__name__, now()))
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            applied.append(fn.__name__)
        return applied

    def _check_ours(self, db: sqlite3.Connection) -> None:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if app_id != APPLICATION_ID and (app_id != 0 or tables):
            raise UserError(f"{self.path}: not an interviewer history database; "
                            "move it away or set INTERVIEWER_HOME to another directory")

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        if not self._migrated:
            self.migrate()
        with self._connect() as db:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        if not self._migrated:
            self.migrate()
        with self._connect() as db:
            yield db

    @contextmanager
    def event(self, session_id: str) -> Iterator[EventScope]:
        """The session as stored, and a short write transaction per step: holding SQLite's one write
        lock while an answer is graded would make every other session wait for it."""
        with self._read() as db:
            session, turns = load_session(db, session_id), load_turns(db, session_id)
        yield EventScope(session, turns, self.transaction)

    def journal_mode(self) -> str:
        with self._read() as db:
            return db.execute("PRAGMA journal_mode").fetchone()[0]
