"""The interview as an explicit state machine, free of any UI.

One method per event — `start`, `answer`, `hint`, `skip`, `dont_know`, `finish`, `resume` — driven the
same way by the Gradio app, the terminal chat and the tests. The state is the session row and its
turns in the history store: every question is written when asked and every answer with its grade when
given, so `resume` rebuilds an interview from SQLite alone and a killed process loses nothing.

Flow per main question: ask → grade → decide. A follow-up is the card's own `###` child when the
answer touched its subject or was good enough to go deeper; otherwise a probe aims at a missed key
point of the card just answered (graded against the same card; a key point covered in either answer
counts). At most `max_follow_ups` per main question. Unless review is off, the plan starts with the
cards whose key points are due again (`interviewer.progress`), and every graded turn moves them.
"""

from __future__ import annotations

import functools
import random
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from interviewer import progress
from interviewer.bank import Bank
from interviewer.errors import UserError
from interviewer.grading import Tally
from interviewer.history import History, SessionRecord, Turn, now
from interviewer.models import Card, Grade, KeyPoint, KeyPointResult
from interviewer.report import build_report, code_block, format_feedback, to_markdown
from interviewer.sandbox import Demo, Demos, SandboxResult, run_program
from interviewer.text import squash
from interviewer.voice import TemplateVoice, VoiceStats, counting

MAX_ANSWER_CHARS = 5_000  # longer pastes are cut here, with a notice; documented in the README
DEFAULT_MAX_FOLLOW_UPS = 2
DEEPER_SCORE = 60  # an answer at least this good earns a deeper follow-up rather than a probe
FEEDBACK_MODES = ("immediate", "end")
DONT_KNOW = "모르겠습니다"
DONT_KNOW_SAYINGS = {"모르겠습니다", "모르겠어요", "잘모르겠습니다", "잘모르겠어요", "모름", "몰라요",
                     "idontknow", "idon'tknow", "idk", "dontknow"}

NO_INTERVIEW = "진행 중인 면접이 없습니다. 먼저 주제와 질문 수를 고르고 '면접 시작'을 눌러 주세요."
ALREADY_FINISHED = "이 면접은 이미 끝났습니다. 새 면접을 시작해 주세요."
EMPTY_ANSWER = "답변이 비어 있어요. 다시 답변해 주세요."
HELD = "답변을 기록했습니다. (실전 모드: 피드백은 면접이 끝난 뒤에 보여 드립니다.)"
# The command line works after the interview has ended too, when the terminal chat has exited.
DEMO_OFFER = ("💡 예시 실행: 이 개념을 numpy로 직접 확인해 볼 수 있어요 — `/demo` · {title} "
              "(`interviewer sandbox --demo {id}`)")
NO_DEMO = "방금 채점한 질문에는 예시가 없어요. 예시는 답변을 채점한 뒤, 그 질문에 예시가 있을 때 볼 수 있어요."
DEMO_HELD = "실전 모드에서는 면접이 끝난 뒤에 예시를 볼 수 있어요."
NO_CODE = "실행할 코드를 `/numpy` 뒤에 적어 주세요. 예: `/numpy import numpy as np; print(np.arange(3))`"

# Typed chat commands, the same in the terminal and the app's answer box; `/numpy CODE` is parsed apart.
CHAT_COMMANDS = {"/hint": "hint", "/힌트": "hint", "/skip": "skip", "/건너뛰기": "skip",
                 "/모르겠습니다": "dont_know", "/dontknow": "dont_know", "/quit": "finish",
                 "/종료": "finish", "/finish": "finish", "/demo": "run_demo", "/예시": "run_demo"}
NUMPY_COMMAND = re.compile(r"\s*/numpy(?=\s|$)[ \t]*\n?(.*)", re.S | re.I)

VERDICT_RANK = {"covered": 3, "partial": 2, "contradicted": 1, "missing": 0}
ASCII_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[- ][A-Za-z][A-Za-z0-9]*)*")


class Grader(Protocol):
    def grade(self, card: Card, answer: str) -> Grade: ...


@dataclass
class Deps:
    """What an interview needs from the runtime."""

    bank: Bank
    grader: Grader
    voice: TemplateVoice
    history: History
    glossary: object | None = None
    demos: Demos = field(default_factory=lambda: Demos([]))

    @classmethod
    def from_runtime(cls, rt) -> Deps:
        return cls(bank=rt.bank, grader=rt.grader, voice=rt.voice, history=rt.history, glossary=rt.glossary,
                   demos=rt.demos)


