"""Grading speed: per answer in one warm process (as `grade --batch` runs), and a 100 KB answer.

Answers are the labelled dev set (tests/data/grading_dev.jsonl). Goals (issue 3): <= 50 ms per
answer on average after warm-up, <= 2 s for a 100 KB answer, on 2 cores.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from interviewer.runtime import Runtime
from interviewer.settings import Settings

DEV_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "grading_dev.jsonl"
LONG_ANSWER_BYTES = 100_000


def dev_answers() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
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


def main() -> dict:
    answers = dev_answers()
    with tempfile.TemporaryDirectory() as home:
        rt = Runtime(Settings.from_env({"INTERVIEWER_HOME": home}))
        rt.store.ingest(rt.bank, rt.glossary)
        grader, bank = rt.grader, rt.bank
        warm_up = timed(lambda: grader.grade(bank.get(answers[0][0]), answers[0][1]))
        per_answer = [timed(lambda c=card_id, a=answer: grader.grade(bank.get(c), a))
                      for card_id, answer in answers]
        essay = long_answer(answers)
        long_runs = [timed(lambda: grader.grade(bank.get(answers[0][0]), essay)) for _ in range(3)]
    figures = {
        "answers": len(per_answer),
        "first_answer_s": warm_up,
        "mean_ms": 1000 * statistics.mean(per_answer),
        "p95_ms": 1000 * statistics.quantiles(per_answer, n=20)[-1],
        "long_answer_s": statistics.median(long_runs),
    }
    print(f"first answer (loads Kiwi, e5, index):  {figures['first_answer_s']:.2f} s")
    print(f"per answer, warm ({figures['answers']} dev answers):  mean {figures['mean_ms']:.1f} ms, "
          f"p95 {figures['p95_ms']:.1f} ms  (goal: mean <= 50 ms)")
    print(f"100 KB answer:                          {figures['long_answer_s']:.2f} s  (goal <= 2 s)")
    return figures


if __name__ == "__main__":
    main()
