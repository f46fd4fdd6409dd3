"""Candidates arriving the moment a freshly started app opens its port: are they answered as fast
as later ones?

Starts `interviewer serve` on a fresh INTERVIEWER_HOME (no index yet: serve builds it, loads Kiwi and
e5, then listens), and as soon as the port accepts a connection N scripted users (bench_app.py's,
one gradio_client Client each) start an interview at once and answer 3 questions with a think time
between answers. Time to answer is the client-side wall time of one /answer call. Goal (issue 13):
p95 <= 2 s with 10 users arriving at start, on 2 cores.

    python bench/bench_cold_start.py [--users 10] [--runs 2] [--think 2]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_app
from common import percentile

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = 3
GOAL_S = 2.0


def start_fresh(home: Path, port: int) -> tuple[subprocess.Popen, float]:
    """`interviewer serve` on an empty home; returns it and the seconds until its port accepted."""
    env = {**os.environ, "INTERVIEWER_HOME": str(home)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "interviewer.shells.cli", "serve", "--port", str(port)], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the app exited during start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the app did not start")


def arrive(url: str, index: int, think: float, times: list[float], first: list[float], errors: list[str]) -> None:
    """One candidate: the user of bench_app.py, its first answer's time noted apart."""
    mine: list[float] = []
    bench_app.user(url, index, QUESTIONS, think, mine, errors)
    times.extend(mine)
    if mine:
        first.append(mine[0])


def run_once(users: int, think: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        port = bench_app.free_port()
        proc, listening_s = start_fresh(Path(tmp) / "home", port)
        url = f"http://127.0.0.1:{port}/"
        times: list[float] = []
        first: list[float] = []
        errors: list[str] = []
        try:
            threads = [threading.Thread(target=arrive, args=(url, i, think, times, first, errors))
                       for i in range(users)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    figures = {"users": users, "listening_s": listening_s, "answers": len(times), "errors": errors,
               "p95_s": percentile(times, 0.95), "first_p95_s": percentile(first, 0.95), "max_s": max(times)}
    print(f"fresh home: listening after {listening_s:.1f} s; {users} users at once, {len(times)} answers: "
          f"time to answer p95 {figures['p95_s']:.2f} s (first answers p95 {figures['first_p95_s']:.2f} s), "
          f"max {figures['max_s']:.2f} s; errors {len(errors)}", flush=True)
    for error in errors[:5]:
        print("   ", error)
    return figures


def main(users: int = 10, runs: int = 2, think: float = 2.0) -> list[dict]:
    return [run_once(users, think) for _ in range(runs)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--think", type=float, default=2.0, help="seconds a user pauses between answers")
    args = parser.parse_args()
    results = main(args.users, args.runs, args.think)
    met = all(r["p95_s"] <= GOAL_S and not r["errors"] for r in results)
    print(f"goal: p95 <= {GOAL_S:g} s with {args.users} users arriving at start:", "met" if met else "NOT met")
