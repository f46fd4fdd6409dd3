"""The interview as an explicit state machine, free of any UI and of any text of its own.

One method per event — `start`, `answer`, `hint`, `skip`, `dont_know`, `run_code`, `run_demo`,
`finish`, `resume` — driven the same way by the Gradio app, the terminal chat and the tests. Each
returns a `Step` (`interviewer.interview.steps`): what happened, as data, which `interviewer.shells.presenter` words.
The state is the session row and its turns in the history store: every question is written when
asked and every answer with its grade when given, so `resume` rebuilds an interview from the store
alone and a killed process loses nothing. Driven through `handling(scope)`, an event starts from the
store's state (another replica may have moved the session) and writes into the scope's transaction.

Flow per main question: ask → grade → decide. A follow-up is the card's own `###` child when the
answer touched its subject; after an answer good enough to go deeper, that child or a deeper
question beside the card in the bank; otherwise a probe aims at a missed key point of the card just
answered (graded against the same card; a key point covered in either answer counts). Once a card
is done (no probe on it follows), its feedback carries the reference answer. At most `max_follow_ups` per main question. Unless review is off, the plan starts with the
cards whose key points are due again (`interviewer.history.progress`), and every graded turn moves them.
"""

from __future__ import annotations

import random
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from functools import wraps
from typing import Protocol

from fsrs import Scheduler

from interviewer.bank.cards import Bank
from interviewer.core.clock import local_zone
from interviewer.core.models import Card, Grade, KeyPoint, KeyPointResult
from interviewer.core.records import SessionRecord, Turn, now
from interviewer.core.verdicts import VERDICT_RANK, Method
from interviewer.grading.grader import Tally
from interviewer.history import progress
from interviewer.history.sqlite import EventScope, History, Tx
from interviewer.interview import planning, steps
from interviewer.interview.commands import DONT_KNOW, chat_command, is_dont_know
from interviewer.interview.events import TAKES_TEXT, Event
from interviewer.interview.planning import Options
from interviewer.interview.voice import TemplateVoice
from interviewer.lang.phrasing import clue
from interviewer.lang.text import Glossary, squash
from interviewer.llm.calls import VoiceStats, counting
from interviewer.reports.report import Report, build_report
from interviewer.sandbox import Demo, Demos, run_program
from interviewer.settings import DEFAULT_LEARN_AHEAD

# An interview answer (chat or app) longer than this is cut here, with a notice, before it is graded
# and kept; 5,000 characters are at most 20 KB of UTF-8, under the grader's own MAX_ANSWER_BYTES.
MAX_ANSWER_CHARS = 5_000
DEEPER_SCORE = 60  # an answer at least this good earns a deeper follow-up rather than a probe
ASCII_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[- ][A-Za-z][A-Za-z0-9]*)*")


class AnswerGrader(Protocol):
    def grade(self, card: Card, answer: str) -> Grade: ...


@dataclass
class Deps:
    """What an interview needs: the runtime builds it (`Runtime.interview_deps`)."""

    bank: Bank
    grader: AnswerGrader
    voice: TemplateVoice
    history: History
    glossary: Glossary | None = None
    demos: Demos = field(default_factory=lambda: Demos([]))
    scheduler: Scheduler = field(default_factory=progress.scheduler)
    learn_ahead: float = DEFAULT_LEARN_AHEAD  # minutes (`INTERVIEWER_LEARN_AHEAD`)
    zone: tzinfo = field(default_factory=local_zone)  # the report's times


def new_session_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def clip_answer(text: str) -> tuple[str, bool]:
    """The answer as it is graded and kept: cut at MAX_ANSWER_CHARS; True when it was cut."""
    return (text[:MAX_ANSWER_CHARS], True) if len(text) > MAX_ANSWER_CHARS else (text, False)


# --- grading helpers --------------------------------------------------------------------------