@dataclass
class Options:
    n_questions: int = 3
    topics: list[str] = field(default_factory=list)
    seed: int | None = None
    feedback_mode: str = "immediate"
    max_follow_ups: int = DEFAULT_MAX_FOLLOW_UPS
    client: str = "api"
    review: bool = True  # start with the cards whose key points are due; the seed does not change this


@dataclass
class Reply:
    """What the candidate sees after an event, and what the API returns."""

    session_id: str | None
    message: str
    question: Turn | None = None  # the question now waiting for an answer
    grade: Grade | None = None  # the grade of the answer just given; None when held, skipped or not recorded
    finished: bool = False
    recorded: bool = False
    run: SandboxResult | None = None  # the sandbox run of `/numpy` or `/demo`, figures included

    def api(self) -> dict:
        """The `/answer` contract of the app."""
        return {
            "session_id": self.session_id,
            "message": self.message,
            "grade": self.grade.model_dump(mode="json") if self.grade else None,
            "next": question_api(self.question),
            "finished": self.finished,
        }


def question_api(turn: Turn | None) -> dict | None:
    if turn is None:
        return None
    return {"card_id": turn.card_id, "question": turn.question, "follow_up": turn.kind != "main"}


def new_session_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


# --- planning ---------------------------------------------------------------------------------

def parse_topics(topics: str | list[str] | None) -> list[str]:
    if topics is None:
        return []
    if isinstance(topics, str):
        topics = topics.split(",")
    return [t.strip() for t in topics if t and t.strip()]


def valid_topics(bank: Bank) -> list[str]:
    return list(dict.fromkeys([*bank.topics, *(c.topic for c in bank.cards)]))


def topic_choices(bank: Bank) -> str:
    return ", ".join(f"{t}({bank.topic_label(t)})" for t in valid_topics(bank))


def in_scope(bank: Bank, card: Card, topics: list[str]) -> bool:
    """May this card open a main question under the topic filter (card ids or topic tags)?"""
    if card.id in topics:
        return card.gradable
    tags = [t for t in topics if t not in bank.by_id]
    return card.gradable and card.kind != "practice" and (not topics or card.topic in tags)


def question_pool(bank: Bank, topics: list[str]) -> list[Card]:
    """Gradable cards to open a main question with. A `###` card joins only when its parent is not
    itself in the pool (otherwise it is reached as a follow-up)."""
    by_id = [bank.by_id[t] for t in topics if t in bank.by_id]
    tags = {t for t in topics if t not in bank.by_id}
    unknown = tags - set(valid_topics(bank))
    if unknown:
        raise UserError(f"알 수 없는 주제: {', '.join(sorted(unknown))}. 가능한 주제: {topic_choices(bank)}")
    for card in by_id:
        if not card.gradable:
            raise UserError(f"카드 {card.id!r}는 채점 기준(키워드)이 없어 면접 질문으로 쓸 수 없습니다.")
    matching = [c for c in bank.cards if in_scope(bank, c, topics)]
    mains = {c.id for c in matching if c.kind == "main"}
    pool = by_id + [c for c in matching if c.kind == "main" or c.parent_id not in mains]
    pool = list({c.id: c for c in pool}.values())
    if not pool:
        raise UserError(f"선택한 주제에 채점할 수 있는 질문이 없습니다: {', '.join(topics)}")
    return pool


def plan_questions(bank: Bank, topics: list[str], n: int, seed: int, review: list[str] | None = None) -> list[str]:
    """`review` cards first (in their order), then a seeded shuffle of the rest of the pool."""
    if n < 1:
        raise UserError("질문 수는 1 이상이어야 합니다.")
    pool = question_pool(bank, topics)
    random.Random(seed).shuffle(pool)
    first = list(review or [])[:n]
    return first + [c.id for c in pool if c.id not in first][:n - len(first)]


def due_for_review(deps: Deps, topics: list[str], learner: str) -> list[str]:
    eligible = {c.id for c in deps.bank.cards if in_scope(deps.bank, c, topics)}
    return progress.review_cards(deps.history, deps.bank, learner, eligible)


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
    """The grade of '모르겠습니다': every key point missed, nothing guessed."""
    return Grade(card_id=card.id, score=0, grade=0, keypoints=[
        KeyPointResult(keyword=kp.keyword, verdict="missing", method="dont_know", curated=kp.curated)
        for kp in card.keypoints])


