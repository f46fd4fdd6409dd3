"""`interviewer chat` with piped input: one answer or /command per line, always ending with the session id."""

from __future__ import annotations

import re
from pathlib import Path

from interviewer.history.sqlite import SQLiteHistory
from interviewer.runtime import Runtime

ANSWER = "weight initialize를 잘 하고 pre-train을 하면 좋은 지점에서 출발합니다."


def session_of(stdout: str) -> str:
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("session: "), stdout[-500:]
    return last.removeprefix("session: ")


def test_piped_chat_runs_a_whole_interview(cli, indexed_runtime: Runtime):
    lines = ["", "/hint", ANSWER, "/skip", "/모르겠습니다", "드롭아웃은 co-adaptation을 막습니다.", "/quit"]
    result = cli("chat", "--questions", "2", "--seed", "4", "--topics", "local-minima,dropout",
                 input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "답변이 비어 있어요" in out and "힌트 1/" in out and "점수" in out and "면접 결과" in out
    # the transcript shows each piped answer after the prompt, and Markdown as a terminal shows it
    assert f"답변> {ANSWER}\n" in out and "답변> /모르겠습니다\n" in out
    assert "**" not in out and "[질문 1/2] " in out and not re.search(r"^#+ ", out, re.M)
    history = SQLiteHistory(indexed_runtime.settings.db_path)
    session_id = session_of(out)
    turns = history.turns(session_id)
    assert history.session(session_id).status == "finished"
    assert turns[0].answer == ANSWER and turns[0].hints_used == 1
    assert "" not in [t.answer for t in turns]
    assert [t.outcome for t in turns][1:3] == ["skipped", "dont_know"]


def test_numpy_and_demo_commands_run_in_the_sandbox_and_the_interview_goes_on(cli, indexed_runtime: Runtime):
    plot = "/numpy import matplotlib.pyplot as plt; plt.plot([1, 3, 2]); print('그림 완료')"
    lines = ["/numpy print(1+1)", plot, "드롭아웃은 co-adaptation을 막습니다.", "/demo", "/quit"]
    result = cli("chat", "--questions", "1", "--seed", "1", "--topics", "dropout", input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^ *2 *$", out, re.M) and "```" not in out and "그림 완료" in out and "💡 예시 실행" in out and "Dropout 마스크" in out
    saved = [Path(line.removeprefix("그림 저장: ")) for line in out.splitlines() if line.startswith("그림 저장: ")]
    assert saved and all(path.parent == indexed_runtime.settings.home / "figures" for path in saved)
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in saved)
    history = SQLiteHistory(indexed_runtime.settings.db_path)
    session_id = session_of(out)
    assert history.session(session_id).status == "finished"
    assert [t.answer for t in history.turns(session_id)][0] == "드롭아웃은 co-adaptation을 막습니다."
    runs = [e["data"] for e in history.events(session_id) if e["kind"] == "sandbox"]
    assert [r["demo"] for r in runs] == [None, None, "dropout-mask"] and runs[1]["figures"] == 1


def test_end_of_input_keeps_the_session_and_resume_finishes_it(cli, indexed_runtime: Runtime):
    first = cli("chat", "--questions", "1", "--seed", "2", "--topics", "dropout", "--feedback", "end",
                input="드롭아웃은 co-adaptation을 막아 줍니다.\n")
    assert first.returncode == 0, first.stderr
    session_id = session_of(first.stdout)
    assert "--resume" in first.stdout
    history = SQLiteHistory(indexed_runtime.settings.db_path)
    assert history.session(session_id).status == "running"
    assert history.turns(session_id)[0].answer == "드롭아웃은 co-adaptation을 막아 줍니다."
    second = cli("chat", "--resume", session_id, input="여러 모델을 학습하는 효과가 있습니다.\n/quit\n")
    assert second.returncode == 0, second.stderr
    assert session_of(second.stdout) == session_id and "이어서" in second.stdout
    assert history.session(session_id).status == "finished"
    assert len(history.turns(session_id)) >= 2


def test_bad_input_is_one_line_and_exit_2(cli, indexed_runtime: Runtime):
    result = cli("chat", "--topics", "no-such-topic", input="")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "optimization" in result.stderr and "Traceback" not in result.stderr
    result = cli("chat", "--resume", "no-such-session", input="")
    assert result.returncode == 2 and "no-such-session" in result.stderr


def test_serve_rejects_a_malformed_login(cli):
    result = cli("serve", "--auth", "no-colon-here")
    assert result.returncode == 2 and "USER:PASSWORD" in result.stderr


def test_a_fresh_home_is_indexed_before_the_first_answer_is_graded(cli, home):
    result = cli("chat", "--questions", "1", "--topics", "dropout", "--follow-ups", "0",
                 input="드롭아웃은 co-adaptation을 막습니다.\n")
    assert result.returncode == 0, result.stderr
    assert "점수" in result.stdout and "interviewer ingest" not in result.stdout + result.stderr


def test_the_terminal_has_the_apps_question_limit(cli):
    result = cli("chat", "--questions", "21", input="")
    assert result.returncode == 2 and result.stderr.strip() == "interviewer: error: 질문 수는 1에서 20 사이로 골라 주세요."
