"""The interview engine driven event by event, with the real grader, Chroma index and SQLite store."""

from __future__ import annotations

import pytest

from interviewer.core.errors import UserError
from interviewer.core.models import Card, Grade, KeyPoint, KeyPointResult
from interviewer.interview.commands import chat_command
from interviewer.interview.engine import MAX_ANSWER_CHARS, Deps, Interview, merge_grades
from interviewer.interview.planning import Options, plan_questions
from interviewer.interview.steps import Step
from interviewer.reports.markdown import code_block
from interviewer.runtime import Runtime
from interviewer.settings import Settings
from interviewer.shells.presenter import ALREADY_FINISHED, NO_CODE, NO_DEMO, say, transcript

# local-minima has gradable `###` follow-ups; its first one is about the learning rate scheduler.
LOCAL_MINIMA_ANSWER = ("weight initialize를 잘 하고 pre-train을 하면 좋은 지점에서 출발합니다. "
                       "learning rate scheduler로 학습률을 조절하기도 합니다.")


@pytest.fixture
def deps(indexed_runtime: Runtime) -> Deps:
    return indexed_runtime.interview_deps()


def start(deps: Deps, **options) -> tuple[Interview, Step]:
    return Interview.start(deps, Options(**{"n_questions": 2, "seed": 11, **options}))


def reference_for(deps: Deps, interview: Interview) -> str:
    return deps.bank.get(interview.current.card_id).answer or "잘 모르겠지만 설명해 보겠습니다."


def test_a_whole_interview_is_persisted_turn_by_turn(deps: Deps):
    interview, reply = start(deps, n_questions=2)
    assert reply.waiting.kind == "main" and "[질문 1/2]" in say(reply)
    given = []
    for _ in range(10):
        if interview.finished:
            break
        text = reference_for(deps, interview)
        stored_before = len(deps.history.turns(interview.session.id))
        reply = interview.answer(text)
        given.append(text)
        assert reply.recorded and reply.grade is not None and "점수" in say(reply)
        assert len(deps.history.turns(interview.session.id)) == stored_before + (0 if reply.finished else 1)
    assert interview.finished and reply.finished and "면접 결과" in say(reply)
    turns = deps.history.turns(interview.session.id)
    assert [t.answer for t in turns] == given
    assert all(t.grade is not None and t.grade.card_id == t.card_id for t in turns)
    assert {t.main_index for t in turns} == {1, 2}
    for number in (1, 2):
        assert sum(t.kind != "main" for t in turns if t.main_index == number) <= 2
    assert deps.history.session(interview.session.id).status == "finished"
    assert say(interview.answer("더 할 말이 있어요")) == ALREADY_FINISHED


def test_the_seed_fixes_the_plan_and_topics_filter_it(deps: Deps):
    first = plan_questions(deps.bank, ["optimization"], 3, seed=5)
    assert first == plan_questions(deps.bank, ["optimization"], 3, seed=5)
    assert all(deps.bank.get(card_id).topic == "optimization" for card_id in first)
    assert all(deps.bank.get(card_id).gradable for card_id in first)
    assert plan_questions(deps.bank, ["dropout"], 1, seed=1) == ["dropout"]


def test_unknown_topic_lists_the_valid_ones(deps: Deps):
    with pytest.raises(UserError) as caught:
        start(deps, topics="optimisation-typo")
    assert "optimisation-typo" in str(caught.value) and "optimization" in str(caught.value)


def test_empty_answer_is_asked_again_and_not_recorded(deps: Deps):
    interview, reply = start(deps)
    again = interview.answer("   \n ")
    assert not again.recorded and again.grade is None and "비어" in say(again)
    assert again.waiting.id == reply.waiting.id
    assert deps.history.turns(interview.session.id)[0].pending


def test_an_overlong_answer_is_truncated_with_a_notice(deps: Deps):
    interview, _ = start(deps)
    reply = interview.answer("드롭아웃은 과적합을 줄입니다. " * 2000)
    assert f"{MAX_ANSWER_CHARS:,}자" in say(reply)
    turn = deps.history.turns(interview.session.id)[0]
    assert len(turn.answer) == MAX_ANSWER_CHARS and turn.truncated


def test_a_hint_reveals_a_category_not_the_keyword(deps: Deps):
    interview, reply = start(deps, topics="local-minima", n_questions=1)
    card = deps.bank.get("local-minima")
    hint = interview.hint()
    assert "힌트 1/" in say(hint)
    assert not any(kp.keyword.lower() in say(hint).lower() for kp in card.keypoints)
    assert deps.history.turns(interview.session.id)[0].hints_used == 1
    assert [e["kind"] for e in deps.history.events(interview.session.id)] == ["start", "hint"]