def missed_keypoints(card: Card, grade: Grade | None) -> list[KeyPoint]:
    if grade is None:
        return list(card.keypoints)
    verdicts = {kp.keyword: kp.verdict for kp in grade.keypoints}
    return [kp for kp in card.keypoints if verdicts.get(kp.keyword, "missing") != "covered"]


def subject_terms(child: Card, parent: Card, glossary) -> list[str]:
    """Words that show an answer touched a follow-up's subject: its keywords and the English terms
    of its title that the parent question does not already contain."""
    parent_title = parent.title.lower()
    terms = [kw for kw in child.keywords]
    terms += [t for t in ASCII_TERM.findall(child.title) if t.lower() not in parent_title]
    if glossary is not None:
        terms += [alias for t in list(terms) for alias in glossary.aliases_in(t)]
    return [t for t in dict.fromkeys(terms) if len(t) >= 2]


def touches(answer: str, terms: list[str]) -> bool:
    text = squash(answer)
    return any(key in text for key in map(squash, terms) if key)


def reference_block(card: Card) -> str:
    answer = card.answer or "(참고 답변이 없습니다)"
    return "**참고 답변**\n> " + answer.replace("\n", "\n> ")


# --- chat commands and the sandbox ---------------------------------------------------------------

def chat_command(text: str) -> tuple[str, str | None]:
    """The event a chat line asks for and its argument: `/numpy CODE` → ("run_code", CODE),
    `/hint` → ("hint", None), …; anything else is ("answer", text)."""
    numpy = NUMPY_COMMAND.fullmatch(text or "")
    if numpy:
        return "run_code", numpy.group(1)
    event = CHAT_COMMANDS.get((text or "").strip().lower())
    return (event, None) if event else ("answer", text)


def sandbox_message(heading: str, result: SandboxResult) -> str:
    """A sandbox run for the chat: its output came from untrusted code, so it stays plain text."""
    figures = f"\n\n🖼 그림 {len(result.figures)}개" if result.figures else ""
    return f"{heading}\n\n{code_block(result.as_text())}{figures}"


# --- the state machine ------------------------------------------------------------------------

def counted(event):
    """LLM calls made while handling `event` count for this interview (the voice serves them all)."""
    @functools.wraps(event)
    def handle(self, *args, **kwargs):
        with counting(self.llm):
            return event(self, *args, **kwargs)
    return handle


