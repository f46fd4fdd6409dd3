"""LLM mode: OpenAI or any OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio).

The LLM only ever adds wording (question transitions, probes, feedback prose) and, with
`--llm-judge`, a second opinion on key points the grader is unsure about. Every reply is validated
in code before it is used; a reply that fails (server down, timeout, empty, garbage, not Korean, a
probe that is no question or gives the missed keyword away, a judge quote that is not in the
answer, a malformed tool call) is counted in `VoiceStats.failures`, announced with a one-line
notice, and the deterministic template or verdict is used instead. Nothing here touches the
network until a method is called.

Every prompt starts with the same system message (prompts/common.md), and the prompts about an
answer (judge, feedback, follow-up) with the same context block, so a local server that reuses its
KV cache for a repeated prefix (llama.cpp, vLLM, Ollama) evaluates only each call's own task.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from interviewer.errors import UserError
from interviewer.models import Card, Grade, KeyPoint, KeyPointResult
from interviewer.report import code_block
from interviewer.settings import PACKAGE_ROOT, Settings
from interviewer.text import squash
from interviewer.voice import TemplateVoice, VoiceStats, session_stats, show_draft

BACKENDS = ("none", "openai", "local")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_LOCAL_MODEL = "local"  # llama.cpp and LM Studio ignore the name; Ollama and vLLM need --model
CONNECT_TIMEOUT = 3.0   # a local server that is down refuses at once; a remote one should answer fast
MAX_TOKENS = 160        # replies are one to three sentences
MAX_REPLY_CHARS = 700   # stop reading a stream that runs on
COOLDOWN = 60.0         # after repeated connection failures, stay with the templates this long
PROMPTS_DIR = PACKAGE_ROOT / "prompts"
COMMON = "common"  # the shared system message and answer context, not a role
PROMPT_ROLES = {COMMON: ("system", "context"), "interviewer": ("task",), "follow_up": ("task",),
                "feedback": ("answer", "closing"), "judge": ("task",), "curate": ("task",)}

MIN_HANGUL_SHARE = 0.3  # of the words: Korean prose with English terms is well above, English is 0
HANGUL = re.compile(r"[\uac00-\ud7a3]")
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
SENTENCE_END = re.compile(r"[.?!。]|[다요죠까](?=\s|$)")
DELIMITER = re.compile(r"</?\s*(answer|summary)\s*>", re.IGNORECASE)
MARKUP = re.compile(r"```|^\s*#", re.MULTILINE)  # a code block or a heading in what should be prose
DIGEST_LINES = ("- 평균 점수", "- 주제별 점수")  # summary lines of the report the closing uses
MISSED_KEYWORD = re.compile(r"^- [✗△] \*\*(.+?)\*\*", re.MULTILINE)
ENGLISH_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
MIN_EVIDENCE_CHARS = 4
JUDGED_VERDICTS = ("covered", "partial", "missing", "contradicted")
MAX_JUDGED = 3  # key points per answer sent to the judge; each costs one call
JUDGING = "답변을 LLM이 한 번 더 검토하고 있습니다…"  # shown while a judge call runs (its JSON is not prose)
TOOLING = "LLM이 numpy 예시를 준비하고 있습니다…"

FAILURE_NOTICES = {
    "unreachable": "LLM 서버에 연결하지 못해 기본 문구로 진행합니다.",
    "timeout": "LLM 응답이 너무 늦어 기본 문구로 진행합니다.",
    "http": "LLM 서버가 오류를 돌려줘 기본 문구로 진행합니다.",
    "empty": "LLM이 빈 응답을 보내 기본 문구로 진행합니다.",
    "garbage": "LLM 응답을 쓸 수 없어 기본 문구로 진행합니다.",
    "language": "LLM 응답이 한국어가 아니어서 기본 문구로 진행합니다.",
    "leak": "LLM 꼬리 질문이 정답 키워드를 드러내 기본 질문으로 바꿨습니다.",
    "question": "LLM 꼬리 질문이 질문 형식이 아니어서 기본 질문으로 바꿨습니다.",
    "json": "LLM 판정이 올바른 JSON이 아니어서 기본 채점 결과를 유지합니다.",
    "evidence": "LLM 판정의 근거가 답변에 없는 문장이라 기본 채점 결과를 유지합니다.",
    "tools": "LLM 서버가 도구 호출을 지원하지 않아 도구 없이 진행합니다.",
    "tool_call": "LLM의 도구 호출이 올바르지 않아 실행하지 않았습니다.",
    "error": "LLM 호출 중 오류가 나 기본 문구로 진행합니다.",
}


class LLMFailure(Exception):
    """A reply we must not use; `kind` keys FAILURE_NOTICES."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


