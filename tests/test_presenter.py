"""The presenter words every kind of step, and the engine holds no text of its own."""

from __future__ import annotations

import re
import typing

from interviewer import steps
from interviewer.history import Turn
from interviewer.models import Grade, KeyPointResult
from interviewer.presenter import DIVIDER, FIXED, HELD, answer_api, say, shown_answer, word
from tests.conftest import ROOT

TURN = Turn(session_id="s", seq=2, main_index=1, kind="probe", card_id="dropout", question="그 밖에는요?")
GRADE = Grade(card_id="dropout", score=50, grade=2, keypoints=[
    KeyPointResult(keyword="co-adaptation 방지", verdict="contradicted", evidence="의존이 커집니다")])


def test_the_engine_holds_no_user_facing_text():
    source = (ROOT / "interviewer" / "interview.py").read_text(encoding="utf-8")
    assert not re.findall(r"[\uac00-\ud7a3]+", source)


def test_every_kind_of_part_has_its_wording():
    kinds = set(typing.get_args(steps.Part))
    assert kinds and kinds <= set(word.registry) | set(FIXED)


def test_what_comes_after_an_answer_is_set_apart():
    step = steps.Step("s", [steps.Notices(["LLM 알림"]), steps.Feedback(GRADE, "방향은 좋습니다."),
                            steps.Question(TURN)], waiting=TURN, grade=GRADE)
    text = say(step)
    notice, rest = text.split("\n\n", 1)
    assert notice == "_LLM 알림_"
    feedback, question = rest.split(DIVIDER)
    assert feedback.startswith("**점수 50/100 · 등급 2/4**") and "- ✗ **co-adaptation 방지** (사실과 다른 설명)" in feedback
    assert feedback.endswith("방향은 좋습니다.") and question == TURN.question
    assert say(steps.Step("s", [steps.Notices([]), steps.Held(), steps.Question(TURN)])) == f"{HELD}{DIVIDER}{TURN.question}"


def test_the_answer_api_is_built_from_the_step():
    step = steps.Step("s", [steps.Feedback(GRADE, None), steps.Question(TURN)], waiting=TURN, grade=GRADE)
    api = answer_api(step)
    assert api == {"session_id": "s", "message": say(step), "grade": GRADE.model_dump(mode="json"),
                   "next": {"card_id": "dropout", "question": TURN.question, "follow_up": True}, "finished": False}


def test_a_long_answer_is_shown_as_it_was_graded():
    assert shown_answer("  ") is None and shown_answer(" 짧은 답 ") == "짧은 답"
    assert shown_answer("가" * 6000) == "가" * 5000 + " …"
