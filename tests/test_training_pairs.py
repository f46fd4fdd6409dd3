"""Free training pairs: the rules that turn a reference clause around, and the pairs a bank yields."""

from __future__ import annotations

from collections import Counter
from os.path import commonprefix

import pytest

from interviewer.bank.cards import load_bank
from interviewer.grading.crossencoder import keypoint_text
from interviewer.settings import PACKAGE_ROOT
from interviewer.training.pairs import bank_pairs
from interviewer.training.perturb import card_names, flip, negate, restate, swap

KNOWLEDGE = PACKAGE_ROOT / "knowledge"


@pytest.mark.parametrize(("clause", "turned"), [
    ("Dropout은 뉴런 간 co-adaptation을 방지한다.", "Dropout은 뉴런 간 co-adaptation을 방지하지 않는다."),
    ("모델이 특징을 스스로 추출합니다", "모델이 특징을 스스로 추출하지 않습니다"),
    ("배치 크기와 무관하게 쓸 수 있다", "배치 크기와 무관하게 쓸 수 없다"),
    ("A prototype can simulate the behaviour.", "A prototype cannot simulate the behaviour."),
    ("The block is executed at least once", "The block is not executed at least once"),
    ("선형 결합의 표현력", None),  # no predicate to negate: no pair rather than a wrong one
])
def test_negate(clause, turned):
    assert negate(clause) == turned


@pytest.mark.parametrize(("clause", "turned"), [
    ("선형 함수를 비선형 함수로 만든다", "비선형 함수를 선형 함수로 만든다"),  # both words of the pair, never 선형 inside 비선형
    ("learning rate가 너무 크면 loss가 증가합니다", "learning rate가 너무 작으면 loss가 증가합니다"),  # one pair only
    ("the loss increases when the rate is higher", "the loss decreases when the rate is higher"),
    ("gradient가 지수적으로 작아져 사라진다", "gradient가 지수적으로 커져 사라진다"),
    ("hidden state에 요약한다", None),
    ("it is a highway", None),  # "high" inside a word is not "high"
])
def test_flip(clause, turned):
    assert flip(clause) == turned


def test_swap_exchanges_the_names_a_question_sets_side_by_side():
    names = card_names("Batch Normalization과 Layer Normalization, BN vs LN 차이는?")
    assert names == ["Batch Normalization", "Layer Normalization", "BN", "LN"]
    assert swap("BN은 배치 차원으로, LN은 feature 차원으로 정규화", names) == "LN은 배치 차원으로, BN은 feature 차원으로 정규화"
    assert swap("BN은 배치 차원으로 정규화", names) is None
    assert card_names("What is the difference between TCP and UDP?") == ["TCP", "UDP"]
    assert card_names("Data Normalization은 무엇이고 왜 필요한가요?") == ["Data Normalization"]  # one term, not two


@pytest.mark.parametrize(("clause", "restated"), [
    ("드롭아웃은 뉴런을 무작위로 꺼서 의존을 막는다.", "음, 드롭아웃은 뉴런을 무작위로 꺼서 의존을 막습니다."),
    ("A variable is a location in memory (RAM) that can store a value.",
     "Well, a variable is a location in memory that can store a value."),
    ("학습률이 크면 발산한다", "음, 학습률이 크면 발산합니다"),
    ("push", None),  # a bare term: no restatement to teach with
])
def test_restate_keeps_the_claim_and_changes_only_its_wording(clause, restated):
    assert restate(clause, 0) == restated
    if restated:  # never what a turn would make of it
        assert restate(clause, 0) not in (negate(clause), flip(clause))


def test_a_bank_yields_covered_missing_and_contradicted_pairs_for_each_key_point():
    bank = KNOWLEDGE.parent / "tests" / "data" / "team_dev_bank.md"
    pairs = bank_pairs(KNOWLEDGE, bank, None, seed=0)
    assert pairs == bank_pairs(KNOWLEDGE, bank, None, seed=0)  # deterministic
    origins = Counter(p.origin for p in pairs)
    assert {"reference", "restated", "sibling", "other-card", "negated", "flipped"} <= set(origins)
    card = next(c for c in load_bank(KNOWLEDGE, [bank], include_bundled=False).cards if c.gradable)
    kp = card.keypoints[0]
    mine = [p for p in pairs if p.card_id == card.id and p.keyword == kp.keyword]
    assert {p.left for p in mine} == {keypoint_text(card, kp)}
    assert kp.keyword in keypoint_text(card, kp) and card.title in keypoint_text(card, kp)
    reference = {p.right for p in mine if p.label == "covered"}
    assert reference and all(p.right not in reference for p in mine if p.label != "covered")
    turned = [p for p in pairs if p.origin in ("negated", "flipped", "swapped")]
    assert turned and {p.label for p in turned} == {"contradicted"}
    assert not {p.right for p in turned} & {p.right for p in pairs if p.label == "covered"}


def test_a_turned_clause_also_comes_beside_a_sibling_clause_as_the_correct_one_does():
    bank = KNOWLEDGE.parent / "tests" / "data" / "team_dev_bank.md"
    pairs = bank_pairs(KNOWLEDGE, bank, None, seed=0)
    correct = {(p.card_id, p.keyword, p.right) for p in pairs if p.origin == "reference-in-context"}
    turned = [p for p in pairs if p.origin.endswith("-in-context") and p.origin != "reference-in-context"]
    assert correct and turned and {p.label for p in turned} == {"contradicted"}
    for p in turned:
        # the same sibling clause on the same side: the pair differs in the turn alone
        rights = [right for card_id, keyword, right in correct if (card_id, keyword) == (p.card_id, p.keyword)]
        assert any(len(commonprefix([right, p.right])) + len(commonprefix([right[::-1], p.right[::-1]])) >= 20
                   for right in rights)
