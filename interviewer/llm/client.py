"""The transport: the one place that talks to the model.

Replies stream with a deadline and show as a draft while they grow; every call and failure is
counted on the stats of the interview being served (`calls.counting`), else on the
client's own. After repeated connection failures the server is left alone for a while.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from interviewer.llm.calls import VoiceStats, session_stats, show_draft
from interviewer.llm.failures import FAILURE_NOTICES, LLMFailure

MAX_REPLY_CHARS = 700   # stop reading a stream that runs on
COOLDOWN = 60.0         # after repeated connection failures, stay with the templates this long
TOOLING = "LLM이 numpy 예시를 준비하고 있습니다…"  # shown while a tool-bound call runs (it does not stream)


class LLMClient:
    """Streaming with a deadline, the reply shown as a draft while it grows, calls and failures
    counted on the current interview's stats (else `own`)."""

    def __init__(self, chat_model: Any, own: VoiceStats, timeout: float = 30.0):
        self.chat_model = chat_model
        self.own = own
        self.timeout = timeout
        self._down_until = 0.0
        self._connection_failures = 0

    @property
    def stats(self) -> VoiceStats:
        return session_stats(self.own)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def text(self, messages: Sequence[Any], status: str | None = None) -> str:
        """The streamed reply, raw. Raises LLMFailure; counts the call (not the validation).
        The draft shows the reply as it grows, or `status` when the reply is not prose."""
        self.stats.calls += 1
        deadline = time.monotonic() + self.timeout
        reply = ""
        if status:
            show_draft(status)
        try:
            for chunk in self.chat_model.stream(messages):
                piece = chunk_text(chunk)
                reply += piece
                if piece and not status:
                    show_draft(reply)
                if len(reply) >= MAX_REPLY_CHARS:
                    break  # enough: the rest would be cut anyway
                if time.monotonic() > deadline:
                    raise LLMFailure("timeout", f"over {self.timeout:.0f}s")
        except LLMFailure:
            raise
        except Exception as exc:  # any transport or server error means: use the template
            raise classify(exc) from exc
        finally:
            show_draft("")
        self._connection_failures = 0
        return reply

    def message(self, messages: Sequence[Any], tools: list[Any]) -> Any:
        """One non-streamed turn with tools bound (tool-call chunks are assembled by LangChain)."""
        self.stats.calls += 1
        show_draft(TOOLING)
        try:
            return self.chat_model.bind_tools(tools).invoke(messages)
        except Exception as exc:
            raise classify(exc) from exc
        finally:
            show_draft("")

    def fail(self, failure: LLMFailure) -> None:
        """Count a failure and queue its one-line notice (once until the chat shows it)."""
        stats = self.stats
        stats.failures += 1
        if failure.kind in ("unreachable", "timeout"):
            self._connection_failures += 1
            if self._connection_failures >= 2:
                self._down_until = time.monotonic() + COOLDOWN
        notice = FAILURE_NOTICES.get(failure.kind, FAILURE_NOTICES["error"])
        if notice not in stats.notices:
            stats.notices.append(notice)


def chunk_text(chunk: Any) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(block.get("text", "") if isinstance(block, dict) else str(block) for block in content)
    return ""


def classify(exc: Exception) -> LLMFailure:
    # By the OpenAI client's own exception types: it wraps its HTTP library's errors in them, and that
    # library changes between releases (httpx, then httpx2 in openai 3).
    import openai

    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return LLMFailure("timeout", str(exc))
    if isinstance(exc, openai.APIConnectionError | ConnectionError):
        return LLMFailure("unreachable", str(exc))
    if isinstance(exc, openai.APIStatusError):
        return LLMFailure("http", f"{exc.status_code}")
    if isinstance(exc, NotImplementedError):
        return LLMFailure("tools", str(exc))
    if isinstance(exc, ValueError) and "No generation chunks" in str(exc):
        return LLMFailure("empty", "the stream ended without a chunk")  # LangChain's words for it
    return LLMFailure("error", f"{type(exc).__name__}: {exc}")