def merge_grades(card: Card, grades: list[Grade]) -> Grade:
    """A key point covered in any of the answers counts: per key point keep the best verdict, and
    never score the card lower than any single answer did."""
    best: dict[str, KeyPointResult] = {}
    for grade in grades:
        for kp in grade.keypoints:
            old = best.get(kp.keyword)
            if old is None or VERDICT_RANK[kp.verdict] > VERDICT_RANK[old.verdict]:
                best[kp.keyword] = kp
    order = [kp.keyword for kp in card.keypoints]
    keypoints = sorted(best.values(), key=lambda kp: order.index(kp.keyword) if kp.keyword in order else len(order))
    return Grade(card_id=card.id, score=max([Tally.of(keypoints).score, *(g.score for g in grades)]),
                 grade=max(g.grade for g in grades), keypoints=keypoints,
                 llm_used=any(g.llm_used for g in grades),
                 notices=list(dict.fromkeys(n for g in grades for n in g.notices)))


def all_missing(card: Card) -> Grade:
    """The grade of "I don't know": every key point missed, nothing guessed."""
    return Grade(card_id=card.id, score=0, grade=0, keypoints=[
        KeyPointResult(keyword=kp.keyword, verdict="missing", method=Method.DONT_KNOW, added=kp.added)
        for kp in card.keypoints])


def missed_keypoints(card: Card, grade: Grade | None) -> list[KeyPoint]:
    if grade is None:
        return list(card.keypoints)
    verdicts = {kp.keyword: kp.verdict for kp in grade.keypoints}
    return [kp for kp in card.keypoints if verdicts.get(kp.keyword, "missing") != "covered"]


def subject_terms(child: Card, parent: Card, glossary: Glossary | None) -> list[str]:
    """Words that show an answer touched a follow-up's subject: its keywords and the English terms
    of its title that the parent question does not already contain."""
    parent_title = parent.title.lower()
    terms = list(child.keywords)
    terms += [t for t in ASCII_TERM.findall(child.title) if t.lower() not in parent_title]
    if glossary is not None:
        terms += [alias for t in list(terms) for alias in glossary.aliases_in(t)]
    return [t for t in dict.fromkeys(terms) if len(t) >= 2]


def touches(answer: str, terms: list[str]) -> bool:
    text = squash(answer)
    return any(key in text for key in map(squash, terms) if key)


# --- the state machine ------------------------------------------------------------------------

def counted(event: Callable[..., steps.Step]) -> Callable[..., steps.Step]:
    """LLM calls made while handling `event` count for this interview (the voice serves them all)."""
    @wraps(event)
    def handle(self: Interview, *args: object) -> steps.Step:
        with counting(self.llm):
            return event(self, *args)
    return handle