def test_dont_know_records_all_missed_and_shows_the_reference(deps: Deps):
    interview, _ = start(deps, n_questions=2)
    card = deps.bank.get(interview.current.card_id)
    reply = interview.answer("모르겠습니다")
    assert card.answer.splitlines()[0] in say(reply)
    turn = deps.history.turns(interview.session.id)[0]
    assert turn.outcome == "dont_know" and turn.grade.score == 0
    assert {kp.verdict for kp in turn.grade.keypoints} == {"missing"}
    assert reply.waiting.kind == "main" and reply.waiting.main_index == 2


def test_skip_moves_to_the_next_main_question_and_finish_ends_early(deps: Deps):
    interview, _ = start(deps, n_questions=3)
    reply = interview.skip()
    assert reply.waiting.main_index == 2 and reply.grade is None
    reply = interview.finish()
    assert reply.finished and "면접 결과" in say(reply)
    turns = deps.history.turns(interview.session.id)
    assert [t.outcome for t in turns] == ["skipped", None]
    assert deps.history.session(interview.session.id).status == "finished"
    assert [e["data"] for e in deps.history.events(interview.session.id) if e["kind"] == "finish"] == [{"early": True}]


def test_an_answer_touching_a_follow_up_leads_to_it(deps: Deps):
    interview, _ = start(deps, topics="local-minima", n_questions=1)
    reply = interview.answer(LOCAL_MINIMA_ANSWER)
    assert reply.waiting.kind == "follow_up" and reply.waiting.card_id == "escape-local-minima"
    assert reply.waiting.parent_card_id == "local-minima"
    assert "Local Minima" in reply.waiting.question


def test_follow_ups_stop_at_the_configured_limit(deps: Deps):
    for limit in (0, 1, 2):
        interview, _ = start(deps, topics="local-minima,dropout", n_questions=2, max_follow_ups=limit, seed=3)
        while not interview.finished and interview.current.main_index == 1:
            interview.answer(LOCAL_MINIMA_ANSWER)
        turns = [t for t in deps.history.turns(interview.session.id) if t.main_index == 1]
        assert sum(t.kind != "main" for t in turns) <= limit
        if limit == 0:
            assert len(turns) == 1


def test_a_probe_aims_at_a_missed_key_point_and_merges_with_the_first_answer(deps: Deps):
    interview, _ = start(deps, topics="overfitting-remedies", n_questions=1, max_follow_ups=1)
    first = interview.answer("데이터 양 늘리기가 가장 좋습니다.")
    probe = first.waiting
    assert probe.kind == "probe" and probe.card_id == "overfitting-remedies"
    assert probe.probe_keyword not in probe.question
    second = interview.answer("dropout을 쓰고 weight에 norm penalty를 주는 regularization도 합니다.")
    assert second.finished
    earlier = {kp.keyword: kp.verdict for kp in first.grade.keypoints}
    merged = {kp.keyword: kp.verdict for kp in second.grade.keypoints}
    for keyword, verdict in earlier.items():
        if verdict == "covered":
            assert merged[keyword] == "covered"
    assert second.grade.score >= first.grade.score
    stored = deps.history.turns(interview.session.id)[1]
    assert stored.merged == second.grade and stored.grade.card_id == "overfitting-remedies"


def test_real_interview_mode_holds_feedback_until_the_end(deps: Deps):
    interview, _ = start(deps, n_questions=1, feedback_mode="end", max_follow_ups=0)
    reply = interview.answer(reference_for(deps, interview))
    assert reply.finished and reply.grade is None
    held, report = say(reply).split("면접 결과", 1)
    assert "점수" not in held and "점수" in report


def test_resume_rebuilds_the_interview_from_the_store(deps: Deps, indexed_runtime: Runtime):
    interview, _ = start(deps, n_questions=2, max_follow_ups=0)
    interview.answer(reference_for(deps, interview))
    interview.hint()
    fresh = Runtime(Settings.from_env()).interview_deps()  # as a restarted process would
    resumed = Interview.resume(fresh, interview.session.id)
    assert resumed.current.id == interview.current.id and resumed.current.hints_used == 1
    assert [t.answer for t in resumed.turns] == [t.answer for t in interview.turns]
    assert "이어서" in say(resumed.resumed())
    reply = resumed.answer(reference_for(fresh, resumed))
    assert reply.finished
    assert len(transcript(resumed)) >= 4


