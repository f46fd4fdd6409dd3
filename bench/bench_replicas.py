"""Two app replicas on one PostgreSQL history (issue 16): time to answer with N users, and the same
with one replica killed halfway.

PostgreSQL 15 (Debian's, started by `pgserver.postgres_server`, fsync on) and two `interviewer serve`
replicas (each its own copy of the index) on this machine. Each user is one gradio_client Client of
one replica (users alternate between them), answers 3 questions and their follow-ups with a think
time between answers, arrivals spread over one think time, 10 users per client process
(`bench_load`'s set-up). In the second run replica A is killed (SIGKILL) halfway through: each of
its users, on the error, goes on on replica B as a reverse proxy without sticky sessions would send
it there: a new Client, `/resume` with the session id, and the answer sent again unless the store
shows it was recorded before A died. Its time to answer counts all of that. At the end every
session must be finished in the store with every answer its user gave: nothing lost or doubled.
Last, what the store itself costs: the session service answering in one process, no Gradio, on
SQLite and on the same PostgreSQL server.

    python bench/bench_replicas.py [--users 50] [--think 10]
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import signal
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import bench_app
import bench_load
from common import load_average, percentile
from pgserver import postgres_server

QUESTIONS = 3
WARM_UP_USERS = 10  # without them the first run also measures each card's first grading (p95 7.2 s against 3.0 s)


def failover_user(urls: list[str], index: int, users: int, think: float, out: dict) -> None:
    """One candidate on replica `index % 2`, moving to the other replica when its own is gone."""
    from gradio_client import Client

    time.sleep(think * index / users)
    mark, replica = f"[user{index:03d}]", index % 2
    given: list[str] = []
    try:
        client = Client(urls[replica], verbose=False)
        started = client.predict(QUESTIONS, "", index, api_name="/start")
        session_id, waiting = started["session_id"], (started["card_id"], started["question"])
        for step in range(QUESTIONS * 3 + 1):
            text = f"{mark} {bench_app.ANSWERS[(index + step) % len(bench_app.ANSWERS)]}"
            begun = time.perf_counter()
            try:
                reply = client.predict(text, api_name="/answer")
            except Exception:  # the replica died under this answer: the other one has the session
                replica = 1 - replica
                client = Client(urls[replica], verbose=False)
                out["failovers"].append(index)
                reply = resend_unless_recorded(client, session_id, text, waiting)
            given.append(text)
            out["times"].append(time.perf_counter() - begun)
            if reply["finished"]:
                break
            waiting = (reply["next"]["card_id"], reply["next"]["question"])
            time.sleep(think)
        try:
            report = client.predict(api_name="/finish")["report_json"]
        except Exception:  # the replica died after the last answer
            client = Client(urls[1 - replica], verbose=False)
            out["failovers"].append(index)
            client.predict(session_id, api_name="/resume")
            report = client.predict(api_name="/finish")["report_json"]
        answers = [q["answer"] for q in report["questions"] if q["answer"]]
        if answers != given or report["status"] != "finished":
            out["lost"].append(f"{mark}: the store holds {len(answers)} answers of {len(given)} given "
                                 f"(status {report['status']})")
    except Exception as exc:  # a benchmark reports failures instead of dying on the first one
        out["errors"].append(f"{mark}: {type(exc).__name__}: {exc}")


def resend_unless_recorded(client, session_id: str, text: str, waiting: tuple[str, str]) -> dict:
    """After a failover, `/answer`'s reply: the answer sent again when the session still waits for it,
    else (the dead replica recorded it before dying) where the session stands now."""
    resumed = client.predict(session_id, api_name="/resume")
    if (resumed["card_id"], resumed["question"]) == waiting:
        return client.predict(text, api_name="/answer")
    return {"finished": resumed["card_id"] is None,
            "next": {"card_id": resumed["card_id"], "question": resumed["question"]}}


def client_process(urls: list[str], indices: range, users: int, think: float) -> dict:
    out: dict = {"times": [], "errors": [], "lost": [], "failovers": []}
    threads = [threading.Thread(target=failover_user, args=(urls, i, users, think, out)) for i in indices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {**out, "cpu_s": time.process_time()}


def load_run(urls: list[str], pids: list[int], users: int, think: float, kill: tuple | None = None) -> dict:
    """One load over both replicas; with `kill` = (process, after_s), that replica is killed then."""
    cpu = {pid: bench_load.cpu_seconds(pid) for pid in pids}
    used: dict[int, float] = {}

    def kill_now() -> None:
        used[kill[0].pid] = bench_load.cpu_seconds(kill[0].pid) - cpu[kill[0].pid]
        kill[0].send_signal(signal.SIGKILL)

    processes = -(-users // bench_load.USERS_PER_PROCESS)
    killer = None
    if kill is not None:
        killer = threading.Timer(kill[1], kill_now)
        killer.start()
    started = time.perf_counter()
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(client_process, [urls] * processes, [range(i, users, processes) for i in range(processes)],
                              [users] * processes, [think] * processes))
    if killer is not None:
        killer.join()
    server_cpu = sum(used.get(pid, 0.0) or bench_load.cpu_seconds(pid) - cpu[pid] for pid in pids)
    times = [t for part in parts for t in part["times"]]
    figures = {"users": users, "think": think, "killed": kill is not None, "answers": len(times),
               "wall_s": time.perf_counter() - started, "p50_s": statistics.median(times),
               "p95_s": percentile(times, 0.95), "max_s": max(times),
               "failovers": sum(len(part["failovers"]) for part in parts),
               "errors": [e for part in parts for e in part["errors"]],
               "lost": [e for part in parts for e in part["lost"]], "load": load_average(),
               "server_cpu_ms": 1000 * server_cpu / max(1, len(times)),
               "client_cpu_ms": 1000 * sum(part["cpu_s"] for part in parts) / max(1, len(times))}
    print(f"{users} users, {think:g} s think, {'replica A killed halfway' if kill else 'both replicas up'}: "
          f"{len(times)} answers in {figures['wall_s']:.0f} s, time to answer p50 {figures['p50_s']:.2f} s, "
          f"p95 {figures['p95_s']:.2f} s, max {figures['max_s']:.2f} s; CPU per answer: replicas "
          f"{figures['server_cpu_ms']:.0f} ms, clients {figures['client_cpu_ms']:.0f} ms; failovers "
          f"{figures['failovers']}, errors {len(figures['errors'])}, sessions that lost answers {len(figures['lost'])}",
          flush=True)
    for error in (figures["errors"] + figures["lost"])[:5]:
        print("   ", error)
    return figures


def store_cost(home: Path, url: str | None, sessions: int = 40) -> dict:
    """CPU and wall time per answer of `Sessions.act` in this process (grading and the store, no
    Gradio, one answer at a time): the history on SQLite in `home`, or on PostgreSQL at `url`."""
    from interviewer.interview.events import Event
    from interviewer.interview.planning import Options
    from interviewer.runtime import Runtime
    from interviewer.settings import Settings

    env = {"INTERVIEWER_HOME": str(home), **({"INTERVIEWER_DATABASE_URL": url} if url else {})}
    rt = Runtime(Settings.from_env(env))
    service = rt.sessions()
    rt.build_index()
    rt.warm_up()
    cpu, wall = [], []
    for seed in range(sessions):
        interview, _ = service.start(Options(n_questions=QUESTIONS, seed=seed, client="app"))
        for step in range(QUESTIONS * 3 + 1):
            began_cpu, began = time.process_time(), time.perf_counter()
            done = service.act(interview.session.id, Event.ANSWER, bench_app.ANSWERS[step % len(bench_app.ANSWERS)]).finished
            cpu.append(time.process_time() - began_cpu)
            wall.append(time.perf_counter() - began)
            if done:
                break
    return {"answers": len(cpu), "cpu_ms": 1000 * statistics.mean(cpu), "wall_ms": 1000 * statistics.mean(wall)}


def measure(root: Path, users: int = 50, think: float = 10.0) -> dict:
    """PostgreSQL, two replicas, a run with both up and a run with replica A killed halfway."""
    with postgres_server(durable=True) as pg:
        url = pg.create_database("bench")
        procs, urls = [], []
        with bench_load.app_environment({"INTERVIEWER_DATABASE_URL": url}):
            for name in ("a", "b"):
                port = bench_app.free_port()
                procs.append(bench_app.launch(str(root / f"replica-{name}"), port))
                urls.append(f"http://127.0.0.1:{port}/")
        try:
            for replica_url in urls:  # not counted: loads each replica's models and its first cards' key points
                bench_app.run(replica_url, WARM_UP_USERS, QUESTIONS, 0)
            pids = [proc.pid for proc in procs]
            steady = load_run(urls, pids, users, think)
            killed = load_run(urls, pids, users, think, kill=(procs[0], steady["wall_s"] / 2))
        finally:
            for proc in procs:
                proc.kill()
                proc.wait(timeout=30)
        cost = {"sqlite": store_cost(root / "replica-b", None), "postgresql": store_cost(root / "replica-b", url)}
    print("session service per answer, one process: " + ", ".join(
        f"{store} {c['cpu_ms']:.0f} ms CPU, {c['wall_ms']:.0f} ms wall" for store, c in cost.items()), flush=True)
    return {"steady": steady, "killed": killed, "store_cost": cost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=10.0, help="seconds between a user's answers")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    try:
        measure(root, args.users, args.think)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