# --- configuration and construction -------------------------------------------------------------

@dataclass(frozen=True)
class LLMConfig:
    backend: str
    model: str
    base_url: str | None
    api_key: str
    timeout: float
    tools: bool
    judge: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMConfig:
        backend = settings.llm
        if backend not in BACKENDS or backend == "none":
            raise UserError(f"unknown LLM backend {backend!r}: choose one of openai, local")
        if backend == "openai" and not settings.openai_api_key:
            raise UserError("--llm openai needs OPENAI_API_KEY in the environment")
        if backend == "local" and not settings.llm_base_url:
            raise UserError("--llm local needs --base-url (e.g. http://127.0.0.1:11434/v1 for Ollama)")
        if settings.llm_base_url and not re.match(r"^https?://[^/\s]+", settings.llm_base_url):
            raise UserError(f"--base-url is not an http(s) URL: {settings.llm_base_url}")
        default_model = DEFAULT_OPENAI_MODEL if backend == "openai" else DEFAULT_LOCAL_MODEL
        tools = settings.llm_tools if settings.llm_tools is not None else backend == "openai"
        return cls(backend=backend, model=settings.llm_model or default_model,
                   base_url=settings.llm_base_url, api_key=settings.openai_api_key or "not-needed",
                   timeout=settings.llm_timeout, tools=tools, judge=settings.llm_judge)


def build_chat_model(config: LLMConfig):
    """A LangChain ChatOpenAI; building it sends nothing over the network."""
    import httpx
    from langchain_openai import ChatOpenAI

    local = config.backend == "local"
    return ChatOpenAI(
        model=config.model,
        api_key=config.api_key,
        base_url=config.base_url,
        # The read timeout bounds the silence before the first chunk too: a CPU server reading a long
        # prompt is silent for a while, so it is the configured reply time, not a few seconds.
        timeout=httpx.Timeout(config.timeout, connect=CONNECT_TIMEOUT),
        max_retries=1,
        streaming=True,
        temperature=0.3,
        max_tokens=MAX_TOKENS,
        # Local servers speak chat completions, not the Responses API; some (llama-cpp-python)
        # only know the older `max_tokens` name, which langchain renames to max_completion_tokens.
        use_responses_api=False if local else None,
        extra_body={"max_tokens": MAX_TOKENS} if local else None,
    )


def build_voice(settings: Settings) -> LLMVoice:
    config = LLMConfig.from_settings(settings)
    return LLMVoice(build_chat_model(config), backend=config.backend, model_name=config.model,
                    timeout=config.timeout, tools=config.tools)


# --- prompts ------------------------------------------------------------------------------------

SECTION = re.compile(r"^=== (\w+) ===\s*$", re.MULTILINE)


@cache
def load_prompt(role: str, directory: Path = PROMPTS_DIR) -> dict[str, str]:
    """The sections of prompts/ROLE.md (`=== name ===` headers), stripped."""
    path = directory / f"{role}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read prompt file {path}: {exc}") from None
    parts = SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    missing = [name for name in PROMPT_ROLES.get(role, ()) if name not in sections]
    if missing:
        raise UserError(f"prompt file {path} lacks section(s): {', '.join(missing)}")
    return sections


@cache
def prompt_template(role: str, section: str):
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("system", load_prompt(COMMON)["system"]),
                                             ("human", load_prompt(role)[section])])


@cache
def context_template():
    from langchain_core.prompts import PromptTemplate

    return PromptTemplate.from_template(load_prompt(COMMON)["context"])


def render(role: str, section: str, **values) -> list:
    """Chat messages for one call. Free text (the answer) goes in as delimited data only; a task
    with a `{context}` slot gets the shared question/reference/answer block there."""
    safe = {key: quote_data(value) if isinstance(value, str) else value for key, value in values.items()}
    template = prompt_template(role, section)
    if "context" in template.input_variables:
        context = context_template()
        safe["context"] = context.format(**{name: safe[name] for name in context.input_variables})
    return template.format_messages(**safe)


def quote_data(text: str) -> str:
    """Neutralise our own delimiters inside user text, so an answer cannot close its quote."""
    return DELIMITER.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