def test_merge_keeps_the_better_verdict_per_key_point():
    def grade(score, **verdicts):
        return Grade(card_id="c", score=score, grade=score // 25,
                     keypoints=[KeyPointResult(keyword=k, verdict=v) for k, v in verdicts.items()])

    card = Card(id="c", title="Q", keypoints=[KeyPoint(keyword="a"), KeyPoint(keyword="b")])
    merged = merge_grades(card, [grade(50, a="covered", b="missing"), grade(50, b="covered", a="contradicted")])
    assert [(kp.keyword, kp.verdict) for kp in merged.keypoints] == [("a", "covered"), ("b", "covered")]
    assert merged.score == 100 and merged.grade == 2
    worse = merge_grades(card, [grade(50, a="covered", b="missing"), grade(0, a="missing", b="missing")])
    assert worse.score == 50 and [kp.verdict for kp in worse.keypoints] == ["covered", "missing"]


def test_a_graded_card_with_a_demo_offers_it_and_the_demo_runs_without_moving_on(deps: Deps):
    interview, _ = start(deps, topics="dropout", n_questions=1)
    assert say(interview.run_demo()) == NO_DEMO  # nothing graded yet: the demo would give the answer away
    reply = interview.message("드롭아웃은 co-adaptation을 막습니다.")
    assert "💡 예시 실행" in say(reply) and "/demo" in say(reply)
    assert "Dropout 마스크" in say(reply) and "interviewer sandbox --demo dropout-mask" in say(reply, "terminal")
    assert "interviewer sandbox" not in say(reply)  # the app has no terminal to run it in
    turns_before, waiting = deps.history.turns(interview.session.id), interview.current
    ran = interview.message("/demo")
    assert ran.run is not None and ran.run.ok, say(ran)
    assert ran.grade is None and ran.waiting is waiting and interview.current is waiting
    assert "Dropout 마스크" in say(ran) and "```python" in say(ran)
    assert ran.run.stdout.strip() and ran.run.stdout.strip().splitlines()[0] in say(ran)
    assert deps.history.turns(interview.session.id) == turns_before  # no answer recorded
    event = deps.history.events(interview.session.id)[-1]
    assert event["kind"] == "sandbox" and event["data"]["demo"] == "dropout-mask" and event["data"]["ok"]


def test_a_card_without_a_demo_offers_none(deps: Deps):
    interview, _ = start(deps, topics="local-minima", n_questions=1, max_follow_ups=0)
    reply = interview.answer(LOCAL_MINIMA_ANSWER)
    assert "예시 실행" not in say(reply)
    assert say(interview.run_demo()) == NO_DEMO


def test_real_interview_mode_offers_no_demo_before_the_end(deps: Deps):
    interview, _ = start(deps, topics="dropout", n_questions=1, feedback_mode="end", max_follow_ups=1)
    reply = interview.answer("드롭아웃은 co-adaptation을 막습니다.")
    assert "예시 실행" not in say(reply)
    held = interview.run_demo()
    assert held.run is None and "끝난 뒤" in say(held)
    interview.finish()
    assert interview.run_demo().run.ok


def test_numpy_code_runs_in_the_sandbox_and_is_kept_as_an_event(deps: Deps):
    interview, _ = start(deps)
    waiting = interview.current
    reply = interview.message("/numpy import numpy as np\nprint(np.arange(4).sum())")
    assert reply.run.ok and "\n6\n" in say(reply) and interview.current is waiting
    blocked = interview.run_code("import os\nos.listdir('/')")
    assert not blocked.run.ok and blocked.run.blocked == "import" and "import할 수 없습니다" in say(blocked)
    assert say(interview.run_code("   ")) == NO_CODE
    events = [e["data"] for e in deps.history.events(interview.session.id) if e["kind"] == "sandbox"]
    assert [e["ok"] for e in events] == [True, False] and events[1]["code"].startswith("import os")
    assert deps.history.turns(interview.session.id)[0].answer is None


def test_chat_commands_and_untrusted_output_fences():
    assert chat_command("/numpy print(1); print(2)") == ("run_code", "print(1); print(2)")
    assert chat_command("/numpy\nx = 1\n    \nx") == ("run_code", "x = 1\n    \nx")
    assert chat_command(" /DEMO ") == ("run_demo", None) and chat_command("/힌트") == ("hint", None)
    assert chat_command("/numpyx = 1") == ("answer", "/numpyx = 1")
    fenced = code_block("a ```` b")
    assert fenced.startswith("`````\n") and fenced.endswith("\n`````")


