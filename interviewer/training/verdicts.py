"""Fits the verdict layer (`interviewer.grading.verdict_layer`) of a trained cross-encoder.

The layer weighs what the cross-encoder read against what the clause analysis found, so it must be
fitted on answers the cross-encoder never trained on: the labelled answers of the validation banks
(learned key points, `knowledge/training/`) and `tests/data/grading_dev2.jsonl` on the bundled bank
(curated key points; that file is a fitting set from then on: the grader is tuned on
`grading_dev.jsonl` and `team_dev.jsonl` and measured once on the holdouts). Each answer is read by
the grader itself, in a fresh home, so the layer sees exactly what it sees at run time. numpy only:
`python -m interviewer.training.verdicts MODEL_DIR` refits the layer of a trained model.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from interviewer.core.verdicts import LABELS, as_label
from interviewer.grading.crossencoder import FILES, GradingModel, load_encoder, sha256, softmax
from interviewer.grading.evaluation import cohen_kappa, read_examples
from interviewer.grading.grader import Grader, final_verdict
from interviewer.grading.verdict_layer import N_FEATURES, Signals, VerdictLayer, features
from interviewer.runtime import Runtime
from interviewer.settings import Settings
from interviewer.training.pairs import ROOT, TRAINING, log, split_names

DEV_FIT = ROOT / "tests" / "data" / "grading_dev2.jsonl"
L2 = 1.0
STEPS = 3000
RATE = 0.1


def fit_sets() -> list[tuple[str, Path, Path | None]]:
    """(name, labelled answers, bank; None for the bundled one)."""
    validation = sorted(name for name, role in split_names().items() if role == "validation")
    return [(name, TRAINING / "labels" / f"{name}.jsonl", TRAINING / "banks" / f"{name}.md") for name in validation] + [
        ("grading_dev2", DEV_FIT, None)]


def read_set(model: GradingModel, labelled: Path, bank: Path | None, home: Path) -> Iterator[tuple[Signals, str]]:
    """(signals, human label) of every labelled key point, as the grader reads the answer."""
    settings = Settings.from_env({**os.environ, "INTERVIEWER_HOME": str(home)})
    if bank is not None:
        settings = settings.with_(extra_banks=(bank,), include_bundled=False)
    runtime = Runtime(settings)
    runtime.build_index()
    grader = Grader(runtime.bank, runtime.glossary, runtime.store, model)
    for example in read_examples(labelled):
        card = runtime.bank.get(example.card_id)
        reading = grader.read(card, example.answer)
        if not reading.signals:  # nothing left to read: no verdict of the layer's to fit
            continue
        by_keyword = {s.analysis.keyword: s for s in reading.signals}
        for keyword, human in example.labels.items():
            yield by_keyword[keyword], human


def fit(rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Multinomial logistic regression by plain gradient descent from zero: deterministic."""
    target = np.eye(len(LABELS))[labels]
    weight = np.zeros((rows.shape[1], len(LABELS)))
    for _ in range(STEPS):
        weight -= RATE * (rows.T @ (softmax(rows @ weight) - target) + L2 * weight) / len(rows)
    return weight


def agreement(humans: list[str], predicted: list[str]) -> dict:
    tp = sum(h == p == "covered" for h, p in zip(humans, predicted, strict=True))
    return {"n": len(humans), "covered_precision": round(tp / max(1, predicted.count("covered")), 3),
            "covered_recall": round(tp / max(1, humans.count("covered")), 3),
            "kappa": round(cohen_kappa(humans, predicted, LABELS), 3)}


def fit_layer(out: Path, work: Path) -> dict:
    """Fits `out/verdict.npz` for the encoder in `out` and records it in `out/manifest.json`."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    placeholder = VerdictLayer(np.zeros((N_FEATURES, len(LABELS))))
    model = GradingModel(load_encoder(out, manifest, work), placeholder, manifest)
    per_set: dict[str, list[tuple[Signals, str]]] = {}
    for name, labelled, bank in fit_sets():
        with tempfile.TemporaryDirectory() as home:
            per_set[name] = list(read_set(model, labelled, bank, Path(home)))
        log(f"verdict layer: read {name} ({len(per_set[name])} key points)")
    signals = [s for rows in per_set.values() for s, _ in rows]
    humans = [h for rows in per_set.values() for _, h in rows]
    layer = VerdictLayer(fit(np.vstack([features(s) for s in signals]), np.array([LABELS.index(h) for h in humans])))
    layer.save(out / "verdict.npz")
    model.layer = layer
    predicted = [as_label(final_verdict(s, p, "").verdict) for s, p in zip(signals, model.verdicts(signals), strict=True)]
    start, figures = 0, {}
    for name, rows in per_set.items():
        figures[name] = agreement(humans[start:start + len(rows)], predicted[start:start + len(rows)])
        start += len(rows)
    manifest["verdict_layer"] = {"fitted_on": figures, "l2": L2, "steps": STEPS}
    manifest["files"] = {name: sha256(out / name) for name in FILES}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"verdict layer: {json.dumps(figures)}")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m interviewer.training.verdicts")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "grading-model")
    args = parser.parse_args(argv)
    fit_layer(args.model_dir, args.work)


if __name__ == "__main__":
    main()
