"""The presenter words every kind of step, and the engine holds no text of its own."""

from __future__ import annotations

import re
import typing

from interviewer.core.models import Card, Grade, KeyPoint, KeyPointResult
from interviewer.core.records import Turn
from interviewer.interview import steps
from interviewer.lang.phrasing import shown
from interviewer.reports.markdown import literal
from interviewer.reports.report import NO_REFERENCE
from interviewer.shells.presenter import (
    DIVIDER,
    FIXED,
    HELD,
    answer_api,
    format_feedback,
    reference_block,
    say,
    shown_answer,
    word,
)
from tests.conftest import ROOT

TURN = Turn(session_id="s", seq=2, main_index=1, kind="probe", card_id="dropout", question="그 밖에는요?")
GRADE = Grade(card_id="dropout", score=50, grade=2, keypoints=[
    KeyPointResult(keyword="co-adaptation 방지", verdict="contradicted", evidence="의존이 커집니다"),
    KeyPointResult(keyword="다양한 모델 학습", verdict="covered", evidence="여러 모델을 합친 효과")])
CARD = Card(id="dropout", title="Dropout의 효과는?", answer="노드끼리의 co-adaptation을 막습니다.", keypoints=[
    KeyPoint(keyword="co-adaptation 방지", explanation="각 node들이 co-adaptation 되는 현상을 방지합니다."),
    KeyPoint(keyword="다양한 모델 학습", explanation="여러 개의 모델을 학습시키는 것과 같은 작용을 합니다.")])
NO_ANSWER = Card(id="debugging", title="디버깅 노하우는?", keypoints=[KeyPoint(keyword="선형 to 비선형")])


def test_the_engine_holds_no_user_facing_text():
    source = (ROOT / "interviewer" / "interview" / "engine.py").read_text(encoding="utf-8")
    assert not re.findall(r"[\uac00-\ud7a3]+", source)


def test_every_kind_of_part_has_its_wording():
    kinds = set(typing.get_args(steps.Part))
    assert kinds and kinds <= set(word.registry) | set(FIXED)


def test_what_comes_after_an_answer_is_set_apart():
    step = steps.Step("s", [steps.Notices(["LLM 알림"]), steps.Feedback(GRADE, "방향은 좋습니다.", CARD),
                            steps.Question(TURN)], waiting=TURN, grade=GRADE)
    text = say(step)
    notice, rest = text.split("\n\n", 1)
    assert notice == "_LLM 알림_"
    feedback, question = rest.split(DIVIDER)
    assert feedback.startswith("**점수 50/100 · 등급 2/4**\n사실과 다르게 설명한 부분이 있어요.")
    assert feedback.endswith("방향은 좋습니다.") and question == TURN.question
    assert say(steps.Step("s", [steps.Notices([]), steps.Held(), steps.Question(TURN)])) == f"{HELD}{DIVIDER}{TURN.question}"


def test_the_feedback_names_what_was_missed_only_once_no_probe_on_it_is_to_come():
    pending = format_feedback(GRADE, CARD, reference=False)
    assert "co-adaptation" not in pending and "참고 답변" not in pending
    assert "아직 다루지 않은 키워드 1개는 이어지는 질문에서" in pending and "✓ **다양한 모델 학습**" in pending
    done = format_feedback(GRADE, CARD, reference=True)
    assert "사실과 다르게 설명한 부분이 있어요: co-adaptation 방지." in done
    assert "- ✗ **co-adaptation 방지** (사실과 다른 설명) — “의존이 커집니다”" in done
    assert "**다음에 공부할 것**\n- **co-adaptation 방지**: 각 node들이" in done
    assert done.endswith("**참고 답변**\n> 노드끼리의 co-adaptation을 막습니다.")


def verdict(score: int, grade: int, *verdicts: str) -> str:
    keypoints = [KeyPointResult(keyword=kp.keyword, verdict=v) for kp, v in zip(CARD.keypoints, verdicts, strict=True)]
    return format_feedback(Grade(card_id="dropout", score=score, grade=grade, keypoints=keypoints), CARD).split("\n")[1]


