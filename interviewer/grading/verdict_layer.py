"""The verdict on one key point, learned: a multinomial logistic layer over what the cross-encoder read
and what the clause analysis found.

Its inputs, per key point: the cross-encoder's probabilities for (key point, answer); the verdict the
clause analysis reached and how (a lexical match, a meaning match, a negation, a binding, a curated
wrong claim), once as is and once for learned key points, whose signals mean less than curated ones.
`make train` fits it on banks the cross-encoder never trained on (`training/verdicts.py`); it ships as
`grading/model/verdict.npz`. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interviewer.core.models import KeyPointResult
from interviewer.core.verdicts import LABELS, VERDICTS, Method

SIGNAL_METHODS = (Method.LEXICAL, Method.LEXICAL_SEMANTIC, Method.SEMANTIC, Method.NEGATION, Method.BINDING,
                  Method.CONTRADICTION_CLAIM)
FLOOR = 1e-4  # probabilities are read as logs; the floor keeps a confident zero finite


@dataclass(frozen=True)
class Signals:
    """What is known of one key point before the verdict."""

    analysis: KeyPointResult  # the clause analysis' verdict, method and evidence
    model: dict[str, float]   # the cross-encoder's probability of each label
    learned: bool             # a key point learned from the bank's words, not curated


def features(signals: Signals) -> np.ndarray:
    """One row of the layer's input; the last column is the constant."""
    found = [signals.analysis.verdict == v for v in VERDICTS]
    found += [signals.analysis.method == m for m in SIGNAL_METHODS]
    learned = float(signals.learned)
    read = [float(np.log(max(signals.model[label], FLOOR))) for label in LABELS]
    return np.array([*found, *(learned * f for f in found), *read, learned, 1.0], dtype=np.float64)


N_FEATURES = len(features(Signals(KeyPointResult(keyword="", verdict="missing"), dict.fromkeys(LABELS, 1.0), False)))


@dataclass(frozen=True)
class VerdictLayer:
    weight: np.ndarray  # [features, labels]

    def logits(self, signals: list[Signals]) -> np.ndarray:
        """[len(signals), labels]"""
        if not signals:
            return np.zeros((0, len(LABELS)))
        return np.vstack([features(s) for s in signals]) @ self.weight

    def save(self, path: Path) -> None:
        np.savez(path, weight=self.weight, labels=np.array(LABELS))

    @classmethod
    def read(cls, path: Path) -> VerdictLayer:
        """Raises ValueError when the file is not a layer over these features and labels."""
        with np.load(path) as stored:
            weight, labels = stored["weight"], tuple(str(x) for x in stored["labels"])
        if labels != LABELS or weight.shape != (N_FEATURES, len(LABELS)):
            raise ValueError(f"a verdict layer of shape {weight.shape} over {labels}, not over these signals")
        return cls(weight)
