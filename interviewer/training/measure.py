"""How the grading model alone labels a labelled set: one (key point, whole answer) pair per label.

`python -m interviewer.training.measure MODEL_DIR FILE.jsonl [--bank BANK.md]` prints the keyword
figures `interviewer eval` prints (precision/recall of covered, Cohen's kappa over the three labels,
contradicted recall) and the share of labels agreed per answer kind, for the model's verdicts with no
rule around them: what the model is worth before it replaces the grader's rules. Runs without torch.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from interviewer.bank.cards import load_bank
from interviewer.core.verdicts import LABELS
from interviewer.grading.crossencoder import keypoint_text, load
from interviewer.grading.evaluation import cohen_kappa, read_examples

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def measure(model_dir: Path, labelled: Path, bank: Path | None) -> dict:
    cards = {c.id: c for c in (load_bank(KNOWLEDGE, [bank], include_bundled=False) if bank else load_bank(KNOWLEDGE)).cards}
    model = load(model_dir, Path(os.environ.get("XDG_CACHE_HOME", tempfile.gettempdir())) / "interviewer").encoder
    items = []
    for example in read_examples(labelled):
        card = cards[example.card_id]
        keypoints = {kp.keyword: kp for kp in card.keypoints}
        for keyword, human in example.labels.items():
            items.append((example.kind, human, (keypoint_text(card, keypoints[keyword]), example.answer)))
    probs = model.probabilities([pair for _, _, pair in items])
    predicted = [model.labels[i] for i in probs.argmax(axis=1)]
    humans = [human for _, human, _ in items]
    tp = sum(h == p == "covered" for h, p in zip(humans, predicted, strict=True))
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for (kind, human, _), verdict in zip(items, predicted, strict=True):
        by_kind[kind]["n"] += 1
        by_kind[kind]["agreed"] += human == verdict
        by_kind[kind]["wrong credit"] += verdict == "covered" and human != "covered"
    contradicted = [p for h, p in zip(humans, predicted, strict=True) if h == "contradicted"]
    return {
        "labels": len(items),
        "covered_precision": round(tp / max(1, predicted.count("covered")), 3),
        "covered_recall": round(tp / max(1, humans.count("covered")), 3),
        "kappa": round(cohen_kappa(humans, predicted, LABELS), 3),
        "contradicted_recall": round(contradicted.count("contradicted") / len(contradicted), 3) if contradicted else None,
        "by_kind": {kind: {"n": c["n"], "agreed": round(c["agreed"] / c["n"], 2), "wrong_credit": c["wrong credit"]}
                    for kind, c in sorted(by_kind.items())},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m interviewer.training.measure")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("labelled", type=Path)
    parser.add_argument("--bank", type=Path)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.model_dir, args.labelled, args.bank), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
