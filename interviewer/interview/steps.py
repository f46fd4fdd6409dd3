"""What an interview event did, as data: the engine returns a `Step`, the presenter words it.

A step is a list of parts in the order the candidate meets them (what the event did, then the
question now waiting or the closing), plus the fields the app's API returns. No part holds text
of ours; text in them comes from the bank, the candidate, the sandbox or the voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from interviewer.core.models import Card, Grade
from interviewer.core.records import Turn

if TYPE_CHECKING:
    from interviewer.reports.report import Report
    from interviewer.sandbox import Demo, SandboxResult


@dataclass(frozen=True)
class Planned:
    """How the plan came out: fewer questions than asked for, review cards first."""

    planned: int
    requested: int
    review: int


@dataclass(frozen=True)
class Intro:
    planned: int
    follow_ups: bool
    feedback_at_end: bool


@dataclass(frozen=True)
class Notices:
    """One-line notices of the voice (an LLM call failed, a template was used), each shown once."""

    texts: list[str]


@dataclass(frozen=True)
class Question:
    """The question now waiting for an answer; `resumed` when an interview picks up again."""

    turn: Turn
    resumed: bool = False


@dataclass(frozen=True)
class EmptyAnswer:
    pass


@dataclass(frozen=True)
class AlreadyFinished:
    pass


@dataclass(frozen=True)
class NoInterview:
    """An event for no session at all (the app before `start`)."""


@dataclass(frozen=True)
class Truncated:
    limit: int
    received: int


@dataclass(frozen=True)
class Feedback:
    grade: Grade
    prose: str | None  # the voice's comment beside the key point lines
    card: Card  # the card graded: its key points' labels and explanations, its reference answer
    reference: bool = False  # done with the card: its reference answer is shown with the feedback


@dataclass(frozen=True)
class Held:
    """Feedback held back until the end (실전 모드)."""


@dataclass(frozen=True)
class Reference:
    """'모르겠습니다': the card's reference answer is shown."""

    card: Card


@dataclass(frozen=True)
class Skipped:
    pass


@dataclass(frozen=True)
class DemoOffer:
    demo: Demo


@dataclass(frozen=True)
class Hint:
    number: int
    total: int
    about: str | None  # the missed key point's category (else the card's topic); None: the probe said it
    clue: str | None = None  # the sentence that explains it, its keywords blanked


@dataclass(frozen=True)
class NoMoreHints:
    pass


@dataclass(frozen=True)
class SandboxRun:
    result: SandboxResult
    demo: Demo | None = None  # None: the candidate's own `/numpy` code


@dataclass(frozen=True)
class NoCode:
    pass


@dataclass(frozen=True)
class DemoHeld:
    """실전 모드 before the end: a demo would show what the feedback holds back."""


@dataclass(frozen=True)
class NoDemo:
    pass


@dataclass(frozen=True)
class Closing:
    notices: list[str]
    prose: str | None
    report: Report


Part = (Planned | Intro | Notices | Question | EmptyAnswer | AlreadyFinished | NoInterview | Truncated
        | Feedback | Held | Reference | Skipped | DemoOffer | Hint | NoMoreHints | SandboxRun | NoCode
        | DemoHeld | NoDemo | Closing)
# Parts that end an answer: the next question or the closing is set apart from them.
OUTCOMES = (Feedback, Held, Reference, Skipped)


@dataclass
class Step:
    session_id: str | None
    parts: list[Part]
    waiting: Turn | None = None  # the question waiting for an answer after the event
    grade: Grade | None = None  # the grade shown for the answer just given; None when held or none
    finished: bool = False
    recorded: bool = False  # the event wrote to the history store
    run: SandboxResult | None = None  # the sandbox run of `/numpy` or `/demo`, figures included
