"""The interviewer's wording from an LLM: question transitions, probes, feedback prose and the
closing line, each checked before use; the template's wording whenever a reply is not usable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from interviewer.core.models import Card, Grade, KeyPoint
from interviewer.core.verdicts import VERDICTS
from interviewer.interview.voice import TemplateVoice
from interviewer.llm.calls import VoiceStats
from interviewer.llm.chat_model import build_chat_model
from interviewer.llm.checks import check_prose, revealing_terms
from interviewer.llm.client import LLMClient, chunk_text
from interviewer.llm.config import LLMConfig
from interviewer.llm.failures import LLMFailure
from interviewer.llm.prompts import answer_context, render
from interviewer.llm.tools import numpy_tool, tool_code
from interviewer.reports.markdown import code_block
from interviewer.settings import Settings

if TYPE_CHECKING:
    from interviewer.reports.report import Report

DIGEST_ITEMS = ("평균 점수", "주제별 점수")  # the report's summary items the closing line is told


def build_voice(settings: Settings) -> LLMVoice:
    config = LLMConfig.from_settings(settings)
    return LLMVoice(build_chat_model(config), backend=config.backend, model_name=config.model,
                    timeout=config.timeout, tools=config.tools)


class LLMVoice(TemplateVoice):
    """Asks the LLM for wording; the template answer whenever the LLM's reply is not usable."""

    def __init__(self, chat_model: Any, backend: str = "local", model_name: str | None = None,
                 timeout: float = 30.0, tools: bool = False):
        super().__init__()
        self.stats = VoiceStats(backend=backend, model=model_name)
        self.client = LLMClient(chat_model, self.stats, timeout)
        self.tools = tools

    def ask(self, card: Card, number: int, total: int) -> str:
        situation = "면접의 첫 질문입니다." if number == 1 else f"{total}개 중 {number}번째 질문으로 넘어갑니다."
        line = self._transition(card, situation)
        if line is None:
            return super().ask(card, number, total)
        return f"**[질문 {number}/{total}]** {line} {card.title}"

    def follow_up(self, card: Card, parent: Card, asked: Sequence[str] = ()) -> str:
        line = self._transition(card, f"방금 \"{parent.title}\"에 대한 답변을 들었고, 관련된 꼬리 질문으로 이어갑니다.")
        if line is None:
            return super().follow_up(card, parent, asked)
        return f"{line} **{card.title}**"

    def probe(self, card: Card, missed: KeyPoint, answer: str, asked: Sequence[str] = ()) -> str:
        messages = render("probe", "task", **answer_context(card, answer), keyword=missed.keyword,
                          category=missed.category or "(없음)", explanation=missed.explanation or "(없음)")
        line = self._prose(messages, limit=200, forbidden=revealing_terms([missed.keyword], card.title),
                           shape="question")
        return line if line is not None else super().probe(card, missed, answer, asked)

    def feedback(self, card: Card, grade: Grade, answer: str) -> str | None:
        by_verdict = {v: [kp.keyword for kp in grade.keypoints if kp.verdict == v] for v in VERDICTS}
        messages = render(
            "feedback", "answer", **answer_context(card, answer), tool_hint=self._tool_hint(),
            covered=", ".join(by_verdict["covered"]) or "(없음)", partial=", ".join(by_verdict["partial"]) or "(없음)",
            missed=", ".join(by_verdict["missing"] + by_verdict["contradicted"]) or "(없음)")
        if self.tools and self.client.available:
            text = self._feedback_with_tools(messages)
            if text is not None:
                return text
        line = self._prose(messages, limit=400)
        return line if line is not None else super().feedback(card, grade, answer)

    def closing(self, report: Report) -> str | None:
        line = self._prose(render("feedback", "closing", summary=closing_digest(report)), limit=400)
        return line if line is not None else super().closing(report)

    # internals ---------------------------------------------------------------------------------

    def _transition(self, card: Card, situation: str) -> str | None:
        messages = render("transition", "task", situation=situation, title=card.title)
        return self._prose(messages, limit=120, forbidden=revealing_terms(card.keywords, card.title), shape="line")

    def _prose(self, messages: Sequence[Any], limit: int, forbidden: Sequence[str] = (),
               shape: str = "prose") -> str | None:
        if not self.client.available:
            return None
        try:
            return check_prose(self.client.text(messages), limit, forbidden, shape)
        except LLMFailure as failure:
            self.client.fail(failure)
            return None

    def _tool_hint(self) -> str:
        if not self.tools:
            return ""
        return ("- 숫자 예시가 개념 이해에 도움이 되면 run_numpy 도구로 짧은 numpy 코드를 실행해 "
                "결과를 코멘트에 인용할 수 있습니다. 필요 없으면 도구를 쓰지 않습니다.")

    def _feedback_with_tools(self, messages: list[Any]) -> str | None:
        """Let the model run one numpy snippet in the sandbox, then write its comment; the chat
        shows the code and what it printed below the comment."""
        from langchain_core.messages import ToolMessage

        tool = numpy_tool()
        try:
            first = self.client.message(messages, [tool])
            calls = first.tool_calls or []
            if not calls:
                return check_prose(chunk_text(first), 400)
            code = tool_code(calls[0])
        except LLMFailure as failure:
            self.client.fail(failure)
            if failure.kind in ("tools", "http"):
                self.tools = False  # this server does not do tools: stop offering them
            return None
        output = tool.invoke({"code": code})
        follow = [*messages, first, ToolMessage(content=output, tool_call_id=calls[0].get("id") or "call-0")]
        follow += [ToolMessage(content="(한 번에 하나의 도구 호출만 실행합니다)", tool_call_id=c.get("id") or "")
                   for c in calls[1:]]
        line = self._prose(follow, limit=400)
        if line is None:
            return None
        return f"{line}\n\n{code_block(code.strip(), 'python')}\n\n{code_block(output)}"


def closing_digest(report: Report) -> str:
    """What the closing line needs from the report: the average, the topic scores and the key
    points missed. The whole report would overflow a small local model's context."""
    from interviewer.reports.report import summary_items

    lines = [f"- {label}: {text}" for label, text in summary_items(report) if label in DIGEST_ITEMS]
    missed = dict.fromkeys(kp.keyword for q in report.questions for kp in q.keypoints if kp.verdict != "covered")
    return "\n".join([*lines, f"- 놓친 키워드: {', '.join(missed) or '(없음)'}"])
