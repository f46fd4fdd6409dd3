"""Training pairs for the grading model: (key point, answer text) → covered / missing / contradicted.

Two sources, both split by bank (a bank's cards are all train or all validation, never both):
- labelled answers written by people who never saw the grader (`knowledge/training/labels/*.jsonl`,
  LABELLING.md's format), one pair per answer and keyword;
- free pairs from any bank's own text: a key point's reference clauses are `covered`, its sibling key
  points' and other cards' clauses `missing`, a bare keyword that is not a name `missing`, and each
  reference clause negated, flipped or with two names swapped (`perturb`) `contradicted`, and restated
  without a change of meaning (`perturb.restate`) `covered`, so that a small difference alone never
  reads as a contradiction.
"""

from __future__ import annotations

import functools
import json
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from interviewer.bank.cards import Bank, load_bank
from interviewer.core.models import KeyPoint
from interviewer.grading.crossencoder import keypoint_text, names_itself
from interviewer.training.perturb import card_names, flip, negate, restate, swap

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"
TRAINING = KNOWLEDGE / "training"
ENCODER_CLASSES = ("missing", "covered", "contradicted")  # the cross-encoder head's classes, in its output order
OTHER_CARD_NEGATIVES = 3  # clauses of other cards in the same bank, per key point


@dataclass(frozen=True)
class Pair:
    bank: str
    card_id: str
    keyword: str
    left: str    # the key point as the model reads it
    right: str   # an answer, or a clause standing in for one
    label: str   # one of ENCODER_CLASSES
    origin: str  # labelled:<kind> | reference | sibling | other-card | name-only | negated | flipped | swapped

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def anchors(kp: KeyPoint) -> list[str]:
    """The reference clauses that state the key point (curated claims included)."""
    return list(dict.fromkeys(t.strip() for t in [kp.explanation, *kp.claims] if t and t.strip()))


def reference_pairs(bank_name: str, bank: Bank, seed: int) -> Iterator[Pair]:
    rng = random.Random(f"{seed}:{bank_name}")
    cards = [card for card in bank.cards if card.gradable]
    clauses_of = {card.id: [a for kp in card.keypoints for a in anchors(kp)] for card in cards}
    for card in cards:
        names = card_names(card.title)
        others = [c for other in cards if other.id != card.id for c in clauses_of[other.id]]
        for kp in card.keypoints:
            own = anchors(kp)
            siblings = [c for sibling in card.keypoints if sibling is not kp for c in anchors(sibling) if c not in own]
            pair = functools.partial(Pair, bank_name, card.id, kp.keyword, keypoint_text(card, kp))
            for clause in own:
                yield pair(clause, "covered", "reference")
                restated = restate(clause, rng.randrange(5))
                if restated:
                    yield pair(restated, "covered", "restated")
                context = in_context(siblings, rng)
                turns = [(origin, turned) for origin, turned in (("negated", negate(clause)), ("flipped", flip(clause)),
                                                                 ("swapped", swap(clause, names)))
                         if turned and turned != clause]
                for origin, turned in turns:
                    yield pair(turned, "contradicted", origin)
                if context and turns:
                    yield pair(context(clause), "covered", "reference-in-context")
                    for origin, turned in turns:
                        yield pair(context(turned), "contradicted", f"{origin}-in-context")
            for clause in siblings:
                yield pair(clause, "missing", "sibling")
            for clause in rng.sample(others, min(OTHER_CARD_NEGATIVES, len(others))):
                yield pair(clause, "missing", "other-card")
            if all(names_itself(clause, kp.keyword) for clause in own):
                yield pair(kp.keyword, "covered", "name-is-answer")
            elif not kp.named:
                yield pair(kp.keyword, "missing", "name-only")


def in_context(siblings: list[str], rng: random.Random) -> Callable[[str], str] | None:
    """A sibling key point's reference clause beside the clause, on a side drawn once: a clause and its
    turned twin then differ in the turn alone, as a correct answer and a reversed one do."""
    if not siblings:
        return None
    other, first = rng.choice(siblings), rng.random() < 0.5
    return lambda clause: f"{sentence(clause)} {other}" if first else f"{sentence(other)} {clause}"


def sentence(clause: str) -> str:
    return clause if clause.rstrip()[-1:] in ".!?。" else f"{clause.rstrip()}."


def labelled_pairs(bank_name: str, bank: Bank, rows: Iterable[dict]) -> Iterator[Pair]:
    cards = {card.id: card for card in bank.cards}
    for row in rows:
        card = cards[row["card_id"]]
        keypoints = {kp.keyword: kp for kp in card.keypoints}
        for keyword, label in row["labels"].items():
            kp = keypoints[keyword]
            yield Pair(bank_name, card.id, keyword, keypoint_text(card, kp), row["answer"], label,
                       f"labelled:{row['kind']}")


def split_names() -> dict[str, str]:
    """bank name → "train" | "validation" (knowledge/training/split.yaml)."""
    data = yaml.safe_load((TRAINING / "split.yaml").read_text(encoding="utf-8"))
    return {name: role for role in ("train", "validation") for name in data.get(role) or []}


def log(message: str) -> None:
    print(f"train: {message}", file=sys.stderr, flush=True)


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bank_pairs(knowledge: Path, bank_path: Path | None, labels: Path | None, seed: int) -> list[Pair]:
    """Every pair of one bank: the bundled bank when `bank_path` is None."""
    bank = load_bank(knowledge) if bank_path is None else load_bank(knowledge, [bank_path], include_bundled=False)
    name = "bundled" if bank_path is None else bank_path.stem
    pairs = list(reference_pairs(name, bank, seed))
    if labels is not None:
        pairs += labelled_pairs(name, bank, read_rows(labels))
    return pairs
