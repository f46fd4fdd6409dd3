"""The bookkeeping of LLM calls: which interview a call is counted for, and where its streamed text is
shown while it is written.

One voice serves every session of the app at once, each event in its own thread. So which
interview an LLM call is counted for (`counting`) and where its streamed text is shown while it is
written (`drafting`) are context variables set around an event, not attributes of the voice.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar


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
