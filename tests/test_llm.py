"""LLM mode with LangChain's fake chat models: every failure kind falls back to the templates,
is counted for its own interview and announced; the judge's verdict counts only with a literal
quote of the answer; tool calls run in the sandbox; replies stream to the chat as drafts."""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import httpx
import openai
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

from interviewer.bank.cards import Bank
from interviewer.core.errors import UserError
from interviewer.core.models import Card, Grade, KeyPoint, KeyPointResult
from interviewer.core.records import SessionRecord
from interviewer.interview.engine import Deps, Interview
from interviewer.interview.llm_voice import LLMVoice
from interviewer.interview.planning import Options
from interviewer.interview.voice import TemplateVoice
from interviewer.llm import FAILURE_NOTICES, LLMConfig, build_chat_model, check_prose, revealing_terms
from interviewer.llm.calls import drafting, stream_drafts
from interviewer.reports.report import build_report
from interviewer.runtime import Runtime
from interviewer.settings import Settings
from interviewer.shells.cli import DraftLine, build_parser, settings_from_args, tail_within
from interviewer.shells.presenter import say

KP = KeyPoint(keyword="co-adaptation 방지", category="뉴런 사이의 의존",
              explanation="각 node들이 co-adaptation 되는 현상을 방지합니다.")
CARD = Card(id="dropout", title="Dropout의 효과는?", keywords=["co-adaptation 방지", "다양한 모델 학습"],
            answer="co-adaptation을 방지하고 여러 모델을 학습하는 효과가 있습니다.", keypoints=[KP])
GRADE = Grade(card_id="dropout", score=50, grade=2, keypoints=[
    KeyPointResult(keyword="co-adaptation 방지", verdict="missing"),
    KeyPointResult(keyword="다양한 모델 학습", verdict="covered", evidence="매번 다른 네트워크")])
# One key point said plainly, the other only hinted at (the judge tests need the grader to cover the
# first and miss the second).
ANSWER = "드롭아웃을 쓰면 뉴런들이 서로 의존하는 정도가 달라지고, 매번 다른 네트워크가 학습되어 여러 모델을 학습시키는 효과가 납니다."
KOREAN = "좋습니다. 그렇다면 학습 중에 일부 뉴런을 끄면 나머지 뉴런들은 어떻게 달라질까요?"
TEMPLATE = TemplateVoice()
REPORT = build_report(SessionRecord(id="s", client="chat", feedback_mode="immediate", n_questions=1,
                                    max_follow_ups=0, topics=[], seed=1, plan=[CARD.id]), [], Bank([CARD], {}))


class RaisingChatModel(GenericFakeChatModel):
    """A fake chat model whose every call fails the way a real client would."""

    error: Any = None

    def _generate(self, *args, **kwargs):
        raise self.error


class SlowChatModel(GenericFakeChatModel):
    """Streams one word every `delay` seconds: a server that never finishes in time."""

    delay: float = 0.05

    def _stream(self, *args, **kwargs):
        for _ in range(40):
            time.sleep(self.delay)
            yield ChatGenerationChunk(message=AIMessageChunk(content="느린 "))


class RecordingChatModel(FakeListChatModel):
    """Replies from its list and keeps every prompt it was sent."""

    prompts: list = Field(default_factory=list)

    def _stream(self, messages, *args, **kwargs):
        self.prompts.append(messages)
        yield from super()._stream(messages, *args, **kwargs)


class ToolChatModel(GenericFakeChatModel):
    """Supports tool binding: the first reply is a tool call, the next one prose."""

    def bind_tools(self, tools, **kwargs):
        return self


def voice_with(*replies: str) -> LLMVoice:
    return LLMVoice(FakeListChatModel(responses=list(replies)), backend="local", model_name="fake")


def failing_voice(error: Exception) -> LLMVoice:
    return LLMVoice(RaisingChatModel(messages=iter([]), error=error), backend="local", model_name="fake")


def request() -> httpx.Request:
    return httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def interview_deps(rt: Runtime, voice: LLMVoice) -> Deps:
    return Deps(rt.bank, rt.grader, voice, rt.history, rt.glossary)


# --- configuration -----------------------------------------------------------------------------

def test_backend_defaults_follow_the_api_key():
    assert Settings.from_env({}).llm == "none"
    assert Settings.from_env({"OPENAI_API_KEY": "sk-test"}).llm == "openai"
    assert Settings.from_env({"OPENAI_API_KEY": "sk-test", "INTERVIEWER_LLM": "none"}).llm == "none"
    env = {"INTERVIEWER_LLM": "local", "OPENAI_BASE_URL": "http://127.0.0.1:8080/v1",
           "INTERVIEWER_LLM_MODEL": "smol", "INTERVIEWER_LLM_JUDGE": "1"}
    config = LLMConfig.from_settings(Settings.from_env(env))
    assert (config.backend, config.model, config.base_url, config.judge, config.tools) == \
        ("local", "smol", "http://127.0.0.1:8080/v1", True, False)


