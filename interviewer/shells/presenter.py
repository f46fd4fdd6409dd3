"""What the candidate reads: interview steps worded in Korean Markdown, for the terminal and the app.

The engine returns `Step`s (`interviewer.interview.steps`) and holds no text; this module is the one place
that words them, builds the app's API replies from them, and rebuilds a chat in Gradio's message
format. Everything here is a pure function of its arguments. The voice (templates or an LLM) has
already written the questions, the feedback prose and the closing line the steps carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from functools import singledispatch
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from interviewer.bank.cards import Bank
from interviewer.core.clock import day, minutes
from interviewer.core.models import Card, Grade
from interviewer.core.records import KeywordState, SessionRecord, Turn
from interviewer.core.verdicts import VERDICT_WORDS
from interviewer.history.progress import ReviewItem, SessionLine
from interviewer.interview import steps
from interviewer.interview.engine import DEEPER_SCORE, clip_answer
from interviewer.lang.phrasing import readable, shown
from interviewer.reports.markdown import code_block, literal
from interviewer.reports.report import key_sentences, keypoint_lines, labels_of, reference_lines, to_markdown
from interviewer.sandbox import SandboxResult

if TYPE_CHECKING:
    from interviewer.interview.engine import Interview

NO_INTERVIEW = "진행 중인 면접이 없습니다. 먼저 주제와 질문 수를 고르고 '면접 시작'을 눌러 주세요."
ALREADY_FINISHED = "이 면접은 이미 끝났습니다. 새 면접을 시작해 주세요."
EMPTY_ANSWER = "답변이 비어 있어요. 다시 답변해 주세요."
HELD = "답변을 기록했습니다. (실전 모드: 피드백은 면접이 끝난 뒤에 보여 드립니다.)"
RESUMED = "이어서 진행합니다."
SKIPPED = "질문을 건너뛰었습니다."
DONT_KNOW_REPLY = "괜찮습니다. 모르는 부분은 누락으로 기록해 둘게요."
NO_MORE_HINTS = "더 드릴 힌트가 없어요. 아는 만큼 답변해 보세요."
DEMO_OFFER = "💡 예시 실행: 이 개념을 numpy로 직접 확인해 볼 수 있어요 — `/demo` 또는 '예시 실행' 버튼 · {title}"
# The command line works after the interview has ended too, when the terminal chat has exited.
DEMO_OFFER_TERMINAL = ("💡 예시 실행: 이 개념을 numpy로 직접 확인해 볼 수 있어요 — `/demo` · {title} "
                       "(`interviewer sandbox --demo {id}`)")
NO_DEMO = "방금 채점한 질문에는 예시가 없어요. 예시는 답변을 채점한 뒤, 그 질문에 예시가 있을 때 볼 수 있어요."
DEMO_HELD = "실전 모드에서는 면접이 끝난 뒤에 예시를 볼 수 있어요."
NO_CODE = "실행할 코드를 `/numpy` 뒤에 적어 주세요. 예: `/numpy import numpy as np; print(np.arange(3))`"
RUN_HEADING = "🧪 **numpy 실행 결과**"
SKIPPED_ANSWER = "(건너뜀)"  # a skipped turn's answer bubble when a chat is rebuilt
DIVIDER = "\n\n---\n\n"  # between what an answer got and what comes next


Shell = Literal["app", "terminal"]  # where the words are read: the app names no terminal command


def say(step: steps.Step, shell: Shell = "app") -> str:
    """The chat message of a step: its parts in order, what comes after an answer set apart."""
    out = ""
    after_answer = False
    for part in step.parts:
        text = word(part, shell)
        if not text:
            continue
        gap = DIVIDER if after_answer and isinstance(part, steps.Question | steps.Closing) else "\n\n"
        out = f"{out}{gap}{text}" if out else text
        after_answer = after_answer or isinstance(part, steps.OUTCOMES)
    return out


# Parts that are always the same sentence.
FIXED: dict[type, str] = {
    steps.EmptyAnswer: EMPTY_ANSWER, steps.AlreadyFinished: ALREADY_FINISHED, steps.NoInterview: NO_INTERVIEW,
    steps.Held: HELD, steps.Skipped: SKIPPED, steps.NoMoreHints: NO_MORE_HINTS, steps.NoCode: NO_CODE,
    steps.DemoHeld: DEMO_HELD, steps.NoDemo: NO_DEMO,
}


@singledispatch
def word(part: Any, shell: Shell = "app") -> str:
    fixed = FIXED.get(type(part))
    if fixed is None:
        raise TypeError(f"no wording for {type(part).__name__}")
    return fixed


@word.register
def _planned(part: steps.Planned, shell: Shell = "app") -> str:
    lines = []
    if part.planned < part.requested:
        lines.append(f"선택한 주제에는 질문이 {part.planned}개뿐이라 {part.planned}개로 진행합니다.")
    if part.review:
        lines.append(f"지난 면접에서 복습할 때가 된 키워드가 있는 질문 {part.review}개부터 시작합니다.")
    return "\n\n".join(lines)


@word.register
def _intro(part: steps.Intro, shell: Shell = "app") -> str:
    return (f"모의 면접을 시작합니다. 질문 {part.planned}개"
            f"{', 꼬리 질문 포함' if part.follow_ups else ''}"
            f"{' · 실전 모드 (피드백은 마지막에)' if part.feedback_at_end else ''}.")


@word.register
def _notices(part: steps.Notices, shell: Shell = "app") -> str:
    return notice_lines(part.texts)


@word.register
def _question(part: steps.Question, shell: Shell = "app") -> str:
    return f"{RESUMED}\n\n{part.turn.question}" if part.resumed else part.turn.question


@word.register
def _truncated(part: steps.Truncated, shell: Shell = "app") -> str:
    return f"_답변이 너무 길어 앞의 {part.limit:,}자만 채점했습니다 (받은 길이 {part.received:,}자)._"


@word.register
def _feedback(part: steps.Feedback, shell: Shell = "app") -> str:
    return format_feedback(part.grade, part.card, part.prose, part.reference)


@word.register
def _reference(part: steps.Reference, shell: Shell = "app") -> str:
    return f"{DONT_KNOW_REPLY}\n\n{reference_block(part.card)}"


@word.register
def _demo_offer(part: steps.DemoOffer, shell: Shell = "app") -> str:
    offer = DEMO_OFFER_TERMINAL if shell == "terminal" else DEMO_OFFER
    return offer.format(title=part.demo.title, id=part.demo.id)


@word.register
def _hint(part: steps.Hint, shell: Shell = "app") -> str:
    lead = f"💡 힌트 {part.number}/{part.total}:"
    clue = f"빈칸을 채워 보세요 — “{part.clue}”" if part.clue else ""
    if part.about is None:
        return f"{lead} {clue}"
    return " ".join(filter(None, [f"{lead} **{part.about}** 관점에서 떠올려 보세요.", clue]))


@word.register
def _sandbox_run(part: steps.SandboxRun, shell: Shell = "app") -> str:
    if part.demo is None:
        return sandbox_message(RUN_HEADING, part.result)
    heading = f"🧪 **예시 실행: {part.demo.title}**\n\n{code_block(part.demo.code.strip(), 'python')}"
    return sandbox_message(heading, part.result)


@word.register
def _closing(part: steps.Closing, shell: Shell = "app") -> str:
    report = to_markdown(part.report, commands=shell == "terminal")
    return "\n\n".join(filter(None, [notice_lines(part.notices), part.prose or "", report]))


def notice_lines(texts: list[str]) -> str:
    return "\n\n".join(f"_{text}_" for text in texts)


def format_feedback(grade: Grade, card: Card, prose: str | None = None, reference: bool = True) -> str:
    """The feedback after one answer, one verdict: the score and grade, the sentence that says what
    they mean, the key point lines, then (once the card is done) what to study and the reference.
    While a probe on the same card is still to come, missed key points are counted, not named."""
    labels = labels_of(card)
    shown = grade.keypoints if reference else [kp for kp in grade.keypoints if kp.verdict == "covered"]
    lines = [f"**점수 {grade.score}/100 · 등급 {grade.grade}/4**", verdict_line(grade, labels, reference),
             *keypoint_lines(shown, labels)]
    lines += [f"- _{notice}_" for notice in grade.notices]
    if prose:
        lines += ["", prose]
    if reference:
        study = study_lines(grade, card)
        lines += ["", "**다음에 공부할 것**", *study] if study else []
        lines += ["", reference_block(card)]
    return "\n".join(lines)


def verdict_line(grade: Grade, labels: dict[str, str], named: bool = True) -> str:
    """One sentence that agrees with the score, the grade and the key point lines; it names what was
    missed only when something was (and only when `named`: no probe on it is still to come)."""
    def names(verdict: str) -> list[str]:
        return [literal(labels.get(kp.keyword) or readable(kp.keyword)) for kp in grade.keypoints
                if kp.verdict == verdict]

    wrong, missing, partial = names("contradicted"), names("missing"), names("partial")
    if wrong:
        head = f"사실과 다르게 설명한 부분이 있어요: {', '.join(wrong)}." if named else "사실과 다르게 설명한 부분이 있어요."
    elif not missing and not partial:
        return "핵심을 모두 정확하게 짚으셨습니다." if grade.grade >= 4 else \
            (f"키워드는 모두 짚으셨지만 설명이 짧거나 확신이 없어 보여 등급은 {grade.grade}/4입니다. "
             "왜 그런지까지 문장으로 설명해 보세요.")
    elif grade.score == 0:
        head = "질문의 핵심과는 거리가 있는 답변이었어요."
    elif grade.score >= DEEPER_SCORE:
        head = "대부분 잘 설명하셨어요."
    else:
        head = "일부만 짚으셨어요."
    if not named:
        left = len(wrong) + len(missing) + len(partial)
        return f"{head} 아직 다루지 않은 키워드 {left}개는 이어지는 질문에서 여쭤볼게요." if left else head
    tail = [f"빠진 부분: {', '.join(missing)}." if missing else "",
            f"더 구체적으로 설명할 부분: {', '.join(partial)}." if partial else ""]
    return " ".join(filter(None, [head, *tail]))


def study_lines(grade: Grade, card: Card) -> list[str]:
    """For each key point not covered that has a sentence explaining it: that sentence."""
    by_keyword = {kp.keyword: kp for kp in card.keypoints}
    lines = []
    for result in grade.keypoints:
        kp = by_keyword.get(result.keyword)
        if result.verdict != "covered" and kp is not None and kp.explanation:
            lines.append(f"- **{literal(shown(kp))}**: {kp.explanation}")
    return lines


def reference_block(card: Card) -> str:
    """The card's reference answer, its key sentences when it has none, or a note that there is none."""
    return "\n".join(reference_lines(card.answer, key_sentences(card)))


