"""The automatic key-point model: concepts, anchors and names learned from a card alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from interviewer.bank.keypoints import automatic_keypoint, content_words, keyword_concepts, reference_units
from interviewer.core.models import Card
from interviewer.lang.text import Glossary
from interviewer.runtime import Runtime
from interviewer.settings import Settings
from interviewer.shells.doctor import check_keypoints


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load(Settings.from_env().knowledge)


def card(title: str, keywords: list[str], answer: str, notes: list[str] = ()) -> Card:
    return Card(id="c", title=title, keywords=keywords, answer=answer, notes=list(notes))


def test_content_words_drop_particles_and_endings():
    assert content_words("연산량을 줄임") == ["연산량", "줄이"]
    assert content_words("데이터 양 늘리기") == ["데이터", "양", "늘리"]
    assert content_words("feature의 차원 증가") == ["feature", "차원", "증가"]
    assert "기울기" in content_words("기울기를 업데이트 하는 방식")  # 기 is part of the word, not an ending
    assert "하는" not in content_words("기울기를 업데이트 하는 방식")


def test_concepts_take_glossary_phrases_whole_and_add_acronyms(glossary):
    vanishing = keyword_concepts("기울기 소실", glossary)
    assert len(vanishing) == 1 and "vanishing gradient" in vanishing[0]
    assert keyword_concepts("encoder-decoder", glossary) == [["encoder"], ["decoder"]]
    layer_norm = keyword_concepts("Layer Normalization", glossary)
    assert any("LN" in concept for concept in layer_norm)
    assert all("co" not in concept for concept in keyword_concepts("co-adaptation 방지", glossary))


def test_anchor_is_the_clause_that_shares_the_keyword_words(glossary):
    c = card("Transformer에서 positional encoding이 필요한 이유는?", ["순서 정보 주입"],
             "Self-attention은 토큰 순서를 모르기 때문에, 각 위치의 순서 정보를 embedding에 더해 주입합니다. "
             "학습도 병렬로 됩니다.")
    kp = automatic_keypoint(c, "순서 정보 주입", glossary)
    assert kp.source == "automatic" and kp.anchored and kp.learned
    assert "주입" in kp.explanation and "병렬" not in kp.explanation
    assert kp.terms == [["순서"], ["정보"], ["주입"]]


def test_a_keyword_found_nowhere_is_flagged_unanchored(glossary):
    c = card("Positional encoding 방법은?", ["sinusoidal"], "sin과 cos 함수로 위치마다 다른 값을 만듭니다.")
    kp = automatic_keypoint(c, "sinusoidal", glossary)
    assert not kp.anchored and kp.explanation == ""


def test_names_count_only_when_the_question_asks_for_methods(glossary):
    asks = card("오버피팅을 막는 방법에는 무엇이 있나요?", ["Dropout"], "Dropout으로 뉴런을 끕니다.")
    explains = card("LSTM은 이 문제를 어떻게 완화하나요?", ["cell state"], "cell state가 따로 흐릅니다.")
    subject = card("Beam search 방법이란?", ["Beam search"], "후보 k개를 남깁니다.")
    assert automatic_keypoint(asks, "Dropout", glossary).named
    assert not automatic_keypoint(explains, "cell state", glossary).named
    assert not automatic_keypoint(subject, "Beam search", glossary).named  # the question's own subject


def test_reference_units_split_sentences_and_clauses_without_markup():
    c = card("q?", [], "**A**는 X를 하고, B는 Y를 합니다. 두 번째 문장입니다.", ["- $x^2$ 수식 노트 https://e.x/y"])
    units = reference_units(c)
    assert "A는 X를 하고, B는 Y를 합니다" in units and "B는 Y를 합니다" in units
    assert all("**" not in u and "$" not in u and "http" not in u for u in units)


def test_a_one_word_reference_is_its_own_unit_and_short_fragments_beside_sentences_are_not():
    assert reference_units(card("Which operation adds to a stack?", ["push"], "push")) == ["push"]
    assert reference_units(card("q?", ["x"], "예:\n정렬은 비교 기반이면 O(n log n)입니다.")) == [
        "정렬은 비교 기반이면 O(n log n)입니다"]
    assert reference_units(card("q?", ["x"], " ")) == []


ONE_WORD_BANK = """## What is the stack operation corresponding to the enqueue operation in queues?
Keyword: push
Answer: push

## What is a queue?
Keyword: first in first out
Answer: A queue is a first in first out structure: items are added at the back and removed from the front.

## What is a leaf?
Keyword: node with no children
Answer:
"""


def test_a_card_whose_reference_is_one_word_is_graded_on_it(tmp_path: Path):
    bank = tmp_path / "stack.md"
    bank.write_text(ONE_WORD_BANK, encoding="utf-8")
    rt = Runtime(Settings.from_env().with_(extra_banks=(bank,), include_bundled=False))
    push, _, leaf = rt.bank.cards
    assert [kp.keyword for kp in push.keypoints] == ["push"] and push.keypoints[0].anchored
    assert not leaf.gradable  # a truly empty reference still has nothing to grade against, and doctor says so
    assert check_keypoints(rt).details["not_gradable"] == [{"card_id": leaf.id, "reason": "empty reference answer"}]
    rt.build_index()
    covered = rt.grader.grade(push, "push adds an item on top")
    assert [kp.verdict for kp in covered.keypoints] == ["covered"] and covered.score == 100
    assert rt.grader.grade(push, "pop removes the top item").keypoints[0].verdict != "covered"
