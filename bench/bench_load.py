"""Many candidates on one app (the 50-user mode of bench_app.py): time to answer, the server's CPU per
answer and its peak memory.

The scripted users are bench_app.py's (one gradio_client Client each, 3 questions, a think time
between answers: 2 s stresses the app, a candidate typing takes far longer), run 10 per client process: 50 Clients in one process saturate that process's GIL and would measure
the benchmark instead of the app. The clients share the machine's cores with the server, so the
server's CPU per answer is reported beside the client-side times. Goals (issue 8, no LLM): p95 <= 1 s
with 50 users, peak resident memory (VmHWM) <= 700 MB.

    python bench/bench_load.py [--users 10 50] [--think 2] [--staggered]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import bench_app
from common import load_average, percentile, status_mb

USERS_PER_PROCESS = 10
QUESTIONS = 3


class Load(NamedTuple):
    users: int
    think: float  # seconds between a user's answers
    staggered: bool = False  # False: every user starts at once and they answer in step (bench_app.py)


def client_process(url: str, indices: range, load: Load) -> tuple[list[float], list[str], float]:
    """Some of the users, as threads of one process: their answer times, errors and CPU seconds."""
    times: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=arriving_user, args=(url, i, load, times, errors)) for i in indices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, errors, time.process_time()


def arriving_user(url: str, index: int, load: Load, times: list[float], errors: list[str]) -> None:
    if load.staggered:  # arrivals spread evenly over one think time, as candidates do not start in step
        time.sleep(load.think * index / load.users)
    bench_app.user(url, index, QUESTIONS, load.think, times, errors)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_run(url: str, server_pid: int, load: Load) -> dict:
    processes = -(-load.users // USERS_PER_PROCESS)
    server_cpu, started = cpu_seconds(server_pid), time.perf_counter()
    # spawn: the benchmark process holds thread pools (Chroma, OpenMP) that a fork would copy half-alive
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(client_process, [url] * processes,
                              [range(i, load.users, processes) for i in range(processes)], [load] * processes))
    times = [t for part in parts for t in part[0]]
    errors = [e for part in parts for e in part[1]]
    answers = max(1, len(times))
    figures = {**load._asdict(), "answers": len(times), "errors": errors, "wall_s": time.perf_counter() - started,
               "p50_s": statistics.median(times), "p95_s": percentile(times, 0.95), "max_s": max(times),
               "server_cpu_ms": 1000 * (cpu_seconds(server_pid) - server_cpu) / answers,
               "client_cpu_ms": 1000 * sum(part[2] for part in parts) / answers}
    print(f"{load.users:3d} users, {load.think:g} s think{', staggered' if load.staggered else ''}, {len(times)} answers in {figures['wall_s']:.1f} s: time to answer p50 "
          f"{figures['p50_s']:.2f} s, p95 {figures['p95_s']:.2f} s, max {figures['max_s']:.2f} s; CPU per answer: "
          f"server {figures['server_cpu_ms']:.0f} ms, clients {figures['client_cpu_ms']:.0f} ms; errors {len(errors)}",
          flush=True)
    for error in errors[:5]:
        print("   ", error)
    return figures


@contextlib.contextmanager
def app_environment(env: dict[str, str]):
    """bench_app.launch passes our environment to the app: these variables reach it (and only it)."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def measure(home: Path, loads: list[Load], env: dict[str, str] | None = None) -> dict:
    """One `interviewer serve` (with `env`: e.g. another bank, a Chroma server), a warm-up user, then
    each load in turn; memory is read before the server stops."""
    port = bench_app.free_port()
    with app_environment(env or {}):
        proc = bench_app.launch(str(home), port)
    try:
        url = f"http://127.0.0.1:{port}/"
        bench_app.run(url, 1, 1, 0)  # loads the grader's models once, not counted
        after_start = status_mb("VmRSS", proc.pid)
        runs = [load_run(url, proc.pid, load) for load in loads]
        figures = {"runs": runs, "rss_after_start_mb": after_start, "peak_mb": status_mb("VmHWM", proc.pid),
                   "load": load_average()}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"server memory: {figures['rss_after_start_mb']:.0f} MB after start, peak {figures['peak_mb']:.0f} MB")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--think", type=float, default=2.0, help="seconds between a user's answers")
    parser.add_argument("--staggered", action="store_true", help="users arrive spread over one think time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        measure(Path(home), [Load(n, args.think, args.staggered) for n in args.users])
    print("goals: p95 <= 1 s with 50 users; peak memory <= 700 MB")


if __name__ == "__main__":
    main()