def sandbox_message(heading: str, result: SandboxResult) -> str:
    """A sandbox run for the chat: its output came from untrusted code, so it stays plain text."""
    figures = f"\n\n🖼 그림 {len(result.figures)}개" if result.figures else ""
    return f"{heading}\n\n{code_block(result.as_text())}{figures}"


# --- the app: its API replies and Gradio's message format --------------------------------------

def question_api(turn: Turn | None) -> dict | None:
    if turn is None:
        return None
    return {"card_id": turn.card_id, "question": turn.question, "follow_up": turn.kind != "main"}


def start_api(step: steps.Step) -> dict:
    """The `/start` contract: the session and its first question."""
    turn = step.waiting
    assert turn is not None  # a started interview waits for its first answer
    return {"session_id": step.session_id, "card_id": turn.card_id, "question": turn.question,
            "message": say(step)}


def resume_api(step: steps.Step) -> dict:
    """The `/resume` contract: `/start`'s, for the question waiting in a resumed session (`card_id` and
    `question` are null when it is already over)."""
    turn = step.waiting
    return {"session_id": step.session_id, "card_id": turn.card_id if turn else None,
            "question": turn.question if turn else None, "message": say(step)}


def answer_api(step: steps.Step) -> dict:
    """The `/answer` contract: what the answer got and the question now waiting."""
    return {"session_id": step.session_id, "message": say(step),
            "grade": step.grade.model_dump(mode="json", by_alias=True) if step.grade else None,
            "next": question_api(step.waiting), "finished": step.finished}


