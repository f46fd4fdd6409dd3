"""Grading speed: per answer in one warm process (as `grade --batch` runs), a 100 KB answer, a big bank.

Answers are the labelled dev set (tests/data/grading_dev.jsonl). Goals (issue 3): <= 50 ms per
answer on average after warm-up, <= 2 s for a 100 KB answer, on 2 cores.
With `--cards N` also a synthetic bank of N cards (issue 8): one answer per card (two of its
reference sentences and a filler), so each grade also builds that card's key-point models from the
store, as a fresh question in the app does.

    python bench/bench_grading.py [--cards 10000] [--answers 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from common import percentile, runtime_for
from synth_bank import write_bank

from interviewer.bank.cards import split_sentences
from interviewer.grading.grader import MAX_ANSWER_BYTES

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
DEV_SET = DATA / "grading_dev.jsonl"
TEAM_BANK, TEAM_SET = DATA / "team_dev_bank.md", DATA / "team_dev.jsonl"  # a team's own bank, no curation
LONG_ANSWER_BYTES = MAX_ANSWER_BYTES  # the longest answer the grader reads


def dev_answers(path: Path = DEV_SET) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["card_id"], row["answer"]) for row in rows]


def long_answer(answers: list[tuple[str, str]]) -> str:
    """Real answer text repeated to 100 KB of UTF-8: many sentences, as a pasted essay would be."""
    text, parts = "", [answer for _, answer in answers]
    while len(text.encode("utf-8")) < LONG_ANSWER_BYTES:
        text += " ".join(parts) + " "
    return text.encode("utf-8")[:LONG_ANSWER_BYTES].decode("utf-8", errors="ignore")


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def grade_dev_set(home: Path) -> dict:
    answers = dev_answers()
    rt = runtime_for(home)
    rt.store.ingest(rt.bank, rt.glossary)
    grader, bank = rt.grader, rt.bank
    warm_up = timed(lambda: grader.grade(bank.get(answers[0][0]), answers[0][1]))
    per_answer = [timed(lambda c=card_id, a=answer: grader.grade(bank.get(c), a)) for card_id, answer in answers]
    essay = long_answer(answers)
    long_runs = [timed(lambda: grader.grade(bank.get(answers[0][0]), essay)) for _ in range(3)]
    figures = {
        "answers": len(per_answer),
        "first_answer_s": warm_up,
        "mean_ms": 1000 * statistics.mean(per_answer),
        "p50_ms": 1000 * statistics.median(per_answer),
        "p95_ms": 1000 * percentile(per_answer, 0.95),
        "long_answer_s": statistics.median(long_runs),
    }
    print(f"first answer (loads Kiwi, e5, index):  {figures['first_answer_s']:.2f} s")
    print(f"per answer, warm ({figures['answers']} dev answers):  mean {figures['mean_ms']:.1f} ms, "
          f"p95 {figures['p95_ms']:.1f} ms  (goal: mean <= 50 ms)")
    print(f"100 KB answer:                          {figures['long_answer_s']:.2f} s  (goal <= 2 s)", flush=True)
    return figures


def grade_team_bank(home: Path) -> dict:
    """Per answer on a bank with no curation: every key point is learned from the bank."""
    answers = dev_answers(TEAM_SET)
    rt = runtime_for(home, TEAM_BANK)
    rt.store.ingest(rt.bank, rt.glossary)
    timed(lambda: rt.grader.grade(rt.bank.get(answers[0][0]), answers[0][1]))
    per_answer = [timed(lambda c=card_id, a=answer: rt.grader.grade(rt.bank.get(c), a)) for card_id, answer in answers]
    figures = {"answers": len(per_answer), "mean_ms": 1000 * statistics.mean(per_answer),
               "p95_ms": 1000 * percentile(per_answer, 0.95)}
    print(f"per answer, a team's own bank without curation ({figures['answers']} answers):  "
          f"mean {figures['mean_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms", flush=True)
    return figures


def grade_synthetic(home: Path, bank: Path, answers: int, seed: int = 5) -> dict:
    """Per-answer time on a big bank, each answer to a card not graded before in the process."""
    rt = runtime_for(home, bank)
    rng = random.Random(seed)
    cards = rng.sample([card for card in rt.bank.cards if card.gradable], answers + 1)
    items = [(card, " ".join([*rng.sample(split_sentences(card.answer), 2), "실무에서도 자주 쓰는 방법입니다."]))
             for card in cards]
    warm_up = timed(lambda: rt.grader.grade(*items[0]))  # opens the index and checks it is current
    per_answer = [timed(lambda item=item: rt.grader.grade(*item)) for item in items[1:]]
    figures = {"cards": len(rt.bank.cards), "answers": len(per_answer), "first_answer_s": warm_up,
               "mean_ms": 1000 * statistics.mean(per_answer), "p50_ms": 1000 * statistics.median(per_answer),
               "p95_ms": 1000 * percentile(per_answer, 0.95)}
    print(f"{figures['cards']}-card bank, one answer per card: first {warm_up:.1f} s, then mean "
          f"{figures['mean_ms']:.0f} ms, p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms "
          f"(n={len(per_answer)})", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=0, help="also grade on a synthetic bank of this many cards")
    parser.add_argument("--answers", type=int, default=200, help="answers on the synthetic bank")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        grade_dev_set(root / "home-bundled")
        grade_team_bank(root / "home-team")
        if args.cards:
            grade_synthetic(root / "home-synth", write_bank(root / "bank.md", args.cards), args.answers)


if __name__ == "__main__":
    main()
