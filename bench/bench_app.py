"""Concurrent candidates on one app: time to answer, and that nobody sees another's answers.

Launches `interviewer serve` on loopback in a fresh INTERVIEWER_HOME, then N scripted users, each
with its own gradio_client Client (one Client = one session): /start, answers until the interview
ends, /finish. Time to answer is the client-side wall time of one /answer call (queue + grading +
SQLite + reply). Goal (issue 4): p95 <= 1 s with 10 concurrent users on 2 cores.

    python bench/bench_app.py [--users 10 50] [--questions 3] [--think 2]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = [
    "학습률이 너무 크면 최솟값을 지나쳐 발산하기 때문에 loss가 증가할 수 있습니다.",
    "dropout은 노드들이 서로 의존하지 않게 해서 co-adaptation을 막고 여러 모델을 앙상블하는 효과가 있습니다.",
    "weight initialization을 잘 하고 pre-train을 하면 좋은 지점에서 출발할 수 있습니다.",
    "잘 모르겠지만 데이터를 더 모으고 regularization을 적용하겠습니다.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(home: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "INTERVIEWER_HOME": home}
    subprocess.run([sys.executable, "-m", "interviewer.shells.cli", "ingest"], check=True, env=env,
                   capture_output=True, cwd=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "interviewer.shells.cli", "serve", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start")


def user(url: str, index: int, questions: int, think: float, times: list[float], errors: list[str]) -> None:
    from gradio_client import Client

    mark = f"[user{index:03d}]"
    try:
        client = Client(url, verbose=False)
        client.predict(questions, "", index, api_name="/start")
        for step in range(questions * 3 + 1):
            started = time.perf_counter()
            reply = client.predict(f"{mark} {ANSWERS[(index + step) % len(ANSWERS)]}", api_name="/answer")
            times.append(time.perf_counter() - started)
            if reply["finished"]:
                break
            time.sleep(think)
        report = client.predict(api_name="/finish")["report_json"]
        answers = [q["answer"] for q in report["questions"] if q["answer"]]
        if not answers or any(not a.startswith(mark) for a in answers):
            errors.append(f"{mark}: saw answers that are not its own")
        if report["status"] != "finished":
            errors.append(f"{mark}: session not finished")
    except Exception as exc:  # a benchmark reports failures instead of dying on the first one
        errors.append(f"{mark}: {type(exc).__name__}: {exc}")


def run(url: str, users: int, questions: int, think: float) -> dict:
    times: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=user, args=(url, i, questions, think, times, errors))
               for i in range(users)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("nan")
    figures = {"users": users, "answers": len(times), "p50_s": statistics.median(ordered) if ordered else None,
               "p95_s": p95, "max_s": ordered[-1] if ordered else None, "wall_s": wall, "errors": errors}
    print(f"{users:3d} users, {len(times)} answers in {wall:.1f} s: time to answer p50 {figures['p50_s']:.3f} s, "
          f"p95 {p95:.3f} s, max {figures['max_s']:.3f} s; sessions with errors: {len(errors)}")
    for error in errors[:5]:
        print("   ", error)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10])
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--think", type=float, default=2.0,
                        help="seconds a user pauses between answers (0: stress, every user always waiting)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        port = free_port()
        proc = launch(home, port)
        try:
            url = f"http://127.0.0.1:{port}/"
            run(url, 1, 1, 0)  # warm-up: loads the grader's models once, not counted
            results = [run(url, n, args.questions, args.think) for n in args.users]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    if any(r["errors"] for r in results):
        raise SystemExit(1)
    print("goal: p95 <= 1 s with 10 users:", "met" if all(r["p95_s"] <= 1.0 for r in results if r["users"] <= 10)
          else "NOT met")


if __name__ == "__main__":
    main()
