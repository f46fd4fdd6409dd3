"""The session report in three formats, from a real session run through the engine into SQLite."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from interviewer.interview.engine import Interview
from interviewer.interview.planning import Options
from interviewer.reports.markdown import literal
from interviewer.reports.report import highlight, load_report, render
from interviewer.runtime import Runtime
from interviewer.settings import Settings
from tests.conftest import run_cli

DROPOUT_ANSWER = ("드롭아웃은 학습 중에 노드를 무작위로 끄기 때문에 노드들이 서로 의존하지 않게 해서 "
                  "co-adaptation을 막습니다 (<b>A&B</b>). 또한 여러 모델을 앙상블하는 효과가 있습니다. "
                  "<script>alert('x')</script>")
ANSWERS = {"dropout": DROPOUT_ANSWER, "overfitting-remedies": "모르겠습니다",
           "sgd-rmsprop-adam": "Adam은 momentum과 RMSprop을 결합합니다."}


def run_session(rt: Runtime, finish: bool = True) -> str:
    """Three cards over two topics: one answered well, one '모르겠습니다', one answered after a hint."""
    deps = rt.interview_deps()
    interview, _ = Interview.start(deps, Options(n_questions=3, topics=list(ANSWERS), seed=1, max_follow_ups=0,
                                                 review=False))
    while not interview.finished:
        card_id = interview.current.card_id
        if card_id == "sgd-rmsprop-adam":
            interview.hint()
        interview.answer(ANSWERS[card_id])
        if not finish:
            break
    return interview.session.id


@pytest.fixture(scope="module")
def session_home(indexed_home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A finished session in its own INTERVIEWER_HOME, shared by the read-only tests of this module."""
    home = tmp_path_factory.mktemp("report") / "home"
    shutil.copytree(indexed_home, home)
    return home, run_session(Runtime(Settings.from_env({"INTERVIEWER_HOME": str(home)})))


def report_cli(home: Path, *args: str):
    return run_cli("report", *args, env={"INTERVIEWER_HOME": str(home)})