def test_flags_override_the_environment_and_a_base_url_alone_means_local(monkeypatch):
    parse = build_parser().parse_args
    assert settings_from_args(parse(["chat", "--base-url", "http://127.0.0.1:11434/v1"])).llm == "local"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings = settings_from_args(parse(["chat", "--llm", "local", "--base-url", "http://h:1/v1",
                                         "--model", "qwen2.5", "--llm-judge"]))
    assert (settings.llm, settings.llm_base_url, settings.llm_model, settings.llm_judge) == \
        ("local", "http://h:1/v1", "qwen2.5", True)
    assert settings_from_args(parse(["chat", "--llm", "none"])).llm == "none"
    assert settings_from_args(parse(["chat"])).llm == "openai"


@pytest.mark.parametrize("env, message", [
    ({"INTERVIEWER_LLM": "local"}, "--base-url"),
    ({"INTERVIEWER_LLM": "openai"}, "OPENAI_API_KEY"),
    ({"INTERVIEWER_LLM": "local", "OPENAI_BASE_URL": "ftp://x"}, "http(s)"),
    ({"INTERVIEWER_LLM": "ollama"}, "unknown LLM backend"),
])
def test_incomplete_configuration_is_a_user_error(env, message):
    with pytest.raises(UserError, match=re.escape(message)):
        LLMConfig.from_settings(Settings.from_env(env))


def test_local_chat_model_is_bounded_and_offline_to_build():
    # Port 9 (discard) is never contacted: building the client must not touch the network.
    config = LLMConfig.from_settings(Settings.from_env(
        {"INTERVIEWER_LLM": "local", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}))
    model = build_chat_model(config)
    assert model.use_responses_api is False
    assert model.max_retries == 1
    assert model.streaming is True
    assert model.request_timeout.connect <= 5 and model.request_timeout.read == config.timeout == 30
    payload = model._get_request_payload([("human", "안녕")], stream=True)
    assert payload["extra_body"]["max_tokens"] == payload["max_completion_tokens"] <= 200