# --- validation ---------------------------------------------------------------------------------

def hangul_share(text: str) -> float:
    words = WORD.findall(text)
    if not words:
        return 0.0
    return sum(bool(HANGUL.search(w)) for w in words) / len(words)


def clean_reply(text: str) -> str:
    """Strip the wrapping small models like to add: fences, quotes, a role prefix."""
    text = text.strip()
    text = re.sub(r"^```\w*\s*|\s*```$", "", text).strip()
    text = re.sub(r"^[\"'“‘]?\s*(assistant|면접관|interviewer)\s*[:：]\s*", "", text, flags=re.IGNORECASE)
    if text[:1] in ("\"", "'", "“", "‘"):
        text = text[1:]
    if text[-1:] in ("\"", "'", "”", "’") and text.count(text[-1]) % 2 == 1:
        text = text[:-1]
    return text.strip()


def check_prose(text: str, limit: int, forbidden: list[str] = (), shape: str = "prose") -> str:
    """The reply as usable Korean text of the given shape, or LLMFailure saying why not.

    "prose" (feedback, closing) ends at a sentence within `limit`; "line" (a transition) is its
    first sentence; "question" (a probe) runs to its last question mark. Lines and questions are
    one line in the chat. None may carry markup of its own: the chat renders it.
    """
    text = clean_reply(text)
    if shape != "prose":
        text = " ".join(text.split())
    if not text:
        raise LLMFailure("empty")
    if DELIMITER.search(text) or MARKUP.search(text) or not WORD.search(text):
        raise LLMFailure("garbage", text[:60])
    words = WORD.findall(text)
    if len(words) >= 6 and Counter(words).most_common(1)[0][1] > len(words) / 2:
        raise LLMFailure("garbage", "repetition")
    if hangul_share(text) < MIN_HANGUL_SHARE:
        raise LLMFailure("language", text[:60])
    text = SHAPES[shape](text, limit)
    flat = squash(text)
    for phrase in forbidden:
        key = squash(phrase)
        if key and key in flat:
            raise LLMFailure("leak", phrase)
    return text


def trim_to_sentence(text: str, limit: int) -> str:
    """Cut a long or truncated reply after its last complete sentence within `limit` chars."""
    if len(text) <= limit and SENTENCE_END.search(text[-2:] + " "):
        return text
    head = text[:limit]
    ends = [m.end() for m in SENTENCE_END.finditer(head)]
    return head[:ends[-1]].strip() if ends else head.strip()


def trim_to_question(text: str, limit: int) -> str:
    """The reply up to its last question mark within `limit` chars; a probe without one asks nothing."""
    end = text.rfind("?", 0, limit) + 1 or text.rfind("？", 0, limit) + 1
    if not end:
        raise LLMFailure("question", text[:60])
    return text[:end].strip()


def first_sentence(text: str, limit: int) -> str:
    end = SENTENCE_END.search(text)
    return text[:end.end()].strip() if end and end.end() <= limit else trim_to_sentence(text, limit)


SHAPES = {"prose": trim_to_sentence, "line": first_sentence, "question": trim_to_question}


def revealing_terms(keywords: list[str], shown: str) -> list[str]:
    """What would give a key point away: each keyword whole and each English term in it (the
    part small models echo, e.g. "co-adaptation" of "co-adaptation 방지"), unless `shown` (the
    question itself) already contains it."""
    seen = squash(shown)
    terms = [t for kw in keywords for t in (kw, *(m for m in ENGLISH_TERM.findall(kw) if len(m) >= 3))]
    return [t for t in dict.fromkeys(terms) if squash(t) and squash(t) not in seen]


def parse_judgement(reply: str, answer: str) -> tuple[str, str] | None:
    """(verdict, evidence) when the judge's JSON is valid and its quote is a literal span of the
    answer; None for a valid 'missing' (nothing to quote, so it changes nothing)."""
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    if not match:
        raise LLMFailure("json", reply[:60])
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        raise LLMFailure("json", match.group(0)[:60]) from None
    if not isinstance(data, dict) or data.get("verdict") not in JUDGED_VERDICTS:
        raise LLMFailure("json", str(data)[:60])
    evidence = data.get("evidence")
    if data["verdict"] == "missing":
        return None
    if not isinstance(evidence, str):
        raise LLMFailure("evidence", repr(evidence)[:60])
    span = literal_span(evidence, answer)
    if span is None:
        raise LLMFailure("evidence", evidence[:60])
    return data["verdict"], span


