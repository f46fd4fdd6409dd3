"""Two `interviewer serve` replicas on one real PostgreSQL history, driven over HTTP with gradio_client:
a session started on one continues on the other, also after the first is killed, and answers sent to
both at once for one session leave exactly one step each. `chat --resume` continues it too."""

from __future__ import annotations

import shutil
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.pgserver import PostgresServer
from interviewer.history.postgres import PostgresHistory
from tests.test_app import Server, answer_until_done, client

ANSWERS = ["학습률이 너무 크면 발산해서 loss가 증가합니다.", "드롭아웃은 co-adaptation을 막아 과적합을 줄입니다.",
           "모멘텀은 이전 gradient 방향을 누적합니다."]


@pytest.fixture(scope="module")
def shared_url(postgres: PostgresServer) -> str:
    return postgres.create_database("replicas")


@pytest.fixture(scope="module")
def replicas(indexed_home: Path, tmp_path_factory: pytest.TempPathFactory, shared_url: str):
    """Replicas A and B: each its own copy of the index (as each would reach one Chroma server), one
    history. Started side by side, stopped at the end (A may be killed before)."""
    servers = []
    for name in ("replica-a", "replica-b"):
        home = tmp_path_factory.mktemp(name) / "home"
        shutil.copytree(indexed_home, home)
        servers.append(Server(home, env={"INTERVIEWER_DATABASE_URL": shared_url}, wait=False))
    try:
        for server in servers:
            server.wait()
        yield servers
    finally:
        for server in servers:
            server.stop(signal.SIGKILL)


def test_both_replicas_check_the_shared_history_before_listening(replicas):
    for server in replicas:
        log = server.log_path.read_text()
        assert "interviewer: history postgresql://postgres@127.0.0.1:" in log, log
        assert log.index("interviewer: history ") < log.index("interviewer: ready")


def test_answers_to_one_session_on_both_replicas_at_once_leave_one_step_each(replicas, shared_url: str):
    a, b = (client(server) for server in replicas)
    session_id = a.predict(5, "", 3, api_name="/start")["session_id"]
    assert b.predict(session_id, api_name="/resume")["session_id"] == session_id
    sent = []
    with ThreadPoolExecutor(2) as pool:
        for round_ in range(3):
            texts = [f"[A{round_}] {ANSWERS[0]}", f"[B{round_}] {ANSWERS[1]}"]
            sent += texts
            replies = list(pool.map(lambda pair: pair[0].predict(pair[1], api_name="/answer"), zip((a, b), texts, strict=True)))
            assert all(r["grade"] is not None for r in replies), replies
    turns = PostgresHistory(shared_url).turns(session_id)
    assert sorted(t.answer for t in turns if t.answer) == sorted(sent)  # none lost, none doubled
    assert [t.seq for t in turns] == list(range(1, len(sent) + 2)) and turns[-1].pending


def test_a_session_survives_the_death_of_its_replica(replicas, shared_url: str):
    a_server, b_server = replicas
    a = client(a_server)
    started = a.predict(3, "", 21, api_name="/start")
    given = [f"A에서: {text}" for text in ANSWERS[:2]]
    last = [a.predict(text, api_name="/answer") for text in given][-1]
    a_server.stop(signal.SIGKILL)

    b = client(b_server)
    resumed = b.predict(started["session_id"], api_name="/resume")
    assert set(resumed) == {"session_id", "card_id", "question", "message"}
    assert (resumed["card_id"], resumed["question"]) == (last["next"]["card_id"], last["next"]["question"])
    assert resumed["question"] in resumed["message"]
    replies = answer_until_done(b, [f"B에서: {text}" for text in ANSWERS])
    report = b.predict(api_name="/finish")["report_json"]
    answers = [q["answer"] for q in report["questions"]]
    assert report["finished"] and answers[:2] == given and len(answers) == 2 + len(replies)
    assert all(answer.startswith("B에서") for answer in answers[2:])
    with pytest.raises(Exception, match="unknown session id"):
        b.predict("no-such-session", api_name="/resume")


def test_chat_resume_continues_a_session_of_the_shared_history(replicas, shared_url: str, cli, indexed_runtime):
    b = client(replicas[1])
    session_id = b.predict(2, "", 4, api_name="/start")["session_id"]
    env = {"INTERVIEWER_DATABASE_URL": shared_url}
    result = cli("chat", "--resume", session_id, input=f"터미널에서: {ANSWERS[1]}\n/quit\n", env=env)
    assert result.returncode == 0, result.stderr
    assert f"session: {session_id}" in result.stdout
    history = PostgresHistory(shared_url)
    assert history.session(session_id).status == "finished"
    assert [t.answer for t in history.turns(session_id) if t.answer] == [f"터미널에서: {ANSWERS[1]}"]
    assert not indexed_runtime.settings.db_path.exists()  # nothing went to the embedded store
