"""Clause analysis: what a negation governs, what only names a term, what a list or a telegraphic
clause is (Kiwi, really loaded)."""

from __future__ import annotations

import pytest

from interviewer.lang.text import segment_answer


def only(answer: str):
    segments = segment_answer(answer)
    assert len(segments) == 1, [s.text for s in segments]
    return segments[0]


@pytest.mark.parametrize("answer, governed", [
    # Korean: back to the ending that closes the clause before the negated predicate
    ("선형성을 유지해야 gradient가 잘 흐르기 때문에 비선형으로 바꾸지는 않습니다.", "비선형으로 바꾸지는 않습니다"),
    ("seed는 고정하면 결과가 달라 보이니까 고정하지 않고 매번 바꿉니다.", "고정하지 않고"),
    # English: the negation's own clause, not the one before the comma
    ("BN normalizes each mini-batch, so you don't have to tune the initialization as carefully.",
     "you don't have to tune the initialization as carefully."),
    # an arrow closes a clause too
    ("bias: 결정경계를 원점에서 평행이동 → 그래서 원점을 안 지나도 됨.", "그래서 원점을 안 지나도"),
])
def test_a_negation_governs_its_own_clause(answer, governed):
    assert only(answer).negations == (governed,)


@pytest.mark.parametrize("answer", [
    "학습률이 안 떨어지면 loss가 진동합니다.",          # a condition
    "If the learning rate is not decayed, the loss oscillates.",
    "드롭아웃은 뉴런들이 서로에게 의존하지 않게 만들어 줍니다.",  # a purpose
    "이게 과적합 때문 아닐까요?",                        # a question
    "bias: 결정경계를 원점에서 평행이동 → 원점 안 지나는 데이터도 fit.",  # a relative clause
])
def test_conditions_purposes_and_questions_deny_nothing(answer):
    assert not only(answer).negated


@pytest.mark.parametrize("answer, content", [
    ("BN은 Batch Normalization의 약자이고 2015년 Ioffe와 Szegedy가 제안했습니다.", ""),
    ("Define and run, define by run이라는 말도 있죠.", ""),
    ("Adam은 Adaptive Moment Estimation의 줄임말로, momentum과 RMSprop을 결합해 학습률을 조절합니다.",
     "momentum과 RMSprop을 결합해 | 학습률을 조절합니다."),
])
def test_parts_that_only_name_a_term_are_set_aside(answer, content):
    assert only(answer).content == content


def test_a_long_meaning_defines_and_is_kept():
    segment = only("과적합은 모델이 훈련 데이터를 외워서 새 데이터에 일반화하지 못한다는 뜻입니다.")
    assert segment.content is None and "일반화" in segment.normalized


@pytest.mark.parametrize("answer, explanatory", [
    ("Gaussian, LeCun, Xavier, He 초기화가 있습니다.", False),    # a list with a closing predicate
    ("데이터 양 늘리기, regularization, dropout, norm penalty.", False),
    ("Dropout: 뉴런 무작위 제거로 co-adaptation 억제, 앙상블 효과.", True),  # telegraphic, but relates
    ("val set: 학습 중 모델 성능 평가용.", True),
    ("learning rate가 너무 크면 발산합니다.", True),
])
def test_lists_and_telegraphic_clauses(answer, explanatory):
    assert only(answer).explanatory is explanatory
