"""Progress across sessions: Leitner boxes per key point, due cards first, --no-review, `history`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from interviewer.history import KeywordState, stamp
from interviewer.interview import Deps, Interview
from interviewer.planning import Options, plan_questions
from interviewer.presenter import say
from interviewer.progress import INTERVAL_DAYS, review_cards, schedule
from interviewer.runtime import Runtime

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
GOOD_DROPOUT = ("드롭아웃은 학습 중에 노드를 무작위로 끄기 때문에 노드들이 서로 의존하지 않게 해서 "
                "co-adaptation을 막습니다. 또한 여러 모델을 앙상블하는 효과가 있습니다.")
TOPICS = ["dropout", "overfitting-remedies", "sgd-rmsprop-adam", "local-minima"]


def step(old: KeywordState | None, verdict: str, session: str, day: int) -> KeywordState:
    return schedule(old, "", "card", "kw", verdict, session, stamp(T0 + timedelta(days=day)))


def due_day(state: KeywordState) -> float:
    return (datetime.fromisoformat(state.due_at) - T0) / timedelta(days=1)


def test_leitner_boxes_move_up_on_covered_and_back_to_one_on_missed():
    s = step(None, "covered", "s1", 0)
    assert (s.box, s.asked, s.covered, due_day(s)) == (2, 1, 1, 1)
    s = step(s, "covered", "s2", 1)
    assert (s.box, due_day(s)) == (3, 1 + 3)
    s = step(s, "partial", "s3", 4)
    assert (s.box, s.asked, s.covered, due_day(s)) == (3, 3, 2, 4 + 3)  # partial neither promotes nor demotes
    s = step(s, "contradicted", "s4", 7)
    assert (s.box, due_day(s)) == (1, 7)  # due again at once
    for i, day in enumerate((8, 9, 12, 19, 33)):
        s = step(s, "covered", f"s{5 + i}", day)
    assert s.box == max(INTERVAL_DAYS) and due_day(s) == 33 + 14 and s.covered == 7 and s.asked == 9


def test_a_second_grade_in_the_same_session_revises_instead_of_stepping_twice():
    before = step(step(None, "covered", "s1", 0), "covered", "s2", 1)  # box 3
    missed = step(before, "missing", "s3", 5)  # the main answer missed it ...
    probed = step(missed, "covered", "s3", 5)  # ... the probe in the same session covered it
    assert (probed.box, probed.asked, probed.covered) == (4, 3, 3)
    assert probed == step(before, "covered", "s3", 5)


@pytest.fixture
def deps(indexed_runtime: Runtime) -> Deps:
    return Deps.from_runtime(indexed_runtime)


def interview_once(deps: Deps, answers: dict[str, str], client: str = "chat", **options) -> Interview:
    """One session over TOPICS, answering each card from `answers` (default: '모르겠습니다')."""
    options = {"n_questions": 2, "topics": TOPICS, "seed": 3, "max_follow_ups": 0, "client": client, **options}
    interview, _ = Interview.start(deps, Options(**options))
    while not interview.finished:
        interview.answer(answers.get(interview.current.card_id, "모르겠습니다"))
    return interview


def test_progress_is_written_with_the_turn(deps: Deps):
    interview, _ = Interview.start(deps, Options(n_questions=1, topics=["dropout"], max_follow_ups=0))
    assert deps.history.keyword_progress("") == []
    interview.answer(GOOD_DROPOUT)
    states = {k.keyword: k for k in deps.history.keyword_progress("")}
    assert set(states) == {"co-adaptation 방지", "다양한 모델 학습"}
    assert all(k.box == 2 and k.asked == k.covered == 1 and k.session_id == interview.session.id
               for k in states.values())
    turn = deps.history.turns(interview.session.id)[0]
    assert all(k.last_seen == turn.answered_at for k in states.values())


def test_due_cards_come_first_missed_first_and_the_seed_keeps_review_on(deps: Deps):
    first = interview_once(deps, {"dropout": GOOD_DROPOUT}, topics=["dropout", "overfitting-remedies"])
    assert set(first.session.plan) == {"dropout", "overfitting-remedies"}
    eligible = set(TOPICS)
    assert review_cards(deps.history, deps.bank, "", eligible) == ["overfitting-remedies"]
    later = stamp(datetime.now(UTC) + timedelta(days=2))  # dropout (covered, box 2) is due by then
    assert review_cards(deps.history, deps.bank, "", eligible, at=later) == ["overfitting-remedies", "dropout"]
    for seed in (1, 2, 3, 4):
        interview, reply = Interview.start(deps, Options(n_questions=2, topics=TOPICS, seed=seed))
        assert interview.session.plan[0] == "overfitting-remedies" and "복습" in say(reply)
        assert "dropout" not in interview.session.plan[:1]
        start = [e for e in deps.history.events(interview.session.id) if e["kind"] == "start"][0]
        assert start["data"]["review"] == ["overfitting-remedies"]


def test_no_review_plans_by_the_seed_alone(deps: Deps):
    interview_once(deps, {}, topics=["overfitting-remedies"], n_questions=1)
    seeded = plan_questions(deps.bank, TOPICS, 2, seed=8)
    assert seeded[0] != "overfitting-remedies"  # so the check below can tell review from no review
    interview, reply = Interview.start(deps, Options(n_questions=2, topics=TOPICS, seed=8, review=False))
    assert interview.session.plan == seeded and "복습" not in say(reply)
    reviewed, _ = Interview.start(deps, Options(n_questions=2, topics=TOPICS, seed=8))
    assert reviewed.session.plan[0] == "overfitting-remedies"


def test_review_stays_inside_the_topic_filter(deps: Deps):
    interview_once(deps, {}, topics=["overfitting-remedies"], n_questions=1)
    interview, reply = Interview.start(deps, Options(n_questions=1, topics=["optimization"], seed=2))
    assert deps.bank.get(interview.session.plan[0]).topic == "optimization" and "복습" not in say(reply)


def test_each_login_has_its_own_progress(deps: Deps):
    interview_once(deps, {}, client="app:kim", topics=["overfitting-remedies"], n_questions=1)
    assert {k.learner for k in deps.history.keyword_progress("kim")} == {"kim"}
    assert deps.history.keyword_progress("") == [] and deps.history.keyword_progress("lee") == []
    lee, reply = Interview.start(deps, Options(n_questions=1, topics=TOPICS, seed=8, client="app:lee"))
    assert "복습" not in say(reply)


def test_chat_no_review_flag(cli, deps: Deps):
    interview_once(deps, {}, topics=["overfitting-remedies"], n_questions=1)
    seeded = deps.bank.get(plan_questions(deps.bank, TOPICS, 1, seed=8)[0])
    args = ["chat", "--questions", "1", "--seed", "8", "--topics", ",".join(TOPICS)]
    without = cli(*args, "--no-review", input="/quit\n")
    assert without.returncode == 0, without.stderr
    assert f"[질문 1/1]** {seeded.title}" in without.stdout and "복습" not in without.stdout
    default = cli(*args, input="/quit\n")
    assert "복습할 때가 된" in default.stdout and deps.bank.get("overfitting-remedies").title in default.stdout


def test_history_json_lists_sessions_and_the_weakest_keywords(cli, deps: Deps):
    good = interview_once(deps, {"dropout": GOOD_DROPOUT}, topics=["dropout"], n_questions=1)
    bad = interview_once(deps, {}, topics=["overfitting-remedies"], n_questions=1, review=False)
    running, _ = Interview.start(deps, Options(n_questions=1, topics=["dropout"], review=False))
    result = cli("history", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    sessions = {s["id"]: s for s in data["sessions"]}
    assert list(sessions) == [running.session.id, bad.session.id, good.session.id]  # most recent first
    assert sessions[good.session.id]["average_score"] == 100 and sessions[good.session.id]["finished"]
    assert sessions[bad.session.id]["average_score"] == 0 and sessions[bad.session.id]["questions"] == 1
    assert sessions[running.session.id]["finished"] is False
    assert sessions[running.session.id]["average_score"] is None
    assert {"id", "started_at", "finished", "questions", "average_score"} <= set(sessions[good.session.id])
    weakest = data["weakest_keywords"]
    assert {k["card_id"] for k in weakest[:4]} == {"overfitting-remedies"}
    assert all(k["covered"] == 0 and k["box"] == 1 for k in weakest[:4])
    assert weakest[-1]["card_id"] == "dropout" and weakest[-1]["covered"] == 1
    text = cli("history")
    assert text.returncode == 0 and good.session.id in text.stdout and "약한 키워드" in text.stdout
