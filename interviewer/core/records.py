"""What the history keeps, as plain data: a session, its turns, where a learner stands on a key point,
and the one timestamp format of the store. Both history stores read and write these; the engine, the
steps, the scores and the report use them without importing storage code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from interviewer.core.models import Grade


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