def finish_api(session_id: str | None, interview: Interview | None) -> dict:
    """The `/finish` contract: the report as Markdown and as the JSON of `report --format json`."""
    if interview is None:
        return {"session_id": None, "report_markdown": NO_INTERVIEW, "report_json": None}
    report = interview.report()
    return {"session_id": session_id, "report_markdown": to_markdown(report, commands=False),
            "report_json": report.model_dump(mode="json", by_alias=True)}


def chat_turn(text: str, files: list[Path] | None = None) -> dict:
    """One assistant message in Gradio's format, with the figures of a sandbox run under it."""
    content: Any = [text, *({"path": str(path)} for path in files)] if files else text
    return {"role": "assistant", "content": content}


def shown_answer(text: str) -> str | None:
    """The candidate's answer as the chat shows it: literally (never as markup), nothing for an
    empty one, long pastes cut where the grader cut them."""
    text = (text or "").strip()
    if not text:
        return None
    clipped, cut = clip_answer(text)
    return f"{literal(clipped)} …" if cut else literal(clipped)


def transcript(interview: Interview) -> list[dict]:
    """The chat so far, rebuilt from the store (Gradio message format)."""
    out = []
    turns = interview.turns
    for i, turn in enumerate(turns):
        out.append({"role": "assistant", "content": turn.question})
        if turn.pending:
            continue
        out.append({"role": "user", "content": literal(turn.answer) if turn.answer else SKIPPED_ANSWER})
        if turn.result and interview.feedback_shown:
            card = interview.deps.bank.get(turn.card_id)
            after = turns[i + 1] if i + 1 < len(turns) else None
            done = after is None or (after.kind, after.card_id) != ("probe", turn.card_id)
            shown = format_feedback(turn.result, card, reference=done) if turn.outcome == "answered" \
                else reference_block(card)
            out.append({"role": "assistant", "content": shown})
    return out



