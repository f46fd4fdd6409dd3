"""The grading model's training data: well formed, split by bank, and free of every evaluation text.

Training banks and their labelled answers live in `knowledge/training/`; `split.yaml` assigns each
bank to train or validation. No answer of a labelled set in `tests/data/` or of a public benchmark in
`../shared/benchmarks/` may appear in training data (compared on normalised text, so spacing, case and
punctuation do not hide a copy), and no evaluation bank is a training bank.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from interviewer.bank.cards import load_bank
from interviewer.training.pairs import ENCODER_CLASSES, bank_pairs

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
TRAINING = KNOWLEDGE / "training"
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
KINDS = {"complete", "partial", "paraphrase", "english", "mixed", "alias", "negation", "wrong_related", "off_topic",
         "stuffing", "short", "formula", "dont_know", "injection", "reversed", "swapped"}
# Shorter evaluation answers ("push", "O(log n)") are the field's common words, not texts one could copy.
MIN_COPIED = 12
MIN_CONTAINED = 40  # an evaluation answer this long (normalised) may not sit inside a training text either


def normalised(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def training_banks() -> list[Path]:
    return sorted((TRAINING / "banks").glob("*.md"))


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluation_answers() -> list[tuple[str, str]]:
    """(where, answer) for every labelled evaluation answer we hold, and the benchmarks when present."""
    found = [(path.name, row["answer"]) for path in sorted((ROOT / "tests" / "data").glob("*.jsonl"))
             for row in rows(path)]
    for path in (BENCHMARKS / "mohler" / "answers.jsonl", BENCHMARKS / "boostdevs" / "boostdevs.jsonl"):
        if path.exists():
            found += [(path.parent.name, row["answer"]) for row in rows(path)]
    return found


def test_every_training_bank_is_in_exactly_one_split():
    split = yaml.safe_load((TRAINING / "split.yaml").read_text(encoding="utf-8"))
    train, validation = set(split["train"]), set(split["validation"])
    assert not train & validation
    assert {bank.stem for bank in training_banks()} == train | validation
    assert len(validation) >= 3 and len(train) >= 10


@pytest.mark.parametrize("bank", training_banks(), ids=lambda p: p.stem)
def test_labelled_answers_match_their_bank(bank):
    cards = {card.id: card for card in load_bank(KNOWLEDGE, [bank], include_bundled=False).cards}
    answers = rows(TRAINING / "labels" / f"{bank.stem}.jsonl")
    ids = {row["id"] for row in answers}
    assert len(ids) == len(answers)
    for row in answers:
        card = cards[row["card_id"]]
        assert card.gradable
        assert set(row["labels"]) == {kp.keyword for kp in card.keypoints}
        assert set(row["labels"].values()) <= set(ENCODER_CLASSES)
        assert row["kind"] in KINDS and 0 <= row["grade"] <= 4
        assert row.get("twin_of") is None or row["twin_of"] in ids


def test_no_evaluation_answer_is_in_the_training_data():
    texts = []
    for bank in training_banks():
        labels = TRAINING / "labels" / f"{bank.stem}.jsonl"
        pairs = bank_pairs(KNOWLEDGE, bank, labels if labels.exists() else None, 0)
        texts += [normalised(text) for p in pairs for text in (p.left, p.right)]
    exact, joined = set(texts), "\n".join(texts)
    leaks = [(where, answer) for where, answer in evaluation_answers()
             if len(key := normalised(answer)) >= MIN_COPIED
             and (key in exact or (len(key) >= MIN_CONTAINED and key in joined))]
    assert not leaks, leaks[:5]


def test_the_leak_check_would_see_a_copy():
    where, answer = next((w, a) for w, a in evaluation_answers() if len(normalised(a)) >= MIN_CONTAINED)
    disguised = f"  {answer.upper()}!! ".replace(" ", "  ")
    assert normalised(answer) in normalised(f"앞 문장. {disguised} 뒤 문장.")


def test_no_evaluation_bank_is_a_training_bank():
    evaluation_titles = {card.title for path in (ROOT / "tests" / "data").glob("*_bank.md")
                         for card in load_bank(KNOWLEDGE, [path], include_bundled=False).cards}
    mohler = BENCHMARKS / "mohler" / "bank.md"
    if mohler.exists():
        evaluation_titles |= {card.title for card in load_bank(KNOWLEDGE, [mohler], include_bundled=False).cards}
    for bank in training_banks():
        titles = {card.title for card in load_bank(KNOWLEDGE, [bank], include_bundled=False).cards}
        assert not titles & evaluation_titles, (bank.name, sorted(titles & evaluation_titles)[:3])
