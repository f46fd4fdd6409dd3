"""Interview history in SQLite under INTERVIEWER_HOME: sessions, turns (question, answer, grade), events,
and each learner's progress per key point (an FSRS card each, see `interviewer.progress`).

Nothing is lost: each question is written when it is asked, each answer with its grade when it is
given, one transaction per step, in WAL mode so readers (a report, the history tab) never block the
interview. Schema changes are append-only migrations recorded by name (`m001_...`), applied in order.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from interviewer.errors import UserError
from interviewer.models import Grade, from_json, to_json

# Marks the file as ours, so a foreign SQLite database is refused instead of being written into.
APPLICATION_ID = 0x494E5456  # "INTV"
BUSY_TIMEOUT_MS = 10_000

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Statement by statement: `executescript` would commit the migration's transaction midway."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    _run_script(db, """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'finished')),
            client TEXT NOT NULL,
            feedback_mode TEXT NOT NULL CHECK (feedback_mode IN ('immediate', 'end')),
            n_questions INTEGER NOT NULL,
            max_follow_ups INTEGER NOT NULL,
            topics TEXT NOT NULL,          -- JSON list of the topic filter as given
            seed INTEGER NOT NULL,
            plan TEXT NOT NULL,            -- JSON list of the main card ids, in order
            llm_backend TEXT NOT NULL,
            llm_model TEXT,
            llm_calls INTEGER NOT NULL DEFAULT 0,
            llm_failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE turns (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            seq INTEGER NOT NULL,
            main_index INTEGER NOT NULL,   -- 1-based number of the main question this turn belongs to
            kind TEXT NOT NULL CHECK (kind IN ('main', 'follow_up', 'probe')),
            card_id TEXT NOT NULL,
            parent_card_id TEXT,           -- the main card, for follow-ups and probes
            probe_keyword TEXT,            -- the missed key point a probe aims at
            question TEXT NOT NULL,
            asked_at TEXT NOT NULL,
            answer TEXT,
            answered_at TEXT,
            outcome TEXT CHECK (outcome IN ('answered', 'skipped', 'dont_know')),
            grade_json TEXT,               -- this answer alone (models.to_json(Grade))
            merged_json TEXT,              -- the card over the main answer and its probes
            score INTEGER,
            grade INTEGER,
            hints_used INTEGER NOT NULL DEFAULT 0,
            truncated INTEGER NOT NULL DEFAULT 0,
            UNIQUE (session_id, seq)
        );
        CREATE INDEX turns_by_card ON turns(card_id);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            turn_id INTEGER REFERENCES turns(id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_by_session ON events(session_id);
    """)


@migration
def m002_keyword_progress(db: sqlite3.Connection) -> None:
    _run_script(db, """
        CREATE TABLE keyword_progress (
            learner TEXT NOT NULL,         -- '' for the local user, the login behind --auth otherwise
            card_id TEXT NOT NULL,
            keyword TEXT NOT NULL,
            asked INTEGER NOT NULL,        -- sessions in which the key point was graded
            covered INTEGER NOT NULL,      -- of those, sessions that ended with it covered
            box INTEGER NOT NULL,          -- Leitner box, 1..5
            last_verdict TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            due_at TEXT NOT NULL,
            session_id TEXT NOT NULL,      -- the session of the last update
            prev_box INTEGER NOT NULL,     -- the box before that session, so a probe can revise its verdict
            PRIMARY KEY (learner, card_id, keyword)
        );
        CREATE INDEX keyword_progress_due ON keyword_progress(learner, due_at)
    """)


# m003: what a Leitner box meant, as the FSRS card that schedules the same way. At 90 % retention an
# FSRS interval equals the card's stability in days, so a box's interval is the stability it becomes;
# box 1 (due at once) becomes a card still learning. The difficulty is the one FSRS 6 gives a card
# first rated Good. Frozen here: the migration must convert the same way whatever fsrs is installed.
LEITNER_STABILITY = {2: 1.0, 3: 3.0, 4: 7.0, 5: 14.0}
LEITNER_DIFFICULTY = 2.118103970459016
FSRS_LEARNING, FSRS_REVIEW = 1, 2


def _card_of_box(box: int, last_review: str, due: str) -> dict:
    """An FSRS card (`fsrs.Card.to_dict()` minus its id) scheduling like Leitner box `box`."""
    if box in LEITNER_STABILITY:
        return {"state": FSRS_REVIEW, "step": None, "stability": LEITNER_STABILITY[box],
                "difficulty": LEITNER_DIFFICULTY, "due": due, "last_review": last_review}
    return {"state": FSRS_LEARNING, "step": 0, "stability": None, "difficulty": None, "due": due,
            "last_review": last_review}


@migration
def m003_fsrs_cards(db: sqlite3.Connection) -> None:
    """Leitner boxes become FSRS cards; counts, verdicts, times and due dates are kept as they were."""
    _run_script(db, """
        CREATE TABLE keyword_progress_fsrs (
            learner TEXT NOT NULL,         -- '' for the local user, the login behind --auth otherwise
            card_id TEXT NOT NULL,
            keyword TEXT NOT NULL,
            asked INTEGER NOT NULL,        -- sessions in which the key point was graded
            covered INTEGER NOT NULL,      -- of those, sessions that ended with it covered
            last_verdict TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            due_at TEXT NOT NULL,          -- the FSRS card's due date
            session_id TEXT NOT NULL,      -- the session of the last update
            state INTEGER NOT NULL,        -- fsrs.State: 1 learning, 2 review, 3 relearning
            step INTEGER,                  -- the (re)learning step, NULL in review
            stability REAL,                -- days, NULL before the first review
            difficulty REAL,               -- 1..10, NULL before the first review
            last_review TEXT,
            prev_card TEXT,                -- JSON of the FSRS card before that session, so a probe can revise
                                           -- its step (NULL when the session was the first review)
            best_evidence TEXT,            -- the candidate's best quote for it so far
            best_verdict TEXT,             -- the verdict that quote got (covered beats partial)
            PRIMARY KEY (learner, card_id, keyword)
        )
    """)
    rows = db.execute("SELECT * FROM keyword_progress").fetchall()
    for row in rows:
        (learner, card_id, keyword, asked, covered, box, last_verdict, last_seen, due_at, session_id,
         prev_box) = tuple(row)
        card = _card_of_box(box, last_seen, due_at)
        # Before that session's step the key point was in prev_box; a first review had no card yet.
        prev = None if asked <= 1 else _card_of_box(prev_box, last_seen, last_seen)
        db.execute("INSERT INTO keyword_progress_fsrs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                   (learner, card_id, keyword, asked, covered, last_verdict, last_seen, due_at, session_id,
                    card["state"], card["step"], card["stability"], card["difficulty"], card["last_review"],
                    json.dumps(prev) if prev else None))
    _run_script(db, """
        DROP TABLE keyword_progress;
        ALTER TABLE keyword_progress_fsrs RENAME TO keyword_progress;
        CREATE INDEX keyword_progress_due ON keyword_progress(learner, due_at)
    """)


def stamp(moment: datetime) -> str:
    """The one timestamp format of the store: UTC ISO 8601, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def now() -> str:
    return stamp(datetime.now(UTC))


@dataclass
class SessionRecord:
    id: str
    client: str
    feedback_mode: str
    n_questions: int
    max_follow_ups: int
    topics: list[str]
    seed: int
    plan: list[str]
    llm_backend: str = "none"
    llm_model: str | None = None
    started_at: str = field(default_factory=now)
    updated_at: str = ""
    finished_at: str | None = None
    status: str = "running"
    llm_calls: int = 0
    llm_failures: int = 0


@dataclass
class Turn:
    session_id: str
    seq: int
    main_index: int
    kind: str
    card_id: str
    question: str
    parent_card_id: str | None = None
    probe_keyword: str | None = None
    asked_at: str = field(default_factory=now)
    id: int | None = None
    answer: str | None = None
    answered_at: str | None = None
    outcome: str | None = None
    grade: Grade | None = None
    merged: Grade | None = None
    hints_used: int = 0
    truncated: bool = False

    @property
    def pending(self) -> bool:
        return self.outcome is None

    @property
    def result(self) -> Grade | None:
        """The grade that counts for the card: merged over probes when there is one."""
        return self.merged or self.grade


@dataclass
class KeywordState:
    """Where one key point stands for one learner (a row of `keyword_progress`)."""

    learner: str
    card_id: str
    keyword: str
    asked: int
    covered: int
    last_verdict: str
    last_seen: str
    due_at: str
    session_id: str
    state: int  # fsrs.State
    step: int | None
    stability: float | None
    difficulty: float | None
    last_review: str | None
    prev_card: str | None = None  # JSON of the FSRS card before `session_id`'s step
    best_evidence: str | None = None
    best_verdict: str | None = None


def _json_or_none(grade: Grade | None) -> str | None:
    return to_json(grade) if grade is not None else None


def _grade_or_none(text: str | None) -> Grade | None:
    return from_json(Grade, text) if text else None


def _session_from_row(row: sqlite3.Row) -> SessionRecord:
    data = dict(row)
    data["topics"] = json.loads(data["topics"])
    data["plan"] = json.loads(data["plan"])
    return SessionRecord(**data)


def _turn_from_row(row: sqlite3.Row) -> Turn:
    data = dict(row)
    data.pop("score"), data.pop("grade")
    data["grade"] = _grade_or_none(data.pop("grade_json"))
    data["merged"] = _grade_or_none(data.pop("merged_json"))
    data["truncated"] = bool(data["truncated"])
    return Turn(**data)


class Tx:
    """The writes of one engine step, committed together or not at all."""

    def __init__(self, db: sqlite3.Connection):
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
        cursor = self.db.execute(
            "INSERT INTO turns (session_id, seq, main_index, kind, card_id, parent_card_id, probe_keyword,"
            " question, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (turn.session_id, turn.seq, turn.main_index, turn.kind, turn.card_id, turn.parent_card_id,
             turn.probe_keyword, turn.question, turn.asked_at))
        turn.id = cursor.lastrowid
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
        self.db.execute(f"INSERT OR REPLACE INTO keyword_progress ({', '.join(row)})"
                        f" VALUES ({', '.join('?' for _ in row)})", tuple(row.values()))