def test_runtime_voice_follows_the_settings(home):
    assert type(Runtime(Settings.from_env()).voice) is TemplateVoice
    rt = Runtime(Settings.from_env({"INTERVIEWER_HOME": str(home), "INTERVIEWER_LLM": "local",
                                    "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}))
    assert isinstance(rt.voice, LLMVoice)
    assert (rt.voice.stats.backend, rt.voice.stats.model) == ("local", "local")


def test_doctor_checks_every_part_and_fails_on_a_dead_llm_server(cli):
    # Port 9 on loopback refuses at once: a real round trip that fails, not a configuration error.
    result = cli("doctor", "--json", "--base-url", "http://127.0.0.1:9/v1", timeout=120)
    checks = {check["name"]: check for check in json.loads(result.stdout)}
    assert list(checks) == ["bank", "keypoints", "index", "embeddings", "model", "llm", "sandbox"]
    assert result.returncode == 1 and not checks["llm"]["ok"] and checks["llm"]["backend"] == "local"
    assert "연결 실패" in checks["llm"]["summary"]
    assert checks["bank"]["ok"] and checks["embeddings"]["ok"] and checks["embeddings"]["dimensions"] > 0


def test_grade_with_an_unreachable_judge_keeps_the_grader_and_says_so(indexed_runtime, cli):
    result = cli("grade", "--card", "dropout", "--answer", ANSWER, "--json", "--llm-judge",
                 "--base-url", "http://127.0.0.1:9/v1")
    assert result.returncode == 0, result.stderr
    grade = json.loads(result.stdout)
    assert grade["llm_used"] is False and all(kp["method"] != "llm" for kp in grade["keypoints"])
    assert result.stderr.strip() == f"interviewer: note: {FAILURE_NOTICES['unreachable']}"


def test_judge_without_llm_and_local_without_url_are_one_line_errors(cli):
    result = cli("grade", "--card", "dropout", "--answer", "x", "--llm-judge")
    assert result.returncode == 2 and "--llm-judge needs an LLM" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli("chat", "--llm", "local", input="")
    assert result.returncode == 2 and "--base-url" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- the voice: success ------------------------------------------------------------------------

def test_usable_korean_replies_are_used_and_counted():
    voice = voice_with("이제 규제 기법으로 넘어가 볼게요.", KOREAN, "핵심을 잘 짚었지만 빠진 설명이 하나 있어요.",
                       "수고하셨습니다. 다음에는 정규화 기법을 복습해 보세요.")
    assert voice.ask(CARD, 2, 3) == "**[질문 2/3]** 이제 규제 기법으로 넘어가 볼게요. Dropout의 효과는?"
    assert voice.probe(CARD, KP, ANSWER) == KOREAN
    assert "빠진 설명이 하나 있어요" in voice.feedback(CARD, GRADE, ANSWER)
    assert voice.closing(REPORT).startswith("수고하셨습니다.")
    assert (voice.stats.calls, voice.stats.failures, voice.stats.notices) == (4, 0, [])


def test_wrapping_is_stripped_and_a_cut_reply_ends_at_a_sentence():
    text = check_prose('"면접관: 좋습니다. 다음 질문입니다. 그리고 이것은 잘린 문', 200)
    assert text == "좋습니다. 다음 질문입니다."


def test_a_probe_is_one_line_ending_at_its_question_mark_and_a_transition_is_one_sentence():
    text = check_prose("좋습니다.\n그런데 뉴런을 끄면\n어떻게 될까요? 제 생각에는 그렇", 200, shape="question")
    assert text == "좋습니다. 그런데 뉴런을 끄면 어떻게 될까요?"
    assert check_prose("다음 질문으로\n넘어가겠습니다. 준비되셨나요? 그럼", 120, shape="line") == "다음 질문으로 넘어가겠습니다."


def test_revealing_terms_are_the_keyword_and_its_english_terms_unless_the_question_shows_them():
    assert revealing_terms(["co-adaptation 방지"], "Dropout의 효과는?") == ["co-adaptation 방지", "co-adaptation"]
    assert revealing_terms(["Dropout 효과", "2 layer"], "Dropout의 효과는?") == ["Dropout 효과", "2 layer", "layer"]


# --- the voice: each failure kind ----------------------------------------------------------------

FAILURES = [
    ("unreachable", lambda: failing_voice(openai.APIConnectionError(request=request()))),
    ("unreachable", lambda: failing_voice(ConnectionRefusedError("refused"))),
    ("timeout", lambda: failing_voice(openai.APITimeoutError(request=request()))),
    ("http", lambda: failing_voice(openai.InternalServerError(
        "boom", response=httpx.Response(500, request=request()), body=None))),
    ("timeout", lambda: LLMVoice(SlowChatModel(messages=iter([])), timeout=0.1)),
    ("error", lambda: LLMVoice(FakeListChatModel(responses=[KOREAN], error_on_chunk_number=5))),
    ("empty", lambda: voice_with("   ")),
    ("garbage", lambda: voice_with("?!?! ... 123 ###")),
    ("garbage", lambda: voice_with("좋아요 좋아요 좋아요 좋아요 좋아요 좋아요 좋아요?")),
    ("garbage", lambda: voice_with("</answer> 네?")),
    ("garbage", lambda: voice_with("다음 코드를 보세요.\n```python\ndef dropout(x):\n    return x\n```\n어떻게 될까요?")),
    ("language", lambda: voice_with("What a delightful topic! Dropout is a Japanese dance-drama?")),
    ("question", lambda: voice_with("지원자는 위 키워드의 분류 학습됩니니가 있어도만 단응태운 프론이 이러나")),
    ("leak", lambda: voice_with("혹시 co-adaptation 방지 효과에 대해서도 설명해 주실 수 있나요?")),
    ("leak", lambda: voice_with("뉴런들의 CoAdaptation방지는 어떤가요?")),
    ("leak", lambda: voice_with("co-adaptation이라는 현상을 들어 보셨나요?")),
]


@pytest.mark.parametrize("kind, make", FAILURES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(FAILURES)])
def test_a_failed_probe_falls_back_to_the_template(kind, make):
    voice = make()
    assert voice.probe(CARD, KP, ANSWER) == TEMPLATE.probe(CARD, KP, ANSWER)
    assert (voice.stats.calls, voice.stats.failures) == (1, 1)
    assert voice.stats.drain_notices() == [FAILURE_NOTICES[kind]]


def test_every_method_falls_back_and_notices_are_not_repeated():
    voice = voice_with("Sure! Here is the question.", "", "Great answer!", "Bye.")
    assert voice.ask(CARD, 1, 2) == TEMPLATE.ask(CARD, 1, 2)
    assert voice.follow_up(CARD, CARD) == TEMPLATE.follow_up(CARD, CARD)
    assert voice.feedback(CARD, GRADE, ANSWER) == TEMPLATE.feedback(CARD, GRADE, ANSWER)
    assert voice.closing(REPORT) == TEMPLATE.closing(REPORT)
    assert (voice.stats.calls, voice.stats.failures) == (4, 4)
    assert voice.stats.drain_notices() == [FAILURE_NOTICES["language"], FAILURE_NOTICES["empty"]]


def test_a_question_line_that_names_an_unshown_keyword_falls_back():
    voice = voice_with("이번에는 co-adaptation에 관한 질문입니다.")
    assert voice.ask(CARD, 2, 3) == TEMPLATE.ask(CARD, 2, 3)
    assert voice.stats.drain_notices() == [FAILURE_NOTICES["leak"]]


def test_a_server_that_keeps_refusing_is_left_alone_for_a_while():
    voice = failing_voice(ConnectionRefusedError("refused"))
    for _ in range(4):
        assert voice.probe(CARD, KP, ANSWER) == TEMPLATE.probe(CARD, KP, ANSWER)
    assert (voice.stats.calls, voice.stats.failures) == (2, 2)


# --- streaming drafts ----------------------------------------------------------------------------

def test_a_streamed_reply_shows_as_a_growing_draft_then_clears():
    voice = voice_with(KOREAN)
    drafts: list[str] = []
    with drafting(drafts.append):
        voice.probe(CARD, KP, ANSWER)
    assert len(drafts) == len(KOREAN) + 1  # the fake streams one character per chunk
    assert all(KOREAN.startswith(d) for d in drafts[:-1]) and drafts[-2] == KOREAN and drafts[-1] == ""


def test_stream_drafts_yields_rendered_drafts_and_returns_the_result():
    def work() -> str:
        return voice_with(KOREAN).probe(CARD, KP, ANSWER)

    stream = stream_drafts(work, lambda draft: f"[{draft}]", interval=0.0)
    shown = []
    with pytest.raises(StopIteration) as done:
        while True:
            shown.append(next(stream))
    assert done.value.value == KOREAN
    assert shown and all(s.startswith("[") for s in shown) and f"[{KOREAN}]" in shown


def test_stream_drafts_raises_the_work_error_in_the_caller():
    def work() -> str:
        raise UserError("알 수 없는 세션")

    with pytest.raises(UserError, match="알 수 없는 세션"):
        list(stream_drafts(work, str))


def test_terminal_draft_line_fits_one_line_and_is_erased(monkeypatch):
    monkeypatch.setenv("COLUMNS", "22")
    out = io.StringIO()
    line = DraftLine(out)
    line("\n ")
    line("좋습니다.\n그렇다면 드롭아웃은")
    line("")
    first, second = out.getvalue().split("\r\x1b[2K")[1:]
    assert first == "… 그렇다면 드롭아웃은" and second == ""
    assert tail_within("abc가나", 5) == "c가나" and tail_within("ab", 5) == "ab"


# --- tools ---------------------------------------------------------------------------------------

SOFTMAX = "import numpy as np\nx = np.array([1.0, 2.0, 3.0])\nprint(np.round(np.exp(x) / np.exp(x).sum(), 3))"


def test_feedback_can_run_numpy_in_the_sandbox_through_a_tool_call():
    model = ToolChatModel(messages=iter([
        AIMessage(content="", tool_calls=[{"name": "run_numpy", "args": {"code": SOFTMAX}, "id": "call-1"}]),
        "softmax 예시처럼 값이 클수록 확률이 커집니다. 빠진 설명을 보완해 보세요.",
    ]))
    voice = LLMVoice(model, backend="openai", model_name="fake", tools=True)
    text = voice.feedback(CARD, GRADE, ANSWER)
    assert text.startswith("softmax 예시처럼")
    assert "np.exp(x) / np.exp(x).sum()" in text  # the code the model ran is shown...
    assert "[0.09  0.245 0.665]" in text  # ...with what the sandbox printed
    assert (voice.stats.calls, voice.stats.failures) == (2, 0)


def test_a_malformed_tool_call_is_not_run():
    model = ToolChatModel(messages=iter([
        AIMessage(content="", tool_calls=[{"name": "shell", "args": {"cmd": "rm -rf /"}, "id": "call-1"}]),
        "도구 없이 말하면, 방향은 좋지만 빠진 설명이 있습니다.",
    ]))
    voice = LLMVoice(model, backend="openai", model_name="fake", tools=True)
    assert voice.feedback(CARD, GRADE, ANSWER) == "도구 없이 말하면, 방향은 좋지만 빠진 설명이 있습니다."
    assert (voice.stats.calls, voice.stats.failures) == (2, 1)
    assert voice.stats.notices == [FAILURE_NOTICES["tool_call"]]


def test_a_server_without_tool_support_stops_being_offered_tools():
    voice = LLMVoice(FakeListChatModel(responses=["도구 없이도 답변의 방향은 좋습니다."]), tools=True)
    assert voice.feedback(CARD, GRADE, ANSWER) == "도구 없이도 답변의 방향은 좋습니다."
    assert voice.tools is False
    assert voice.stats.failures == 1 and FAILURE_NOTICES["tools"] in voice.stats.notices


# --- the interview with an LLM voice ----------------------------------------------------------

def test_interview_report_counts_llm_calls_and_failures(indexed_runtime):
    rt = indexed_runtime
    voice = voice_with("이제 첫 질문을 드릴게요.", "Sure, here's my feedback!", "Bye!")
    interview, reply = Interview.start(interview_deps(rt, voice),
                                       Options(n_questions=1, topics=["dropout"], seed=1, max_follow_ups=0))
    assert "이제 첫 질문을 드릴게요." in say(reply)
    reply = interview.answer(ANSWER)
    assert reply.finished
    # The chat shows one notice per failure kind: the feedback's, then the closing line's.
    assert say(reply).count(FAILURE_NOTICES["language"]) == 2
    assert TEMPLATE.closing(REPORT) in say(reply)
    data = interview.report().model_dump(mode="json")
    expected = {"backend": "local", "model": "fake", "calls": 3, "failures": 2}
    assert data["llm"] == expected
    stored = rt.history.session(interview.session.id)
    assert (stored.llm_calls, stored.llm_failures) == (3, 2)
    assert voice.stats.calls == 0  # counted for the interview, not on the shared voice


def test_sessions_sharing_one_voice_count_and_see_only_their_own_calls(indexed_runtime):
    """The app serves every candidate with one voice: interleaved sessions must not mix counts or
    notices (one server failure belongs to the session whose call failed)."""
    rt = indexed_runtime
    voice = voice_with("첫 질문을 드리겠습니다.", "Sure!", "좋은 답변입니다. 다만 빠진 내용이 있습니다.",
                       "다음 질문으로 가 보겠습니다.")
    options = Options(n_questions=2, topics=["dropout", "relu-problem"], seed=1, max_follow_ups=0)
    a, _ = Interview.start(interview_deps(rt, voice), options)
    b, reply_b = Interview.start(interview_deps(rt, voice), options)
    assert FAILURE_NOTICES["language"] in say(reply_b)  # b's first question failed, and b is told
    reply_a = a.answer(ANSWER)
    assert FAILURE_NOTICES["language"] not in say(reply_a)
    assert (a.llm.calls, a.llm.failures) == (3, 0)  # ask, feedback, next ask
    assert (b.llm.calls, b.llm.failures) == (1, 1)


def test_a_resumed_session_keeps_counting_from_its_stored_usage(indexed_runtime):
    rt = indexed_runtime
    options = Options(n_questions=2, topics=["dropout", "relu-problem"], seed=1, max_follow_ups=0)
    first, _ = Interview.start(interview_deps(rt, voice_with("Hello!")), options)
    first.answer(ANSWER)
    assert (rt.history.session(first.session.id).llm_calls, first.llm.failures) == (3, 3)
    later = Interview.resume(interview_deps(rt, voice_with("마지막 질문까지 잘 하셨습니다. 수고하셨어요.")),
                             first.session.id)
    later.answer(ANSWER)
    stored = rt.history.session(first.session.id)
    assert stored.status == "finished"
    assert (stored.llm_calls, stored.llm_failures) == (5, 3)  # + feedback and closing, both usable


def test_prompts_carry_the_answer_as_data_and_the_closing_gets_the_missed_key_points(indexed_runtime):
    model = RecordingChatModel(responses=["첫 질문을 드리겠습니다.", "방향은 좋지만 한 가지가 빠졌습니다.",
                                          "수고하셨습니다. 빠진 내용을 복습해 보세요."])
    voice = LLMVoice(model, backend="local", model_name="fake")
    interview, _ = Interview.start(interview_deps(indexed_runtime, voice),
                                   Options(n_questions=1, topics=["dropout"], seed=1, max_follow_ups=0))
    interview.answer(ANSWER)
    ask, feedback, closing = (prompt[1].content for prompt in model.prompts)
    assert "Dropout의 효과는?" in ask and "<answer>" not in ask
    assert f"<answer>\n{ANSWER}\n</answer>" in feedback
    assert "평균 점수: 50/100" in closing and "놓친 키워드: co-adaptation 방지" in closing
    assert len(closing) < 600  # a digest of the report, not the report: small local contexts