GOOD_DROPOUT = ("드롭아웃은 학습 중에 노드를 무작위로 끄기 때문에 노드들이 서로 의존하지 않게 해서 co-adaptation을 막습니다. "
                "또한 여러 모델을 앙상블하는 효과가 있습니다.")
OFF_TOPIC = "점심으로는 김치찌개가 제일 맛있습니다."


def test_a_topic_tag_wins_over_a_card_of_the_same_name(deps: Deps):
    """`regularization` is a topic tag and a card id: a topic picker means the tag; `card:` names the card."""
    plan = plan_questions(deps.bank, ["regularization"], 3, seed=1)
    assert len(plan) == 3 and "dropout" in plan
    assert all(deps.bank.get(card_id).topic == "regularization" for card_id in plan)
    assert plan_questions(deps.bank, ["card:regularization"], 3, seed=1) == ["regularization"]
    interview, reply = start(deps, topics="regularization", n_questions=3)
    assert len(interview.session.plan) == 3 and "뿐이라" not in say(reply)


def test_a_strong_answer_earns_a_deeper_question_from_the_bank(deps: Deps):
    """dropout has no `###` of its own: the questions beside it (under Batch Normalization) go deeper."""
    interview, _ = start(deps, topics="card:dropout", n_questions=1)
    reply = interview.answer(GOOD_DROPOUT)
    assert reply.grade.score >= 60
    assert reply.waiting.kind == "follow_up"
    assert reply.waiting.card_id in {c.id for c in deps.bank.children("batch-normalization")} - {"dropout"}


def test_no_probe_frame_is_used_twice_in_one_interview(deps: Deps):
    from interviewer.interview.voice import (
        FOLLOW_UP_OPENERS,
        PROBE_ANCHORS,
        PROBE_FRAMES,
        PROBES_PLAIN,
        frame_of,
    )

    interview, _ = start(deps, topics="overfitting-remedies,sgd-rmsprop-adam,local-minima,weight-initialization",
                         n_questions=4, max_follow_ups=2)
    while not interview.finished:
        interview.answer(OFF_TOPIC)
    asked = [t.question for t in deps.history.turns(interview.session.id) if t.kind != "main"]
    assert len(asked) >= 6
    frames = [*FOLLOW_UP_OPENERS, *PROBES_PLAIN, *PROBE_ANCHORS, *(f for kind in PROBE_FRAMES.values() for f in kind)]
    for frame in frames:
        assert sum(frame_of(frame) in q for q in asked) <= 1, frame
    assert not any(q.startswith("좋습니다") for q in asked), asked  # nothing praises an answer that missed everything


def test_a_probe_fits_the_question_and_the_hint_adds_what_it_did_not_say(deps: Deps):
    from interviewer.interview.voice import PROBE_FRAMES, frame_of

    interview, _ = start(deps, topics="overfitting-remedies", n_questions=1, max_follow_ups=1)
    first = interview.answer("데이터 양 늘리기가 가장 좋습니다.")
    probe = first.waiting
    assert probe.kind == "probe" and any(frame_of(f) in probe.question for f in PROBE_FRAMES["how"])
    assert "참고 답변" not in say(first)  # the probe's answer is not given away before it is asked
    hint = say(interview.hint())
    assert "빈칸" in hint and "○" in hint and hint not in probe.question
    category = deps.bank.get("overfitting-remedies").keypoints[0].category
    assert not (category in probe.question and category in hint)
    assert probe.probe_keyword not in hint


def test_the_reference_answer_follows_every_graded_main_question(deps: Deps):
    interview, _ = start(deps, topics="card:dropout", n_questions=1, max_follow_ups=0)
    text = say(interview.answer(OFF_TOPIC))
    assert "**참고 답변**" in text and deps.bank.get("dropout").answer.splitlines()[0] in text
    assert "좋습니다" not in text and "질문의 핵심과는 거리가" in text


def test_a_resumed_chat_keeps_the_reference_back_while_a_probe_waits(deps: Deps):
    interview, _ = start(deps, topics="overfitting-remedies", n_questions=1, max_follow_ups=1)
    interview.answer("데이터 양 늘리기가 가장 좋습니다.")
    assert interview.current.kind == "probe"
    chat = transcript(Interview.resume(deps, interview.session.id))
    assert "점수" in chat[2]["content"] and "참고 답변" not in chat[2]["content"]
    interview.answer("잘 모르겠습니다.")
    chat = transcript(Interview.resume(deps, interview.session.id))
    assert "참고 답변" in chat[-1]["content"]
