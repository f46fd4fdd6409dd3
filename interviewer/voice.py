"""How the interviewer words things: the contract, and the deterministic Korean templates.

The interview engine asks a voice for the words it records (the questions it asks, the feedback
prose and the closing line). `TemplateVoice` needs nothing; the LLM voice (`interviewer.llm.voice`)
subclasses it and falls back to these templates whenever a call fails.
Templates vary their phrasing by a hash of the card (never by randomness), so a session replays
the same way and tests can rely on the wording's shape.

One voice serves every session of the app at once, each event in its own thread. So which
interview an LLM call is counted for (`counting`) and where its streamed text is shown while it is
written (`drafting`) are context variables set around an event, not attributes of the voice.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from interviewer.models import Card, Grade, KeyPoint

if TYPE_CHECKING:
    from interviewer.report import Report

ASK_OPENERS = ("", "다음 질문입니다. ", "이어서 여쭤볼게요. ")
FOLLOW_UP_OPENERS = (
    "말씀하신 내용과 이어지는 질문을 드릴게요.",
    "조금 더 깊이 들어가 보겠습니다.",
    "관련해서 꼬리 질문입니다.",
)
PROBES_WITH_CATEGORY = (
    "좋습니다. 그런데 {category} 측면에서는 어떨까요? 방금 말씀하신 것 외에 더 생각나는 점이 있을까요?",
    "방금 답변 외에 다른 이유는 없을까요? 특히 {category} 쪽을 생각해 보시면 좋겠습니다.",
    "한 가지만 더 여쭤볼게요. {category} 관점에서 보충 설명을 해 주시겠어요?",
)
PROBES_PLAIN = (
    "방금 말씀하신 것 외에 다른 요인은 없을까요? '{title}'에 대해 조금 더 설명해 주시겠어요?",
    "좋습니다. 그 밖에 중요한 점이 하나 더 있는데, 무엇일까요?",
    "한 가지 빠진 부분이 있는 것 같아요. 조금 더 보충해 주시겠어요?",
)


def pick(options: tuple[str, ...], *keys: str) -> str:
    """A stable choice among phrasings, keyed by the card (and key point), never random."""
    digest = hashlib.sha1("\x1f".join(keys).encode("utf-8")).digest()
    return options[digest[0] % len(options)]


@dataclass
class VoiceStats:
    backend: str = "none"
    model: str | None = None
    calls: int = 0
    failures: int = 0
    notices: list[str] = field(default_factory=list)

    def drain_notices(self) -> list[str]:
        """One-line notices for the chat (e.g. an LLM failure), each shown once."""
        notices, self.notices = self.notices, []
        return notices

    @property
    def label(self) -> str:
        """The LLM mode as the UI shows it."""
        if self.backend == "none":
            return "LLM 없음 (템플릿 면접관)"
        return f"{self.backend} · {self.model or '기본 모델'}"


_SESSION_STATS: ContextVar[VoiceStats | None] = ContextVar("interviewer_session_stats", default=None)
_DRAFT_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("interviewer_draft_sink", default=None)
T = TypeVar("T")
Y = TypeVar("Y")


@contextmanager
def counting(stats: VoiceStats) -> Iterator[VoiceStats]:
    """LLM calls, failures and notices inside this block are counted on `stats` (one interview's)."""
    token = _SESSION_STATS.set(stats)
    try:
        yield stats
    finally:
        _SESSION_STATS.reset(token)


def session_stats(default: VoiceStats) -> VoiceStats:
    """The stats of the interview being served, else `default` (a call outside any interview)."""
    stats = _SESSION_STATS.get()
    return default if stats is None else stats


@contextmanager
def drafting(sink: Callable[[str], None]) -> Iterator[None]:
    """Inside this block `sink` gets each LLM reply as it streams (the text so far; '' when the
    call is over), so a shell can show it before the validated final message replaces it."""
    token = _DRAFT_SINK.set(sink)
    try:
        yield
    finally:
        _DRAFT_SINK.reset(token)


def show_draft(text: str) -> None:
    sink = _DRAFT_SINK.get()
    if sink is not None:
        sink(text)


_DONE = object()


def stream_drafts(work: Callable[[], T], render: Callable[[str], Y],
                  interval: float = 0.15) -> Generator[Y, None, T]:
    """Run `work` in a thread; while it runs, yield `render(draft)` for the newest LLM draft at most
    every `interval` seconds; return work's result (or raise its exception). For a UI that redraws
    while the LLM writes: `reply = yield from stream_drafts(...)` inside a Gradio generator."""
    updates: queue.Queue = queue.Queue()
    outcome: dict = {}

    def run() -> None:
        try:
            with drafting(updates.put):
                outcome["result"] = work()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            updates.put(_DONE)

    threading.Thread(target=run, name="llm-drafts", daemon=True).start()
    while True:
        batch = [updates.get()]
        deadline = time.monotonic() + interval
        while batch[-1] is not _DONE and (left := deadline - time.monotonic()) > 0:
            try:
                batch.append(updates.get(timeout=left))
            except queue.Empty:
                break
        if batch[-1] is _DONE:
            break
        yield render(batch[-1])
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


class TemplateVoice:
    """No LLM: fixed Korean phrasings. Every method returns a complete, usable sentence."""

    def __init__(self) -> None:
        self.stats = VoiceStats()

    def ask(self, card: Card, number: int, total: int) -> str:
        opener = "" if number == 1 else pick(ASK_OPENERS, card.id)
        return f"**[질문 {number}/{total}]** {opener}{card.title}"

    def follow_up(self, card: Card, parent: Card) -> str:
        return f"{pick(FOLLOW_UP_OPENERS, card.id)} **{card.title}**"

    def probe(self, card: Card, missed: KeyPoint, answer: str) -> str:
        """Aim at a missed key point without naming it: only its category may show."""
        if missed.category:
            return pick(PROBES_WITH_CATEGORY, card.id, missed.keyword).format(category=missed.category)
        return pick(PROBES_PLAIN, card.id, missed.keyword).format(title=card.title)

    def feedback(self, card: Card, grade: Grade, answer: str) -> str | None:
        """Prose feedback beside the keyword table; one line chosen by the grade."""
        if grade.grade >= 4:
            return "핵심을 정확하게 짚으셨습니다."
        if grade.grade >= 3:
            return "대부분 잘 설명하셨어요. 빠진 키워드만 보완하면 좋겠습니다."
        if grade.grade >= 2:
            return "방향은 맞습니다. 빠진 부분을 참고 답변과 비교해 보세요."
        return "아쉬운 답변입니다. 참고 답변을 읽고 핵심 키워드를 정리해 두세요."

    def closing(self, report: Report) -> str | None:
        """The closing line above the report of a finished session."""
        return "수고하셨습니다! 면접이 끝났습니다. 아래 결과를 확인해 보세요."