# --- history: the same rows in the app's tables and the terminal's listing ----------------------

@dataclass(frozen=True)
class SessionRow:
    id: str
    started: str  # "YYYY-MM-DD HH:MM" (local time)
    state: str
    questions: int
    answered: int
    average_score: int | None


@dataclass(frozen=True)
class KeywordRow:
    keyword: str
    card_id: str
    record: str  # covered / asked
    stability: str  # "3.2일", or "-" before the first review
    due: str  # "YYYY-MM-DD"


@dataclass(frozen=True)
class ReviewRow:
    when: str  # "지금" (due now) or "다음" (later)
    due: str  # "YYYY-MM-DD HH:MM" (local time)
    keyword: str
    card_id: str
    title: str
    state: str
    stability: str
    difficulty: str
    last_verdict: str


STATE_WORDS = {"learning": "학습 중", "review": "복습", "relearning": "재학습"}


def session_rows(lines: list[SessionLine], zone: tzinfo) -> list[SessionRow]:
    return [SessionRow(line.id, minutes(line.started_at, zone), "완료" if line.finished else "미완료",
                       line.questions, line.answered, line.average_score) for line in lines]


def keyword_label(bank: Bank, card_id: str, keyword: str) -> str:
    """A key point's label where its card is still in the bank, else the keyword cleaned."""
    card = bank.by_id.get(card_id)
    return labels_of(card).get(keyword) or readable(keyword)


def keyword_rows(states: list[KeywordState], zone: tzinfo, bank: Bank) -> list[KeywordRow]:
    return [KeywordRow(keyword_label(bank, k.card_id, k.keyword), k.card_id, f"{k.covered}/{k.asked}", days(k.stability),
                       day(k.due_at, zone)) for k in states]


def days(stability: float | None) -> str:
    return "-" if stability is None else f"{stability:.1f}일"


def review_rows(items: list[ReviewItem], at: str, zone: tzinfo, bank: Bank) -> list[ReviewRow]:
    """The `review` listing as people read it: due now first, then what comes next."""
    return [ReviewRow("지금" if item.due <= at else "다음", minutes(item.due, zone),
                      keyword_label(bank, item.card_id, item.keyword), item.card_id,
                      item.title, STATE_WORDS[item.state], days(item.stability),
                      "-" if item.difficulty is None else f"{item.difficulty:.1f}",
                      VERDICT_WORDS.get(item.last_verdict, item.last_verdict)) for item in items]


def unfinished_label(session: SessionRecord, zone: tzinfo) -> str:
    """How an unfinished session is offered for resuming."""
    return f"{session.id} · {len(session.plan)}문항 · {minutes(session.updated_at, zone)}"