class Interview:
    """One candidate's interview. Not thread-safe by itself: callers hold `lock` per event."""

    def __init__(self, deps: Deps, session: SessionRecord, turns: list[Turn]):
        self.deps = deps
        self.session = session
        self.turns = turns
        self.lock = threading.Lock()
        # LLM usage of this session, continuing from what is stored when it is resumed.
        self.llm = VoiceStats(backend=session.llm_backend, model=session.llm_model,
                              calls=session.llm_calls, failures=session.llm_failures)

    # events ------------------------------------------------------------------------------------

    @classmethod
    def start(cls, deps: Deps, options: Options) -> tuple[Interview, Reply]:
        if options.feedback_mode not in FEEDBACK_MODES:
            raise UserError(f"피드백 방식은 {', '.join(FEEDBACK_MODES)} 중 하나여야 합니다.")
        if options.max_follow_ups < 0:
            raise UserError("꼬리 질문 수는 0 이상이어야 합니다.")
        topics = parse_topics(options.topics)
        seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
        review = due_for_review(deps, topics, progress.learner_of(options.client)) if options.review else []
        plan = plan_questions(deps.bank, topics, options.n_questions, seed, review)
        review = review[:len(plan)]
        stats = deps.voice.stats
        session = SessionRecord(
            id=new_session_id(), client=options.client, feedback_mode=options.feedback_mode,
            n_questions=len(plan), max_follow_ups=options.max_follow_ups, topics=topics, seed=seed,
            plan=plan, llm_backend=stats.backend, llm_model=stats.model)
        interview = cls(deps, session, [])
        with counting(interview.llm):
            first = interview._main_turn(1)
        interview._sync_llm_usage()
        with deps.history.transaction() as tx:
            tx.create_session(session)
            tx.llm_usage(session)
            tx.event(session.id, "start", requested=options.n_questions, topics=topics, seed=seed, review=review)
            tx.ask(first)
        interview.turns.append(first)
        notice = ""
        if len(plan) < options.n_questions:
            notice = f"선택한 주제에는 질문이 {len(plan)}개뿐이라 {len(plan)}개로 진행합니다.\n\n"
        if review:
            notice += f"지난 면접에서 복습할 때가 된 키워드가 있는 질문 {len(review)}개부터 시작합니다.\n\n"
        intro = (f"모의 면접을 시작합니다. 질문 {len(plan)}개"
                 f"{', 꼬리 질문 포함' if options.max_follow_ups else ''}"
                 f"{' · 실전 모드 (피드백은 마지막에)' if options.feedback_mode == 'end' else ''}.\n\n")
        notice += interview._notices()
        return interview, Reply(session.id, notice + intro + first.question, question=first, recorded=True)

    @classmethod
    def resume(cls, deps: Deps, session_id: str) -> Interview:
        session = deps.history.session(session_id)
        interview = cls(deps, session, deps.history.turns(session_id))
        if not interview.finished and interview.current is None:
            interview._recover_missing_question()
        return interview

    def resume_reply(self) -> Reply:
        if self.finished:
            return Reply(self.session.id, ALREADY_FINISHED, finished=True)
        turn = self.current
        return Reply(self.session.id, "이어서 진행합니다.\n\n" + turn.question, question=turn)

    @counted
    def answer(self, text: str) -> Reply:
        if self.finished:
            return Reply(self.session.id, ALREADY_FINISHED, finished=True)
        turn = self.current
        text = (text or "").strip()
        if not text:
            return Reply(self.session.id, f"{EMPTY_ANSWER}\n\n{turn.question}", question=turn)
        if squash(text).rstrip(".!") in DONT_KNOW_SAYINGS:
            return self.dont_know()
        notice = ""
        if len(text) > MAX_ANSWER_CHARS:
            notice = (f"_답변이 너무 길어 앞의 {MAX_ANSWER_CHARS:,}자만 채점했습니다 "
                      f"(받은 길이 {len(text):,}자)._\n\n")
            text, turn.truncated = text[:MAX_ANSWER_CHARS], True
        card = self.deps.bank.get(turn.card_id)
        grade = self.deps.grader.grade(card, text)
        self._record(turn, "answered", text, grade)
        shown = turn.result
        body = self._feedback(card, shown, text) + self._demo_offer(card) if self._feedback_now else HELD
        return self._advance(turn, notice + body, grade=shown if self._feedback_now else None)

    @counted
    def skip(self) -> Reply:
        if self.finished:
            return Reply(self.session.id, ALREADY_FINISHED, finished=True)
        turn = self.current
        self._record(turn, "skipped", None, None)
        return self._advance(turn, "질문을 건너뛰었습니다.", next_main=True)

    @counted
    def dont_know(self) -> Reply:
        if self.finished:
            return Reply(self.session.id, ALREADY_FINISHED, finished=True)
        turn = self.current
        card = self.deps.bank.get(turn.card_id)
        self._record(turn, "dont_know", DONT_KNOW, all_missing(card))
        message = f"괜찮습니다. 모르는 부분은 누락으로 기록해 둘게요.\n\n{reference_block(card)}"
        message += self._demo_offer(card) if self._feedback_now else ""
        return self._advance(turn, message, grade=turn.result if self._feedback_now else None, next_main=True)

    def hint(self) -> Reply:
        if self.finished:
            return Reply(self.session.id, ALREADY_FINISHED, finished=True)
        turn = self.current
        card = self.deps.bank.get(turn.card_id)
        candidates = self._hint_candidates(turn, card)
        if turn.hints_used >= len(candidates):
            return Reply(self.session.id, "더 드릴 힌트가 없어요. 아는 만큼 답변해 보세요.", question=turn)
        kp = candidates[turn.hints_used]
        turn.hints_used += 1
        with self.deps.history.transaction() as tx:
            tx.hint(turn)
            tx.event(self.session.id, "hint", turn.id, keyword=kp.keyword, category=kp.category)
        about = kp.category or self.deps.bank.topic_label(card.topic)
        message = (f"💡 힌트 {turn.hints_used}/{len(candidates)}: **{about}** 관점에서 "
                   "떠올려 보세요.")
        return Reply(self.session.id, message, question=turn, recorded=True)

    def message(self, text: str) -> Reply:
        """A chat line: a command (`/hint`, `/numpy CODE`, `/demo`, …) is its event, anything else an answer."""
        event, argument = chat_command(text)
        handler = getattr(self, event)
        return handler() if argument is None else handler(argument)

    def run_code(self, code: str) -> Reply:
        """Run the candidate's numpy program in the sandbox; the interview does not move."""
        if not code.strip():
            return self._aside(NO_CODE)
        return self._run(code, "🧪 **numpy 실행 결과**")

    def run_demo(self) -> Reply:
        """Run the demo offered after the last graded answer; the interview does not move."""
        if not (self._feedback_now or self.finished):
            return self._aside(DEMO_HELD)  # the demo would give away what the feedback holds back
        graded = next((t for t in reversed(self.turns) if t.result is not None), None)
        demo = self._demo_of(self.deps.bank.get(graded.card_id)) if graded else None
        if demo is None:
            return self._aside(NO_DEMO)
        heading = f"🧪 **예시 실행: {demo.title}**\n\n{code_block(demo.code.strip(), 'python')}"
        return self._run(demo.code, heading, demo=demo.id)

    @counted
    def finish(self) -> Reply:
        """End now (early or at the end); the report covers what was answered."""
        if not self.finished:
            self._sync_llm_usage()
            with self.deps.history.transaction() as tx:
                tx.event(self.session.id, "finish", early=self.current is not None)
                tx.finish(self.session)
        markdown, _ = self.report()
        closing = self._closing(markdown)
        return Reply(self.session.id, f"{closing}\n\n{markdown}".strip(), finished=True, recorded=True)

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
    def _feedback_now(self) -> bool:
        return self.session.feedback_mode == "immediate"

    @property
    def learner(self) -> str:
        return progress.learner_of(self.session.client)

    def report(self) -> tuple[str, dict]:
        """The session report as Markdown and as its JSON data."""
        report = build_report(self.session, self.turns, self.deps.bank)
        return to_markdown(report), report.model_dump(mode="json")

    def messages(self) -> list[dict]:
        """The chat so far, rebuilt from the store (Gradio message format)."""
        out = []
        for turn in self.turns:
            out.append({"role": "assistant", "content": turn.question})
            if turn.pending:
                continue
            out.append({"role": "user", "content": turn.answer or "(건너뜀)"})
            if turn.result and self._feedback_now:
                card = self.deps.bank.get(turn.card_id)
                out.append({"role": "assistant", "content": format_feedback(turn.result)
                            if turn.outcome == "answered" else reference_block(card)})
        return out

    # internals ---------------------------------------------------------------------------------

    def _feedback(self, card: Card, grade: Grade, answer: str) -> str:
        return format_feedback(grade, self.deps.voice.feedback(card, grade, answer))

    def _demo_of(self, card: Card) -> Demo | None:
        """The card's own demo, else its main card's: a follow-up shares its parent's concept."""
        for card_id in filter(None, (card.id, card.parent_id)):
            demos = self.deps.demos.for_card(card_id)
            if demos:
                return demos[0]
        return None

    def _demo_offer(self, card: Card) -> str:
        demo = self._demo_of(card)
        return f"\n\n{DEMO_OFFER.format(title=demo.title, id=demo.id)}" if demo else ""

    def _run(self, code: str, heading: str, demo: str | None = None) -> Reply:
        """One sandbox run, kept as an event of the session (never as an answer)."""
        result = run_program(code)
        turn = self.current
        with self.deps.history.transaction() as tx:
            tx.event(self.session.id, "sandbox", turn.id if turn else None, demo=demo,
                     code=None if demo else code, ok=result.ok, error=result.error,
                     figures=len(result.figures), duration_ms=result.duration_ms)
        # `finished` stays False: a run changes nothing about the interview, also after its end.
        return Reply(self.session.id, sandbox_message(heading, result), question=turn, recorded=True, run=result)

    def _aside(self, message: str) -> Reply:
        """A reply that leaves the interview where it is."""
        return Reply(self.session.id, message, question=self.current)

    def _record(self, turn: Turn, outcome: str, answer: str | None, grade: Grade | None) -> None:
        """Fill in the answered turn in memory; `_advance` writes it with the next step."""
        turn.outcome, turn.answer, turn.answered_at, turn.grade = outcome, answer, now(), grade
        if turn.kind == "probe" and grade is not None:
            card = self.deps.bank.get(turn.card_id)
            earlier = self._latest_result(turn.main_index, turn.card_id, before=turn.seq)
            # Verdicts merged, not the joined answers graded again: that doubled a probe's cost.
            turn.merged = merge_grades(card, [earlier, grade]) if earlier else None

    def _advance(self, turn: Turn, message: str, grade: Grade | None = None,
                 next_main: bool = False) -> Reply:
        nxt = self._main_turn(turn.main_index + 1) if next_main else self._decide(turn)
        self._sync_llm_usage()
        with self.deps.history.transaction() as tx:
            tx.answer(turn)
            if turn.result is not None:
                progress.record(tx, self.learner, self.session.id, turn.result, turn.answered_at)
            if turn.truncated:
                tx.event(self.session.id, "truncated", turn.id, limit=MAX_ANSWER_CHARS)
            if nxt is not None:
                tx.ask(nxt)
                tx.llm_usage(self.session)
            else:
                tx.event(self.session.id, "finish", early=False)
                tx.finish(self.session)
        notices = self._notices()
        if nxt is not None:
            self.turns.append(nxt)
            return Reply(self.session.id, f"{notices}{message}\n\n---\n\n{nxt.question}", question=nxt,
                         grade=grade, recorded=True)
        markdown, _ = self.report()
        closing = self._closing(markdown)
        return Reply(self.session.id, f"{notices}{message}\n\n---\n\n{closing}\n\n{markdown}", grade=grade,
                     finished=True, recorded=True)

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
        asked = {t.card_id for t in self.turns}
        children = [c for c in bank.children(main.id)
                    if c.gradable and c.id not in asked and c.id not in self.session.plan]
        said = "\n".join(t.answer or "" for t in group if t.outcome == "answered")
        touched = [c for c in children if touches(said, subject_terms(c, main, self.deps.glossary))]
        result = last.result
        rng = random.Random(f"{self.session.seed}:{last.seq}")
        if touched:
            return self._follow_up_turn(last, touched[0], main)
        if children and result is not None and result.score >= DEEPER_SCORE:
            return self._follow_up_turn(last, rng.choice(children), main)
        card = bank.get(last.card_id)
        probed = {t.probe_keyword for t in group if t.card_id == card.id and t.kind == "probe"}
        missed = [kp for kp in missed_keypoints(card, result) if kp.keyword not in probed]
        if not missed:
            return None
        text = self.deps.voice.probe(card, missed[0], said)
        return Turn(session_id=self.session.id, seq=last.seq + 1, main_index=last.main_index, kind="probe",
                    card_id=card.id, parent_card_id=main.id, probe_keyword=missed[0].keyword, question=text)

    def _follow_up_turn(self, last: Turn, card: Card, main: Card) -> Turn:
        return Turn(session_id=self.session.id, seq=last.seq + 1, main_index=last.main_index,
                    kind="follow_up", card_id=card.id, parent_card_id=main.id,
                    question=self.deps.voice.follow_up(card, main))

    def _main_turn(self, number: int) -> Turn | None:
        plan = self.session.plan
        if number > len(plan):
            return None
        card = self.deps.bank.get(plan[number - 1])
        seq = self.turns[-1].seq + 1 if self.turns else 1
        return Turn(session_id=self.session.id, seq=seq, main_index=number, kind="main", card_id=card.id,
                    question=self.deps.voice.ask(card, number, len(plan)))

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

    @counted
    def _recover_missing_question(self) -> None:
        """A running session whose last turn is answered (written by an older version or by hand):
        ask the next question so the interview can go on."""
        last = self.turns[-1] if self.turns else None
        nxt = self._main_turn(1) if last is None else self._decide(last)
        with self.deps.history.transaction() as tx:
            if nxt is None:
                tx.finish(self.session)
            else:
                tx.ask(nxt)
                self.turns.append(nxt)

    def _sync_llm_usage(self) -> None:
        self.session.llm_calls, self.session.llm_failures = self.llm.calls, self.llm.failures

    def _notices(self) -> str:
        """This session's one-line LLM notices (a failed call, a fallback), each shown once."""
        return "".join(f"_{n}_\n\n" for n in self.llm.drain_notices())

    def _closing(self, markdown: str) -> str:
        """The closing line; written after the report, so its LLM call is stored on its own."""
        closing = self.deps.voice.closing(markdown) or ""
        self._sync_llm_usage()
        with self.deps.history.transaction() as tx:
            tx.llm_usage(self.session)
        return f"{self._notices()}{closing}"