class Interview:
    """One candidate's interview. Not thread-safe by itself: callers hold `lock` per event."""

    def __init__(self, deps: Deps, session: SessionRecord, turns: list[Turn]):
        self.deps = deps
        self.session = session
        self.turns = turns
        self.lock = threading.Lock()
        self._scope: EventScope | None = None  # the event being handled, when driven through `handling`
        # LLM usage of this session, continuing from what is stored when it is resumed.
        self.llm = VoiceStats(backend=session.llm_backend, model=session.llm_model,
                              calls=session.llm_calls, failures=session.llm_failures)

    # events ------------------------------------------------------------------------------------

    @classmethod
    def start(cls, deps: Deps, options: Options) -> tuple[Interview, steps.Step]:
        planning.check_options(options)
        topics = planning.parse_topics(options.topics)
        seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
        learner = progress.learner_of(options.client)
        review = planning.due_for_review(deps.history, deps.bank, topics, learner, deps.learn_ahead) \
            if options.review else []
        plan = planning.plan_questions(deps.bank, topics, options.n_questions, seed, review)
        review = review[:len(plan)]
        stats = deps.voice.stats
        session = SessionRecord(
            id=new_session_id(), client=options.client, feedback_mode=options.feedback_mode,
            n_questions=len(plan), max_follow_ups=options.max_follow_ups, topics=topics, seed=seed,
            plan=plan, llm_backend=stats.backend, llm_model=stats.model)
        interview = cls(deps, session, [])
        with counting(interview.llm):
            first = interview._main_turn(1)
        assert first is not None  # a plan has at least one question
        with interview._writing() as tx:
            tx.create_session(session)
            tx.llm_usage(session)
            tx.event(session.id, "start", requested=options.n_questions, topics=topics, seed=seed, review=review)
            tx.ask(first)
        interview.turns.append(first)
        parts: list[steps.Part] = [
            steps.Planned(len(plan), options.n_questions, len(review)), interview._notices(),
            steps.Intro(len(plan), follow_ups=options.max_follow_ups > 0,
                        feedback_at_end=options.feedback_mode == "end"),
            steps.Question(first)]
        return interview, steps.Step(session.id, parts, waiting=first, recorded=True)

    @classmethod
    def resume(cls, deps: Deps, session_id: str) -> Interview:
        session = deps.history.session(session_id)
        interview = cls(deps, session, deps.history.turns(session_id))
        if not interview.finished and interview.current is None:
            interview._recover_missing_question()
        return interview

    @contextmanager
    def handling(self, scope: EventScope) -> Iterator[None]:
        """Handle one event on the session as `scope` read it from the store, writing into the scope:
        whichever process handled the steps before, this one continues from the last of them."""
        self.session, self.turns = scope.session, scope.turns
        self.llm.calls, self.llm.failures = scope.session.llm_calls, scope.session.llm_failures
        self._scope = scope
        try:
            if not self.finished and self.current is None:
                self._recover_missing_question()
            yield
        finally:
            self._scope = None

    def resumed(self) -> steps.Step:
        """Where a resumed interview stands: the question waiting, or that it is over."""
        turn = self.current
        if turn is None:
            return self._already_finished()
        return self._aside(steps.Question(turn, resumed=True))

    def message(self, text: str) -> steps.Step:
        """A chat line: a command (`/hint`, `/numpy CODE`, `/demo`, …) is its event, anything else an answer."""
        event, argument = chat_command(text)
        return self.on(event, argument or "")

    def on(self, event: Event, text: str = "") -> steps.Step:
        """Handle one event; the text goes to the events that take it."""
        handler = HANDLERS[event]
        return handler(self, text) if event in TAKES_TEXT else handler(self)

    @counted
    def answer(self, text: str) -> steps.Step:
        turn = self.current
        if turn is None:
            return self._already_finished()
        text = (text or "").strip()
        if not text:
            return self._aside(steps.EmptyAnswer(), steps.Question(turn))
        if is_dont_know(text):
            return self.dont_know()
        parts: list[steps.Part] = []
        received = len(text)
        text, turn.truncated = clip_answer(text)
        if turn.truncated:
            parts.append(steps.Truncated(MAX_ANSWER_CHARS, received))
        card = self.deps.bank.get(turn.card_id)
        self._record(turn, "answered", text, self.deps.grader.grade(card, text))
        shown = turn.result
        assert shown is not None  # just graded
        if self.feedback_shown:
            parts += [steps.Feedback(shown, self.deps.voice.feedback(card, shown, text), card), *self._demo_offer(card)]
            return self._advance(turn, parts, grade=shown)
        return self._advance(turn, [*parts, steps.Held()])

    @counted
    def skip(self) -> steps.Step:
        turn = self.current
        if turn is None:
            return self._already_finished()
        self._record(turn, "skipped", None, None)
        return self._advance(turn, [steps.Skipped()], next_main=True)

    @counted
    def dont_know(self) -> steps.Step:
        turn = self.current
        if turn is None:
            return self._already_finished()
        card = self.deps.bank.get(turn.card_id)
        self._record(turn, "dont_know", DONT_KNOW, all_missing(card))
        if self.feedback_shown:
            return self._advance(turn, [steps.Reference(card), *self._demo_offer(card)], grade=turn.result,
                                 next_main=True)
        return self._advance(turn, [steps.Reference(card)], next_main=True)

    def hint(self) -> steps.Step:
        turn = self.current
        if turn is None:
            return self._already_finished()
        card = self.deps.bank.get(turn.card_id)
        candidates = self._hint_candidates(turn, card)
        if turn.hints_used >= len(candidates):
            return self._aside(steps.NoMoreHints())
        kp = candidates[turn.hints_used]
        turn.hints_used += 1
        with self._writing() as tx:
            tx.hint(turn)
            tx.event(self.session.id, "hint", turn.id, keyword=kp.keyword, category=kp.category)
        # A probe aimed at this key point already named its category: the hint adds the clue instead.
        said = turn.kind == "probe" and turn.probe_keyword == kp.keyword and bool(kp.category)
        blanked = clue(kp.explanation, [k.keyword for k in card.keypoints], kp.keyword)
        about = kp.category or self.deps.bank.topic_label(card.topic)
        hint = steps.Hint(turn.hints_used, len(candidates), None if said and blanked else about, blanked)
        return steps.Step(self.session.id, [hint], waiting=turn, recorded=True)

    def run_code(self, code: str) -> steps.Step:
        """Run the candidate's numpy program in the sandbox; the interview does not move."""
        if not code.strip():
            return self._aside(steps.NoCode())
        return self._run(code)

    def run_demo(self) -> steps.Step:
        """Run the demo offered after the last graded answer; the interview does not move."""
        if not (self.feedback_shown or self.finished):
            return self._aside(steps.DemoHeld())  # the demo would give away what the feedback holds back
        graded = next((t for t in reversed(self.turns) if t.result is not None), None)
        demo = self._demo_of(self.deps.bank.get(graded.card_id)) if graded else None
        if demo is None:
            return self._aside(steps.NoDemo())
        return self._run(demo.code, demo)

    @counted
    def finish(self) -> steps.Step:
        """End now (early or at the end); the report covers what was answered."""
        if not self.finished:
            with self._writing() as tx:
                tx.event(self.session.id, "finish", early=self.current is not None)
                tx.finish(self.session)
        return steps.Step(self.session.id, [self._closing()], finished=True, recorded=True)

    # state -------------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.session.status == "finished"

    @property
    def current(self) -> Turn | None:
        """The question waiting for an answer, if any."""
        if self.turns and self.turns[-1].pending:
            return self.turns[-1]
        return None

    @property
    def feedback_shown(self) -> bool:
        """Is feedback shown after each answer (else held until the end)?"""
        return self.session.feedback_mode == "immediate"

    @property
    def learner(self) -> str:
        return progress.learner_of(self.session.client)

    def report(self) -> Report:
        """The session report, from what this interview holds (the same as the store's)."""
        return build_report(self.session, self.turns, self.deps.bank, self.deps.zone)

    # internals ---------------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Tx]:
        """One transaction of this interview; the session row carries the LLM usage counted so far."""
        self.session.llm_calls, self.session.llm_failures = self.llm.calls, self.llm.failures
        with (self._scope or self.deps.history).transaction() as tx:
            yield tx

    def _demo_of(self, card: Card) -> Demo | None:
        """The card's own demo, else its main card's: a follow-up shares its parent's concept."""
        for card_id in filter(None, (card.id, card.parent_id)):
            demos = self.deps.demos.for_card(card_id)
            if demos:
                return demos[0]
        return None

    def _demo_offer(self, card: Card) -> list[steps.Part]:
        demo = self._demo_of(card)
        return [steps.DemoOffer(demo)] if demo else []

    def _run(self, code: str, demo: Demo | None = None) -> steps.Step:
        """One sandbox run, kept as an event of the session (never as an answer)."""
        result = run_program(code)
        turn = self.current
        with self._writing() as tx:
            tx.event(self.session.id, "sandbox", turn.id if turn else None, demo=demo.id if demo else None,
                     code=None if demo else code, ok=result.ok, error=result.error,
                     figures=len(result.figures), duration_ms=result.duration_ms)
        # `finished` stays False: a run changes nothing about the interview, also after its end.
        return steps.Step(self.session.id, [steps.SandboxRun(result, demo)], waiting=turn, recorded=True,
                          run=result)

    def _aside(self, *parts: steps.Part) -> steps.Step:
        """A step that leaves the interview where it is."""
        return steps.Step(self.session.id, list(parts), waiting=self.current)

    def _already_finished(self) -> steps.Step:
        return steps.Step(self.session.id, [steps.AlreadyFinished()], finished=True)

    def _record(self, turn: Turn, outcome: str, answer: str | None, grade: Grade | None) -> None:
        """Fill in the answered turn in memory; `_advance` writes it with the next step."""
        turn.outcome, turn.answer, turn.answered_at, turn.grade = outcome, answer, now(), grade
        if turn.kind == "probe" and grade is not None:
            card = self.deps.bank.get(turn.card_id)
            earlier = self._latest_result(turn.main_index, turn.card_id, before=turn.seq)
            # Verdicts merged, not the joined answers graded again: that doubled a probe's cost.
            turn.merged = merge_grades(card, [earlier, grade]) if earlier else None

    def _advance(self, turn: Turn, outcome: list[steps.Part], grade: Grade | None = None,
                 next_main: bool = False) -> steps.Step:
        nxt = self._main_turn(turn.main_index + 1) if next_main else self._decide(turn)
        with self._writing() as tx:
            tx.answer(turn)
            if turn.result is not None:
                progress.record(tx, self.deps.scheduler, self.learner, self.session.id, turn.result,
                                turn.answered_at or now(), easy=self._easy(turn))
            if turn.truncated:
                tx.event(self.session.id, "truncated", turn.id, limit=MAX_ANSWER_CHARS)
            if nxt is not None:
                tx.ask(nxt)
                tx.llm_usage(self.session)
            else:
                tx.event(self.session.id, "finish", early=False)
                tx.finish(self.session)
        if nxt is None or (nxt.kind, nxt.card_id) != ("probe", turn.card_id):
            # Done with this card: its reference answer goes with the feedback (a probe still to come
            # on the same card would find its answer there).
            outcome = [replace(p, reference=True) if isinstance(p, steps.Feedback) else p
                       for p in outcome]
        parts: list[steps.Part] = [self._notices(), *outcome]
        if nxt is not None:
            self.turns.append(nxt)
            return steps.Step(self.session.id, [*parts, steps.Question(nxt)], waiting=nxt, grade=grade,
                              recorded=True)
        return steps.Step(self.session.id, [*parts, self._closing()], grade=grade, finished=True, recorded=True)

    def _decide(self, turn: Turn) -> Turn | None:
        group = [t for t in self.turns if t.main_index == turn.main_index]
        if sum(t.kind != "main" for t in group) < self.session.max_follow_ups:
            follow = self._follow_up(group, turn)
            if follow is not None:
                return follow
        return self._main_turn(turn.main_index + 1)

    def _follow_up(self, group: list[Turn], last: Turn) -> Turn | None:
        bank = self.deps.bank
        main = bank.get(group[0].card_id)
        children = self._fresh(bank.children(main.id))
        said = "\n".join(t.answer or "" for t in group if t.outcome == "answered")
        touched = [c for c in children if touches(said, subject_terms(c, main, self.deps.glossary))]
        result = last.result
        rng = random.Random(f"{self.session.seed}:{last.seq}")
        if touched:
            return self._follow_up_turn(last, touched[0], main)
        if result is not None and result.score >= DEEPER_SCORE:
            deeper = children or self._deeper(bank.get(last.card_id))
            if deeper:
                return self._follow_up_turn(last, rng.choice(deeper), main)
        card = bank.get(last.card_id)
        probed = {t.probe_keyword for t in group if t.card_id == card.id and t.kind == "probe"}
        missed = [kp for kp in missed_keypoints(card, result) if kp.keyword not in probed]
        if not missed:
            return None
        text = self.deps.voice.probe(card, missed[0], said, asked=self._asked())
        return Turn(session_id=self.session.id, seq=last.seq + 1, main_index=last.main_index, kind="probe",
                    card_id=card.id, parent_card_id=main.id, probe_keyword=missed[0].keyword, question=text)

    def _fresh(self, cards: list[Card]) -> list[Card]:
        """Cards this interview may still ask as a follow-up: gradable, not asked, not planned."""
        asked = {t.card_id for t in self.turns}
        return [c for c in cards if c.gradable and c.kind != "practice" and c.id not in asked
                and c.id not in self.session.plan]

    def _deeper(self, card: Card) -> list[Card]:
        """A deeper question from the bank after a strong answer on a card with no `###` of its own
        left: the `###` questions beside it, else those of its topic."""
        bank = self.deps.bank
        siblings = self._fresh(bank.children(card.parent_id)) if card.parent_id else []
        return siblings or self._fresh([c for c in bank.cards if c.kind == "follow_up" and c.topic == card.topic])

    def _asked(self) -> list[str]:
        """The questions of this interview so far, so the voice never uses a frame twice."""
        return [t.question for t in self.turns]

    def _follow_up_turn(self, last: Turn, card: Card, main: Card) -> Turn:
        return Turn(session_id=self.session.id, seq=last.seq + 1, main_index=last.main_index,
                    kind="follow_up", card_id=card.id, parent_card_id=main.id,
                    question=self.deps.voice.follow_up(card, main, asked=self._asked()))

    def _main_turn(self, number: int) -> Turn | None:
        plan = self.session.plan
        if number > len(plan):
            return None
        card = self.deps.bank.get(plan[number - 1])
        seq = self.turns[-1].seq + 1 if self.turns else 1
        return Turn(session_id=self.session.id, seq=seq, main_index=number, kind="main", card_id=card.id,
                    question=self.deps.voice.ask(card, number, len(plan)))

    def _easy(self, turn: Turn) -> frozenset[str]:
        """The key points covered in the card's first answer (not a probe's) given without a hint."""
        first = next((t for t in self.turns if t.main_index == turn.main_index and t.card_id == turn.card_id
                      and t.kind != "probe"), turn)
        if first.outcome != "answered" or first.hints_used or first.grade is None:
            return frozenset()
        return frozenset(kp.keyword for kp in first.grade.keypoints if kp.verdict == "covered")

    def _latest_result(self, main_index: int, card_id: str, before: int) -> Grade | None:
        for t in reversed(self.turns):
            if t.main_index == main_index and t.card_id == card_id and t.seq < before and t.result:
                return t.result
        return None

    def _hint_candidates(self, turn: Turn, card: Card) -> list[KeyPoint]:
        """Missed key points, the one a probe aims at first."""
        earlier = self._latest_result(turn.main_index, card.id, before=turn.seq)
        missed = missed_keypoints(card, earlier)
        missed.sort(key=lambda kp: kp.keyword != turn.probe_keyword)
        return missed

    def _recover_missing_question(self) -> None:
        """A running session whose last turn is answered (written by an older version or by hand):
        ask the next question so the interview can go on."""
        last = self.turns[-1] if self.turns else None
        with counting(self.llm):
            nxt = self._main_turn(1) if last is None else self._decide(last)
        with self._writing() as tx:
            if nxt is None:
                tx.finish(self.session)
            else:
                tx.ask(nxt)
                self.turns.append(nxt)

    def _notices(self) -> steps.Notices:
        """This session's one-line LLM notices (a failed call, a fallback), each shown once."""
        return steps.Notices(self.llm.drain_notices())

    def _closing(self) -> steps.Closing:
        """The closing line over the report; written after the report, so its LLM call is stored on its own."""
        report = self.report()
        prose = self.deps.voice.closing(report)
        with self._writing() as tx:
            tx.llm_usage(self.session)
        return steps.Closing(self.llm.drain_notices(), prose, report)


# Which method handles each event (`Interview.on`).
HANDLERS: dict[Event, Callable[..., steps.Step]] = {
    Event.ANSWER: Interview.answer, Event.MESSAGE: Interview.message, Event.HINT: Interview.hint,
    Event.SKIP: Interview.skip, Event.DONT_KNOW: Interview.dont_know, Event.RUN_CODE: Interview.run_code,
    Event.RUN_DEMO: Interview.run_demo, Event.FINISH: Interview.finish,
}
