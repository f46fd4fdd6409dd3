"""Progress across sessions: an FSRS card per key point, due cards first, --no-review, `history`,
`review`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from interviewer.core.records import KeywordState, stamp
from interviewer.history.progress import rating, record, review_cards, schedule, scheduler
from interviewer.interview.engine import Deps, Interview, all_missing
from interviewer.interview.planning import Options, plan_questions
from interviewer.runtime import Runtime
from interviewer.shells.presenter import say

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
GOOD_DROPOUT = ("드롭아웃은 학습 중에 노드를 무작위로 끄기 때문에 노드들이 서로 의존하지 않게 해서 "
                "co-adaptation을 막습니다. 또한 여러 모델을 앙상블하는 효과가 있습니다.")
TOPICS = ["dropout", "overfitting-remedies", "sgd-rmsprop-adam", "local-minima"]
SCHEDULER = scheduler()


def step(old: KeywordState | None, verdict: str, session: str, day: float, easy: bool = False,
         retention: float = 0.9) -> KeywordState:
    sched = SCHEDULER if retention == 0.9 else scheduler(retention)
    return schedule(sched, old, "", "card", "kw", verdict, session, stamp(T0 + timedelta(days=day)), easy=easy)


def due_day(state: KeywordState) -> float:
    return (datetime.fromisoformat(state.due_at) - T0) / timedelta(days=1)


def test_verdicts_map_to_fsrs_ratings():
    assert [rating(v).name for v in ("missing", "contradicted", "partial", "covered")] == \
        ["Again", "Again", "Hard", "Good"]
    assert rating("covered", easy=True).name == "Easy" and rating("partial", easy=True).name == "Hard"


def test_fsrs_due_dates_follow_the_ratings():
    firsts = {verdict: step(None, verdict, "s1", 0, easy=easy)
              for verdict, easy in (("missing", False), ("partial", False), ("covered", False), ("covered", True))}
    missed, partial, covered = firsts["missing"], firsts["partial"], step(None, "covered", "s1", 0)
    easy = step(None, "covered", "s1", 0, easy=True)
    assert due_day(missed) < due_day(partial) < due_day(covered) < due_day(easy)  # a miss is due soonest
    assert due_day(missed) < 0.01 and due_day(easy) >= 1  # Anki's learning steps, then days
    assert (missed.asked, missed.covered, easy.asked, easy.covered) == (1, 0, 1, 1)
    s = easy
    for day in (due_day(s), due_day(s) * 3):  # reviewed on time, covered: the interval grows
        before = due_day(s) - day
        s = step(s, "covered", f"s{day}", day)
        assert due_day(s) - day > before
    stable = s.stability
    lapsed = step(s, "contradicted", "s9", due_day(s))
    assert lapsed.stability < stable and lapsed.state == 3  # relearning, due again within minutes
    assert due_day(lapsed) - due_day(s) < 0.01 and (lapsed.asked, lapsed.covered) == (4, 3)
    assert step(s, "partial", "s9", due_day(s)).due_at > lapsed.due_at


def test_a_higher_desired_retention_brings_reviews_sooner():
    low, high = (step(step(None, "covered", "s1", 0, easy=True, retention=r), "covered", "s2", 10, retention=r)
                 for r in (0.8, 0.95))
    assert due_day(high) < due_day(low)


def test_a_second_grade_in_the_same_session_revises_instead_of_stepping_twice():
    before = step(step(None, "covered", "s1", 0, easy=True), "covered", "s2", 9)
    missed = step(before, "missing", "s3", 30)  # the main answer missed it ...
    probed = step(missed, "covered", "s3", 30)  # ... the probe in the same session covered it
    assert (probed.asked, probed.covered) == (3, 3)
    assert probed == step(before, "covered", "s3", 30)
    first = step(step(None, "missing", "s1", 0), "partial", "s1", 0)  # revised within a first session
    assert first == step(None, "partial", "s1", 0) and first.asked == 1


def test_the_best_evidence_is_kept():
    s = schedule(SCHEDULER, None, "", "c", "kw", "partial", "s1", stamp(T0), evidence="조금 맞음")
    s = schedule(SCHEDULER, s, "", "c", "kw", "covered", "s2", stamp(T0 + timedelta(days=1)), evidence="정확함")
    s = schedule(SCHEDULER, s, "", "c", "kw", "partial", "s3", stamp(T0 + timedelta(days=2)), evidence="흐릿함")
    s = schedule(SCHEDULER, s, "", "c", "kw", "missing", "s4", stamp(T0 + timedelta(days=3)))
    assert (s.best_evidence, s.best_verdict) == ("정확함", "covered")


def missed_a_day_ago(deps: Deps, card_id: str, learner: str = "") -> None:
    """The card answered '모르겠습니다' yesterday: recorded through the real progress code."""
    at = stamp(datetime.now(UTC) - timedelta(days=1))
    with deps.history.transaction() as tx:
        record(tx, deps.scheduler, learner, "yesterday", all_missing(deps.bank.get(card_id)), at)


@pytest.fixture
def deps(indexed_runtime: Runtime) -> Deps:
    return indexed_runtime.interview_deps()


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
    # covered in the first answer with no hint: Easy, so straight to review, due in days
    assert all(k.state == 2 and k.asked == k.covered == 1 and k.session_id == interview.session.id
               and k.due_at > stamp(datetime.now(UTC) + timedelta(days=1)) for k in states.values())
    assert all(k.best_evidence and k.best_evidence.rstrip(".") in GOOD_DROPOUT and k.best_verdict == "covered"
               for k in states.values())
    turn = deps.history.turns(interview.session.id)[0]
    assert all(k.last_seen == turn.answered_at for k in states.values())


def test_due_cards_come_first_most_overdue_first_and_the_seed_keeps_review_on(deps: Deps):
    first = interview_once(deps, {"dropout": GOOD_DROPOUT}, topics=["dropout", "overfitting-remedies"])
    assert set(first.session.plan) == {"dropout", "overfitting-remedies"}
    eligible = set(TOPICS)
    in_an_hour = stamp(datetime.now(UTC) + timedelta(hours=1))  # the miss's first learning step is a minute
    assert review_cards(deps.history, deps.bank, "", eligible, at=in_an_hour) == ["overfitting-remedies"]
    later = stamp(datetime.now(UTC) + timedelta(days=60))  # dropout (Easy) is due by then
    assert review_cards(deps.history, deps.bank, "", eligible, at=later) == ["overfitting-remedies", "dropout"]
    missed_a_day_ago(deps, "sgd-rmsprop-adam")
    assert review_cards(deps.history, deps.bank, "", eligible, at=later)[0] == "sgd-rmsprop-adam"
    for seed in (1, 2, 3, 4):
        interview, reply = Interview.start(deps, Options(n_questions=2, topics=TOPICS, seed=seed))
        assert interview.session.plan[0] == "sgd-rmsprop-adam" and "복습" in say(reply)
        assert "dropout" not in interview.session.plan[:1]
        start = [e for e in deps.history.events(interview.session.id) if e["kind"] == "start"][0]
        # overfitting-remedies was missed a moment ago: its learning step falls within learn-ahead
        assert start["data"]["review"] == ["sgd-rmsprop-adam", "overfitting-remedies"]


def test_cards_missed_a_moment_ago_come_back_first_in_the_next_interview(deps: Deps):
    """FSRS puts a miss a minute (or ten) ahead; learn-ahead (Anki's 20 minutes) counts it as due now."""
    first = interview_once(deps, {}, topics=TOPICS, n_questions=3, seed=5)
    missed = first.session.plan
    assert len(missed) == 3
    again, reply = Interview.start(deps, Options(n_questions=3, topics=TOPICS, seed=6, max_follow_ups=0))
    assert set(again.session.plan) == set(missed) and "복습할 때가 된 키워드가 있는 질문 3개" in say(reply)
    strict = replace(deps, learn_ahead=0.0)  # INTERVIEWER_LEARN_AHEAD=0: only what is due this very moment
    other, reply = Interview.start(strict, Options(n_questions=3, topics=TOPICS, seed=6, max_follow_ups=0))
    assert "복습" not in say(reply)


def test_learn_ahead_never_brings_a_review_card_forward(deps: Deps):
    interview_once(deps, {"dropout": GOOD_DROPOUT}, topics=["dropout"], n_questions=1)  # Easy: a review card
    assert review_cards(deps.history, deps.bank, "", {"dropout"}, learn_ahead=60 * 24 * 30) == []


def test_learn_ahead_and_the_time_zone_come_from_the_environment():
    from interviewer.core.errors import UserError
    from interviewer.settings import Settings

    settings = Settings.from_env({"INTERVIEWER_LEARN_AHEAD": "5", "INTERVIEWER_TZ": "Asia/Seoul"})
    assert settings.learn_ahead == 5.0 and str(settings.zone) == "Asia/Seoul"
    assert Settings.from_env({}).learn_ahead == 20.0
    for name, bad in (("INTERVIEWER_LEARN_AHEAD", "-1"), ("INTERVIEWER_LEARN_AHEAD", "soon"), ("INTERVIEWER_TZ", "Mars/Base")):
        with pytest.raises(UserError, match=name):
            Settings.from_env({name: bad})


def test_a_hint_makes_a_covered_key_point_good_not_easy(deps: Deps):
    interview, _ = Interview.start(deps, Options(n_questions=1, topics=["dropout"], max_follow_ups=0))
    interview.hint()
    interview.answer(GOOD_DROPOUT)
    states = deps.history.keyword_progress("")
    assert states and all(k.last_verdict == "covered" and k.state == 1 for k in states)  # Good: still learning
    assert all(k.due_at < stamp(datetime.now(UTC) + timedelta(hours=1)) for k in states)


def test_no_review_plans_by_the_seed_alone(deps: Deps):
    missed_a_day_ago(deps, "overfitting-remedies")
    seeded = plan_questions(deps.bank, TOPICS, 2, seed=8)
    assert seeded[0] != "overfitting-remedies"  # so the check below can tell review from no review
    interview, reply = Interview.start(deps, Options(n_questions=2, topics=TOPICS, seed=8, review=False))
    assert interview.session.plan == seeded and "복습" not in say(reply)
    reviewed, _ = Interview.start(deps, Options(n_questions=2, topics=TOPICS, seed=8))
    assert reviewed.session.plan[0] == "overfitting-remedies"


def test_review_stays_inside_the_topic_filter(deps: Deps):
    missed_a_day_ago(deps, "overfitting-remedies")
    interview, reply = Interview.start(deps, Options(n_questions=1, topics=["optimization"], seed=2))
    assert deps.bank.get(interview.session.plan[0]).topic == "optimization" and "복습" not in say(reply)


def test_each_login_has_its_own_progress(deps: Deps):
    interview_once(deps, {}, client="app:kim", topics=["overfitting-remedies"], n_questions=1)
    missed_a_day_ago(deps, "overfitting-remedies", learner="kim")
    assert {k.learner for k in deps.history.keyword_progress("kim")} == {"kim"}
    assert deps.history.keyword_progress("") == [] and deps.history.keyword_progress("lee") == []
    lee, reply = Interview.start(deps, Options(n_questions=1, topics=TOPICS, seed=8, client="app:lee"))
    assert "복습" not in say(reply)


def test_chat_no_review_flag(cli, deps: Deps):
    missed_a_day_ago(deps, "overfitting-remedies")
    seeded = deps.bank.get(plan_questions(deps.bank, TOPICS, 1, seed=8)[0])
    args = ["chat", "--questions", "1", "--seed", "8", "--topics", ",".join(TOPICS)]
    without = cli(*args, "--no-review", input="/quit\n")
    assert without.returncode == 0, without.stderr
    assert f"[질문 1/1] {seeded.title}" in without.stdout and "복습" not in without.stdout
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
    assert all(k["covered"] == 0 and k["state"] == "learning" for k in weakest[:4])
    assert weakest[-1]["card_id"] == "dropout" and weakest[-1]["covered"] == 1
    text = cli("history")
    assert text.returncode == 0 and good.session.id in text.stdout and "약한 키워드" in text.stdout


def test_desired_retention_comes_from_the_environment(tmp_path):
    from interviewer.core.errors import UserError
    from interviewer.settings import Settings

    assert Settings.from_env({"INTERVIEWER_HOME": str(tmp_path)}).desired_retention == 0.9
    assert Settings.from_env({"INTERVIEWER_DESIRED_RETENTION": "0.95"}).desired_retention == 0.95
    for bad in ("1.5", "0", "many"):
        with pytest.raises(UserError, match="INTERVIEWER_DESIRED_RETENTION"):
            Settings.from_env({"INTERVIEWER_DESIRED_RETENTION": bad})