def test_score_grade_and_sentence_always_agree():
    assert verdict(100, 4, "covered", "covered") == "핵심을 모두 정확하게 짚으셨습니다."
    full_but_unsure = verdict(100, 2, "covered", "covered")
    assert "등급은 2/4" in full_but_unsure and "빠진" not in full_but_unsure and "비교" not in full_but_unsure
    assert verdict(50, 3, "missing", "covered") == "일부만 짚으셨어요. 빠진 부분: co-adaptation 방지."
    assert verdict(75, 3, "covered", "partial") == "대부분 잘 설명하셨어요. 더 구체적으로 설명할 부분: 다양한 모델 학습."
    off_topic = verdict(0, 0, "missing", "missing")
    assert off_topic.startswith("질문의 핵심과는 거리가") and "좋습니다" not in off_topic


def test_a_card_without_a_reference_answer_says_so_or_shows_its_key_sentences():
    assert reference_block(NO_ANSWER) == NO_REFERENCE and "(없음)" not in reference_block(NO_ANSWER)
    explained = Card(id="gd", title="GD?", keypoints=[KeyPoint(keyword="방향", explanation="기울기의 반대로 갑니다.")])
    assert reference_block(explained).startswith("**핵심 문장**") and "- 기울기의 반대로 갑니다." in reference_block(explained)


def test_key_points_are_named_by_a_readable_label():
    grade = Grade(card_id="debugging", score=0, grade=0,
                  keypoints=[KeyPointResult(keyword="선형 to 비선형", verdict="missing")])
    text = format_feedback(grade, NO_ANSWER)
    assert "**선형 → 비선형**" in text and " to " not in text
    labelled = NO_ANSWER.model_copy(update={"keypoints": [KeyPoint(keyword="선형 to 비선형", label="비선형 변환")]})
    assert "**비선형 변환**" in format_feedback(grade, labelled)


def test_the_candidates_text_is_shown_literally():
    assert literal("0~1 … -1~1") == "0\\~1 … -1\\~1"
    assert literal("- 목록 아님\n1. 이것도\n3.14는 숫자") == "\\- 목록 아님\n1\\. 이것도\n3.14는 숫자"
    assert literal("**굵게** <b>x</b> `코드` [링크](u) # 제목 a|b") == \
        "\\*\\*굵게\\*\\* \\<b\\>x\\</b\\> \\`코드\\` \\[링크\\](u) \\# 제목 a\\|b"
    assert shown_answer("sigmoid는 0~1, tanh는 -1~1") == "sigmoid는 0\\~1, tanh는 -1\\~1"


def test_the_app_names_no_terminal_command():
    from interviewer.sandbox import Demo

    demo = Demo(id="dropout-mask", title="Dropout 마스크", code="print(1)", cards=("dropout",))
    step = steps.Step("s", [steps.DemoOffer(demo)])
    assert "interviewer sandbox" not in say(step) and "/demo" in say(step)
    assert "interviewer sandbox --demo dropout-mask" in say(step, "terminal")


def test_the_answer_api_is_built_from_the_step():
    step = steps.Step("s", [steps.Feedback(GRADE, None, CARD), steps.Question(TURN)], waiting=TURN, grade=GRADE)
    api = answer_api(step)
    assert api == {"session_id": "s", "message": say(step), "grade": GRADE.model_dump(mode="json", by_alias=True),
                   "next": {"card_id": "dropout", "question": TURN.question, "follow_up": True}, "finished": False}


def test_a_long_answer_is_shown_as_it_was_graded():
    assert shown_answer("  ") is None and shown_answer(" 짧은 답 ") == "짧은 답"
    assert shown_answer("가" * 6000) == "가" * 5000 + " …"


def test_an_english_keyword_is_labelled_with_its_korean_term(indexed_runtime):
    bank = indexed_runtime.bank
    labels = {kp.keyword: shown(kp) for card in bank.cards for kp in card.keypoints}
    assert labels["Neural network"] == "신경망 (Neural network)" and labels["He init"] == "He 초기화 (He init)"
    assert labels["선형 to 비선형"] == "선형 → 비선형" and labels["데이터 양 늘리기"] == "데이터 양 늘리기"
    assert all(card.summary()["keywords"][:len(card.keywords)] == card.keywords for card in bank.cards)  # JSON: verbatim