def literal_span(evidence: str, answer: str) -> str | None:
    """The evidence as it stands in the answer (quotes and outer whitespace aside), else None."""
    quote = evidence.strip().strip("\"'“”‘’「」").strip()
    if len(quote) < MIN_EVIDENCE_CHARS:
        return None
    if quote in answer:
        return quote
    # Line breaks inside the quoted span may come back as spaces; nothing else may differ.
    pattern = r"\s+".join(re.escape(part) for part in quote.split())
    found = re.search(pattern, answer)
    return found.group(0) if found else None


# --- calling ------------------------------------------------------------------------------------

class LLMClient:
    """One place that talks to the model: streaming with a deadline, the reply shown as a draft
    while it grows, calls and failures counted on the current interview's stats (else `own`)."""

    def __init__(self, chat_model, own: VoiceStats, timeout: float = 30.0):
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

    def text(self, messages: list, status: str | None = None) -> str:
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

    def message(self, messages: list, tools: list):
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


def chunk_text(chunk) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(block.get("text", "") if isinstance(block, dict) else str(block) for block in content)
    return ""


def classify(exc: Exception) -> LLMFailure:
    import httpx
    import openai

    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return LLMFailure("timeout", str(exc))
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return LLMFailure("unreachable", str(exc))
    if isinstance(exc, openai.APIStatusError):
        return LLMFailure("http", f"{exc.status_code}")
    if isinstance(exc, NotImplementedError):
        return LLMFailure("tools", str(exc))
    if isinstance(exc, ValueError) and "No generation chunks" in str(exc):
        return LLMFailure("empty", "the stream ended without a chunk")  # LangChain's words for it
    return LLMFailure("error", f"{type(exc).__name__}: {exc}")


# --- the voice ----------------------------------------------------------------------------------