class History:
    """The SQLite store. Connections are short-lived and per call, so any thread may use it."""

    def __init__(self, path: Path):
        self.path = path
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
        """Create or upgrade the schema; returns the names of the migrations applied now."""
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

    def session(self, session_id: str) -> SessionRecord:
        with self._read() as db:
            row = db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise UserError(f"unknown session id: {session_id!r}")
        return _session_from_row(row)

    def turns(self, session_id: str) -> list[Turn]:
        with self._read() as db:
            rows = db.execute("SELECT * FROM turns WHERE session_id = ? ORDER BY seq", (session_id,)).fetchall()
        return [_turn_from_row(row) for row in rows]

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
            rows = db.execute(query + " ORDER BY updated_at DESC LIMIT ?", (*params, limit)).fetchall()
        return [_session_from_row(row) for row in rows]

    def keyword_progress(self, learner: str, due_by: str | None = None) -> list[KeywordState]:
        """One learner's key points; with `due_by`, only those due by then, soonest first."""
        query, params = "SELECT * FROM keyword_progress WHERE learner = ?", [learner]
        if due_by is not None:
            query, params = query + " AND due_at <= ?", [learner, due_by]
        with self._read() as db:
            rows = db.execute(query + " ORDER BY due_at, card_id, keyword", params).fetchall()
        return [KeywordState(**dict(row)) for row in rows]

    def journal_mode(self) -> str:
        with self._read() as db:
            return db.execute("PRAGMA journal_mode").fetchone()[0]