def test_json_report_has_every_question_summary_and_study_list(session_home):
    home, session_id = session_home
    result = report_cli(home, session_id, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["session_id"] == session_id and data["finished"] and data["status"] == "finished"
    assert data["started_at"] <= data["finished_at"]
    assert data["llm"] == {"backend": "none", "model": None, "calls": 0, "failures": 0}
    by_card = {q["card_id"]: q for q in data["questions"]}
    assert set(by_card) == set(ANSWERS)
    dropout = by_card["dropout"]
    assert dropout["answer"] == DROPOUT_ANSWER and dropout["score"] == 100 and dropout["grade"] == 4
    assert dropout["title"] == "Dropout의 효과는?" and dropout["reference"] and dropout["scored_by"] == "grader"
    assert {kp["verdict"] for kp in dropout["keypoints"]} == {"covered"}
    assert all(kp["evidence"] in DROPOUT_ANSWER for kp in dropout["keypoints"])
    assert by_card["sgd-rmsprop-adam"]["hints_used"] == 1
    assert by_card["overfitting-remedies"]["outcome"] == "dont_know" and by_card["overfitting-remedies"]["score"] == 0
    summary = data["summary"]
    assert summary["graded_cards"] == 3 and summary["dont_know"] == 1
    assert summary["average_score"] == round(sum(q["score"] for q in data["questions"]) / 3)
    assert summary["covered"] == 2 + sum(kp["verdict"] == "covered" for kp in by_card["sgd-rmsprop-adam"]["keypoints"])
    assert summary["missed"] >= 4  # every key point of overfitting-remedies
    topics = {t["topic"]: t for t in summary["topics"]}
    assert set(topics) == {"regularization", "optimization"}
    assert topics["regularization"]["average_score"] == 50 and topics["regularization"]["cards"] == 2
    study = [item for item in data["study_next"] if item["card_id"] == "overfitting-remedies"]
    assert {item["keyword"] for item in study} == {"데이터 양 늘리기", "regularization", "dropout", "norm penalty"}
    assert all("augmentation" in item["explanation"] for item in study)
    assert {item["practice"] for item in study} == {"interviewer chat --topics overfitting-remedies"}
    assert not any(item["card_id"] == "dropout" for item in data["study_next"])


def test_the_practice_link_asks_that_card(session_home):
    home, session_id = session_home
    data = json.loads(report_cli(home, session_id, "--format", "json").stdout)
    command = data["study_next"][0]["practice"].split()
    assert command[:2] == ["interviewer", "chat"]
    result = run_cli(*command[1:], "--no-review", input="/quit\n", env={"INTERVIEWER_HOME": str(home)})
    title = next(q["title"] for q in data["questions"] if q["card_id"] == data["study_next"][0]["card_id"])
    assert result.returncode == 0 and f"[질문 1/1] {title}" in result.stdout


def test_markdown_marks_each_keyword_and_quotes_the_evidence(session_home):
    home, session_id = session_home
    result = report_cli(home, session_id)  # Markdown is the default format
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"면접 결과 · {session_id}" in text and "상태: 완료" in text
    assert "- ✓ **co-adaptation 방지** — “드롭아웃은 학습 중에" in text
    assert "- ✗ **L2 규제 (norm penalty)** — 답변에서 찾지 못했습니다" in text  # by its label
    assert "> " + literal(DROPOUT_ANSWER) in text
    assert "힌트 1회" in text and "**참고 답변**\n> Overfitting이 일어날 경우에는" in text
    assert "`interviewer chat --topics overfitting-remedies`" in text


def test_html_is_self_contained_escaped_and_highlights_evidence(session_home, tmp_path: Path):
    home, session_id = session_home
    out = tmp_path / "report.html"
    result = report_cli(home, session_id, "--format", "html", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and result.stdout.count("\n") == 1
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<svg" in page
    assert not re.search(r"<(script|link|iframe|img)\b", page, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert ("<mark>드롭아웃은 학습 중에 노드를 무작위로 끄기 때문에 노드들이 서로 의존하지 않게 해서 "
            "co-adaptation을 막습니다 (&lt;b&gt;A&amp;B&lt;/b&gt;).</mark>") in page
    assert "<mark>또한 여러 모델을 앙상블하는 효과가 있습니다.</mark>" in page


def test_highlight_escapes_and_merges_overlapping_spans():
    answer = "a <b>x</b> & y z"
    assert highlight(answer, ["<b>x</b>", "x</b> &", "not there", ""]) == \
        "a <mark>&lt;b&gt;x&lt;/b&gt; &amp;</mark> y z"
    assert highlight("no evidence <i>", []) == "no evidence &lt;i&gt;"


def test_an_unfinished_session_reports_what_was_answered(indexed_runtime: Runtime):
    session_id = run_session(indexed_runtime, finish=False)
    report = load_report(indexed_runtime.history, indexed_runtime.bank, session_id)
    assert not report.finished and report.finished_at is None
    assert [q.outcome is None for q in report.questions] == [False, True]
    markdown = render(report, "md")
    assert "진행 중 (미완료)" in markdown and f"interviewer chat --resume {session_id}" in markdown
    assert "진행 중 (미완료)" in render(report, "html")
    assert json.loads(render(report, "json"))["finished"] is False


def test_a_report_with_nothing_graded_has_no_chart(indexed_runtime: Runtime):
    deps = indexed_runtime.interview_deps()
    interview, _ = Interview.start(deps, Options(n_questions=1, topics=["dropout"], review=False))
    interview.skip()
    report = load_report(indexed_runtime.history, indexed_runtime.bank, interview.session.id)
    assert report.summary.average_score is None and report.summary.topics == []
    page = render(report, "html")
    assert "<svg" not in page and "차트가 없습니다" in page


def test_unknown_session_is_one_line_and_exit_2(cli):
    result = cli("report", "no-such-session", "--format", "json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == "interviewer: error: unknown session id: 'no-such-session'"


@pytest.mark.parametrize("content", ["corrupt", "foreign"])
def test_a_bad_history_file_is_named_and_left_alone(cli, home: Path, content: str):
    home.mkdir(parents=True)
    db = home / "interviewer.sqlite3"
    if content == "corrupt":
        db.write_bytes(b"definitely not sqlite " * 300)
    else:
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE notes (x)")
    before = db.read_bytes()
    result = cli("report", "any-session")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and str(db) in result.stderr
    assert db.read_bytes() == before


def test_the_report_names_the_probe_asked_labels_key_points_and_shows_local_time(indexed_runtime: Runtime):
    from zoneinfo import ZoneInfo

    deps = indexed_runtime.interview_deps()
    interview, _ = Interview.start(deps, Options(n_questions=1, topics="overfitting-remedies", seed=1,
                                                 max_follow_ups=1))
    interview.answer("데이터 양을 늘립니다.")
    probe = interview.current
    assert probe is not None and probe.kind == "probe"
    interview.answer("잘 모르겠습니다.")
    report = load_report(deps.history, deps.bank, interview.session.id, ZoneInfo("Asia/Seoul"))
    markdown = render(report, "md")
    assert f"### 1. [보충 질문] {probe.question}" in markdown
    assert report.timezone == "KST" and report.started_local.endswith("+09:00")
    assert f"{report.started_local[:16].replace('T', ' ')}" in markdown and "(KST)" in markdown
    assert report.questions[0].labels["데이터 양 늘리기"] == "데이터 양 늘리기"
    html = render(report, "html")
    assert probe.question.split("?")[0] in html and "(KST)" in html
    assert "interviewer chat" not in render(report, "md", commands=False)
    assert "interviewer chat" not in render(report, "html", commands=False)


def test_a_card_without_a_reference_answer_is_labelled_never_none(indexed_runtime: Runtime):
    deps = indexed_runtime.interview_deps()
    interview, _ = Interview.start(deps, Options(n_questions=1, topics="card:framework-debugging", seed=1))
    interview.answer("모르겠습니다")
    markdown = render(load_report(deps.history, deps.bank, interview.session.id), "md")
    assert "이 질문에는 참고 답변이 없습니다." in markdown and "(없음)" not in markdown