class LLMVoice(TemplateVoice):
    """Asks the LLM for wording; the template answer whenever the LLM's reply is not usable."""

    def __init__(self, chat_model, backend: str = "local", model_name: str | None = None,
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

    def follow_up(self, card: Card, parent: Card) -> str:
        line = self._transition(card, f"방금 \"{parent.title}\"에 대한 답변을 들었고, 관련된 꼬리 질문으로 이어갑니다.")
        if line is None:
            return super().follow_up(card, parent)
        return f"{line} **{card.title}**"

    def probe(self, card: Card, missed: KeyPoint, answer: str) -> str:
        messages = render("follow_up", "task", **answer_context(card, answer), keyword=missed.keyword,
                          category=missed.category or "(없음)", explanation=missed.explanation or "(없음)")
        line = self._prose(messages, limit=200, forbidden=revealing_terms([missed.keyword], card.title),
                           shape="question")
        return line if line is not None else super().probe(card, missed, answer)

    def feedback(self, card: Card, grade: Grade, answer: str) -> str | None:
        by_verdict = {v: [kp.keyword for kp in grade.keypoints if kp.verdict == v] for v in JUDGED_VERDICTS}
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

    def closing(self, summary: str) -> str | None:
        line = self._prose(render("feedback", "closing", summary=closing_digest(summary)), limit=400)
        return line if line is not None else super().closing(summary)

    # internals ---------------------------------------------------------------------------------

    def _transition(self, card: Card, situation: str) -> str | None:
        messages = render("interviewer", "task", situation=situation, title=card.title)
        return self._prose(messages, limit=120, forbidden=revealing_terms(card.keywords, card.title), shape="line")

    def _prose(self, messages: list, limit: int, forbidden: list[str] = (), shape: str = "prose") -> str | None:
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

    def _feedback_with_tools(self, messages: list) -> str | None:
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


def closing_digest(report_markdown: str) -> str:
    """What the closing line needs from the report: the average, the topic scores and the key
    points missed. The whole report would overflow a small local model's context."""
    head = report_markdown.split("\n### ", 1)[0].splitlines()
    lines = [line for line in head if line.startswith(DIGEST_LINES)]
    missed = dict.fromkeys(MISSED_KEYWORD.findall(report_markdown))
    return "\n".join([*lines, f"- 놓친 키워드: {', '.join(missed) or '(없음)'}"])


def answer_context(card: Card, answer: str) -> dict[str, str]:
    """The values of the shared context block: identical for every call about one answer."""
    return {"title": card.title, "reference": card.answer or "(없음)", "answer": answer or "(답변 없음)"}


def tool_code(call: dict) -> str:
    """The program of a run_numpy call; anything else the model asked for is not run."""
    args = call.get("args") or {}
    if call.get("name") != "run_numpy" or not isinstance(args.get("code"), str) or not args["code"].strip():
        raise LLMFailure("tool_call", f"{call.get('name')}({str(args)[:60]})")
    return args["code"]


def numpy_tool():
    """The numpy sandbox as a LangChain tool: LLM-written code runs only in the sandbox."""
    from langchain_core.tools import tool

    from interviewer.sandbox import run_program

    @tool("run_numpy")
    def run_numpy(code: str) -> str:
        """Run a short numpy program in an isolated sandbox and return its printed output.
        Use it only to show a small numeric example (e.g. softmax of a vector)."""
        return run_program(code).as_text()[:1500]

    return run_numpy


# --- the judge ----------------------------------------------------------------------------------

def unsure(results: list[KeyPointResult]) -> list[KeyPointResult]:
    """Key points the grader is least sure about: partial ones, then misses that were close
    (similarity at or above the grader's semantic floor), at most MAX_JUDGED."""
    from interviewer.grading import SEMANTIC_FLOOR

    partial = [r for r in results if r.verdict == "partial"]
    close = sorted((r for r in results if r.verdict == "missing" and r.similarity is not None
                    and r.similarity >= SEMANTIC_FLOOR), key=lambda r: -(r.similarity or 0))
    return (partial + close)[:MAX_JUDGED]


class JudgedGrader:
    """The deterministic grader plus an LLM second opinion on the key points it is unsure about.

    An LLM verdict counts only when its evidence is a literal span of the answer; it is recorded
    with method "llm" and the grader's own verdict beside it (`deterministic_verdict`).
    """

    def __init__(self, grader, voice: LLMVoice):
        self.grader = grader
        self.voice = voice

    def __getattr__(self, name: str):
        return getattr(self.grader, name)

    def grade(self, card: Card, answer: str) -> Grade:
        from interviewer.text import segment_answer

        grade = self.grader.grade(card, answer)
        # A bare list of terms is capped by the grader's own rule; a second opinion cannot lift it.
        if not any(segment.explanatory for segment in segment_answer(answer)):
            return grade
        changed = False
        results = list(grade.keypoints)
        for result in unsure(results):
            judged = self._judge(card, answer, result)
            if judged is not None:
                results[results.index(result)] = judged
                changed = True
        if not changed:
            return grade
        return rescore(grade, results, answer)

    def _judge(self, card: Card, answer: str, result: KeyPointResult) -> KeyPointResult | None:
        client = self.voice.client
        if not client.available:
            return None
        kp = next((k for k in card.keypoints if k.keyword == result.keyword), None)
        messages = render("judge", "task", **answer_context(card, answer), keyword=result.keyword,
                          explanation=(kp.explanation if kp else "") or "(없음)",
                          claims=" / ".join(kp.claims[:3]) if kp and kp.claims else "(없음)")
        try:
            judged = parse_judgement(client.text(messages, status=JUDGING), answer)
        except LLMFailure as failure:
            client.fail(failure)
            return None
        if judged is None or judged[0] == result.verdict:
            return None
        verdict, span = judged
        return result.model_copy(update={"verdict": verdict, "evidence": span, "method": "llm",
                                         "deterministic_verdict": result.verdict})


def rescore(grade: Grade, results: list[KeyPointResult], answer: str) -> Grade:
    """The grader's score formula and grade rule over the new verdicts, for an explanatory answer.

    The grade rule's relevance only counts when nothing is covered or contradicted, which a judged
    verdict (covered, partial or contradicted, each with a quote) never leaves behind.
    """
    from interviewer.grading import Tally, holistic_grade
    from interviewer.text import says_dont_know

    tally = Tally.of(results)
    score = tally.score
    level = holistic_grade(tally.coverage, tally.contradicted, tally.n, explanatory=True, relevance=0.0,
                           dont_know=says_dont_know(answer))
    notices = list(grade.notices)
    for r in results:
        if r.method == "llm":
            notices.append(f"LLM 판정: '{r.keyword}' {r.deterministic_verdict} → {r.verdict} "
                           f"(근거: “{r.evidence}”)")
    return grade.model_copy(update={"keypoints": results, "score": score, "grade": level,
                                    "llm_used": True, "notices": notices})
