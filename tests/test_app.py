"""The Gradio app through gradio_client against a launched `interviewer serve`, on loopback."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gradio_client import Client

from interviewer.core.records import stamp
from interviewer.history.progress import record, scheduler
from interviewer.history.sqlite import SQLiteHistory
from interviewer.interview.engine import all_missing
from interviewer.runtime import Runtime
from interviewer.settings import Settings
from interviewer.shells.presenter import ALREADY_FINISHED, NO_INTERVIEW
from tests.conftest import CLI, ROOT

READY = re.compile(r"^interviewer: ready in [\d.]+ s: listening on http://127\.0\.0\.1:\d+/$", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`interviewer serve` in its own process, with its own INTERVIEWER_HOME."""

    def __init__(self, home: Path, *extra: str, env: dict[str, str] | None = None, wait: bool = True):
        self.home, self.port = home, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        full_env = {**os.environ, "INTERVIEWER_HOME": str(home), **(env or {})}
        self.log_path = home.parent / f"serve-{self.port}.log"
        self.log = self.log_path.open("w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([*CLI, "serve", "--port", str(self.port), *extra], cwd=ROOT, env=full_env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait()

    def wait(self, timeout: float = 90) -> None:
        """Until the server says it is ready, as a supervisor would wait for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            if READY.search(self.log_path.read_text()):
                return
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)
        self.log.close()


def client(server: Server, **kwargs) -> Client:
    return Client(server.url, verbose=False, **kwargs)


def launched(indexed_home: Path, tmp_path_factory: pytest.TempPathFactory, name: str,
             env: dict[str, str] | None = None):
    """A server on a private copy of the pre-built index, stopped when the fixture ends."""
    home = tmp_path_factory.mktemp(name) / "home"
    shutil.copytree(indexed_home, home)
    srv = Server(home, env=env)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def server(indexed_home: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from launched(indexed_home, tmp_path_factory, "app")


def answer_until_done(c: Client, texts: list[str], limit: int = 12) -> list[dict]:
    replies = []
    for i in range(limit):
        reply = c.predict(texts[i % len(texts)], api_name="/answer")
        replies.append(reply)
        if reply["finished"]:
            return replies
    raise AssertionError("the interview did not finish")


def test_the_server_listens_only_when_ready_and_starts_without_warnings(server: Server):
    log = server.log_path.read_text()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass  # the port is open once the ready line is written
    index = log.index("interviewer: index ")
    assert index < READY.search(log).start()  # the index was checked before the port opened
    assert "Warning" not in log and "warnings.warn" not in log, log


def test_a_fresh_home_is_indexed_before_the_server_listens(tmp_path: Path):
    (tmp_path / "fresh").mkdir()
    srv = Server(tmp_path / "fresh" / "home")
    try:
        log = srv.log_path.read_text()
        assert re.search(r"interviewer: index indexed: [1-9]\d* embedded", log), log
        c = client(srv)
        c.predict(1, "dropout", 1, api_name="/start")
        assert c.predict("드롭아웃은 co-adaptation을 막습니다.", api_name="/answer")["grade"]["score"] > 0
    finally:
        srv.stop()


def test_api_runs_a_whole_interview(server: Server):
    c = client(server)
    started = c.predict(2, "optimization", 9, api_name="/start")
    assert set(started) == {"session_id", "card_id", "question", "message"}
    assert started["question"] in started["message"]
    replies = answer_until_done(c, ["학습률이 너무 크면 발산해서 loss가 증가합니다.", "모멘텀을 씁니다."])
    first = replies[0]
    assert set(first) == {"session_id", "message", "grade", "next", "finished"}
    assert first["grade"]["card_id"] == started["card_id"] and 0 <= first["grade"]["score"] <= 100
    assert {kp["verdict"] for kp in first["grade"]["keypoints"]} <= {"covered", "partial", "missing", "contradicted"}
    assert all(set(r["next"]) == {"card_id", "question", "follow_up"} for r in replies[:-1])
    report = c.predict(api_name="/finish")
    assert report["session_id"] == started["session_id"]
    assert "면접 결과" in report["report_markdown"]
    data = report["report_json"]  # the whole report of `interviewer report --format json`
    assert data["session_id"] == started["session_id"] and data["finished"]
    assert data["llm"] == {"backend": "none", "model": None, "calls": 0, "failures": 0}
    questions = data["questions"]
    assert len(questions) == len(replies)
    assert all({"card_id", "title", "answer", "score", "grade", "keypoints", "reference", "hints_used"} <= set(q)
               for q in questions)
    assert data["summary"]["average_score"] is not None and data["summary"]["topics"]
    assert all(item["practice"].startswith("interviewer chat --topics ") for item in data["study_next"])
    assert "주제별 점수" in report["report_markdown"]
    assert "interviewer " not in report["report_markdown"]  # no terminal commands in the app's report
    assert all(item["label"] and item["keyword"] for item in data["study_next"])


def test_start_reviews_due_cards_by_default(server: Server):
    c = client(server)
    c.predict(1, "overfitting-remedies", 1, api_name="/start")
    assert c.predict("모르겠습니다", api_name="/answer")["finished"]  # one question, nothing to follow up
    # FSRS brings a miss back after its first learning step (a minute): the same miss a day ago is due now
    rt = Runtime(Settings.from_env({"INTERVIEWER_HOME": str(server.home)}))
    with rt.history.transaction() as tx:
        record(tx, scheduler(), "", "yesterday", all_missing(rt.bank.get("overfitting-remedies")),
               stamp(datetime.now(UTC) - timedelta(days=1)))
    again = client(server).predict(1, "overfitting-remedies", 2, api_name="/start")
    assert set(again) == {"session_id", "card_id", "question", "message"}
    assert again["card_id"] == "overfitting-remedies" and "복습할 때가 된" in again["message"]


def test_resume_continues_a_session_in_another_client(server: Server):
    first = client(server)
    started = first.predict(1, "dropout", 5, api_name="/start")
    other = client(server)  # a new tab, or the same candidate after a lost connection
    resumed = other.predict(started["session_id"], api_name="/resume")
    assert {k: resumed[k] for k in ("session_id", "card_id", "question")} == \
        {k: started[k] for k in ("session_id", "card_id", "question")}
    answer_until_done(other, ["드롭아웃은 co-adaptation을 막습니다."])
    over = client(server).predict(started["session_id"], api_name="/resume")
    assert (over["card_id"], over["question"]) == (None, None) and ALREADY_FINISHED in over["message"]
    with pytest.raises(Exception, match="unknown session id"):
        client(server).predict("no-such-session", api_name="/resume")


def test_clients_have_isolated_sessions(server: Server):
    a, b = client(server), client(server)
    sa = a.predict(1, "", 1, api_name="/start")["session_id"]
    sb = b.predict(1, "", 1, api_name="/start")["session_id"]
    assert sa != sb
    for _ in range(3):
        for c, mark in ((a, "사용자A"), (b, "사용자B")):
            c.predict(f"{mark}의 답변: 학습률과 과적합을 설명합니다.", api_name="/answer")
    for c, mark, other in ((a, "사용자A", "사용자B"), (b, "사용자B", "사용자A")):
        answers = [q["answer"] or "" for q in c.predict(api_name="/finish")["report_json"]["questions"]]
        assert answers and all(mark in t for t in answers if t) and not any(other in t for t in answers)


def test_bad_input_gets_a_friendly_answer(server: Server):
    c = client(server)
    idle = c.predict("아직 시작 안 했어요", api_name="/answer")
    assert idle["message"] == NO_INTERVIEW and idle["grade"] is None and idle["session_id"] is None
    with pytest.raises(Exception, match="optimization"):
        c.predict(1, "no-such-topic", 1, api_name="/start")
    started = c.predict(1, "dropout", 1, api_name="/start")
    empty = c.predict("   ", api_name="/answer")
    assert empty["grade"] is None and empty["next"]["card_id"] == started["card_id"] and "비어" in empty["message"]
    long = c.predict("드롭아웃은 과적합을 줄입니다. " * 1500, api_name="/answer")
    assert "5,000자" in long["message"] and long["grade"] is not None


def test_the_numpy_lab_endpoint_runs_the_sandbox(server: Server):
    c = client(server)
    plot = "import numpy as np\nimport matplotlib.pyplot as plt\nplt.plot(np.arange(3))\nprint(np.arange(3).sum())"
    ran = c.predict(plot, api_name="/run_numpy")  # the `interviewer sandbox --json` result
    assert ran["ok"] and ran["stdout"] == "3\n" and not ran["timed_out"], ran
    assert len(ran["figures"]) == 1 and base64.b64decode(ran["figures"][0]).startswith(b"\x89PNG")
    blocked = c.predict("import os\nos.listdir('/')", api_name="/run_numpy")
    assert not blocked["ok"] and blocked["blocked"] == "import" and "import할 수 없습니다" in blocked["error"]


def test_a_killed_server_loses_no_answer(indexed_home: Path, tmp_path: Path):
    home = tmp_path / "killed" / "home"
    shutil.copytree(indexed_home, home)
    srv = Server(home, "--auth", "kim:secret")
    try:
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do: the login is required
            client(srv)
        c = client(srv, auth=("kim", "secret"))
        session_id = c.predict(3, "", 21, api_name="/start")["session_id"]
        given = [f"답변 {i}: 학습률이 크면 loss가 발산합니다." for i in range(3)]
        for text in given:
            c.predict(text, api_name="/answer")
        srv.stop(signal.SIGKILL)
        turns = SQLiteHistory(home / "interviewer.sqlite3").turns(session_id)
        assert [t.answer for t in turns if t.answer] == given
        assert turns[-1].pending  # the question asked after the last answer was stored too
    finally:
        srv.stop(signal.SIGKILL)
