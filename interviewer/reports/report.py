"""The keyword feedback report of one session: one model, three renderings (JSON, Markdown, HTML).

`build_report` turns a session and its turns, as the history store holds them, into a `Report`;
`render` writes it as JSON, as Markdown that reads as plain text, or as one self-contained HTML file
(inline CSS, the chart as inline SVG, nothing fetched) that prints to PDF. Answers are untrusted:
the HTML comes from a Jinja2 template with autoescape (`interviewer/templates/report.html`), so
every piece of text it did not write itself is escaped.
"""

from __future__ import annotations

import html
from datetime import tzinfo
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from interviewer.bank.cards import Bank, card_topic
from interviewer.core.clock import local, local_zone, zone_name
from interviewer.core.errors import UserError
from interviewer.core.models import Card, Grade, KeyPointResult, Model, to_json
from interviewer.core.records import SessionRecord, Turn
from interviewer.core.scores import average, final_results
from interviewer.core.verdicts import STUDY_ORDER, VERDICT_MARKS, VERDICT_NOTES
from interviewer.history.sqlite import History
from interviewer.lang.phrasing import readable, shown
from interviewer.reports.charts import korean_font, score_colour, svg_of
from interviewer.reports.markdown import literal, quoted

if TYPE_CHECKING:
    from jinja2 import Template
    from markupsafe import Markup
    from matplotlib.figure import Figure

FORMATS = {"md": "text/markdown", "html": "text/html", "json": "application/json"}
TEMPLATES = Path(__file__).resolve().parent / "templates"
NOT_FOUND = "답변에서 찾지 못했습니다"
NO_REFERENCE = "이 질문에는 참고 답변이 없습니다."
OUTCOME_LABELS = {"answered": "답변", "skipped": "건너뜀", "dont_know": "모르겠습니다", None: "미응답"}
KIND_LABELS = {"main": "질문", "follow_up": "꼬리 질문", "probe": "보충 질문"}
UNKNOWN_TOPIC = "unknown"


class LLMUsage(Model):
    backend: str
    model: str | None
    calls: int
    failures: int


class QuestionEntry(Model):
    """One question asked (main, follow-up or probe) and what became of it."""

    number: int  # the main question it belongs to, 1-based
    kind: str
    card_id: str
    parent_card_id: str | None
    topic: str
    title: str
    question: str
    asked_at: str
    answer: str | None
    answered_at: str | None
    outcome: str | None
    hints_used: int
    truncated: bool
    score: int | None  # for a probe: the card over the main answer and the probe together
    grade: int | None
    scored_by: str | None  # "grader", or "grader+llm" when an LLM judge changed a verdict
    keypoints: list[KeyPointResult]
    labels: dict[str, str]  # keyword -> how the report names it (the keyword itself stays verbatim)
    reference: str
    key_sentences: list[str]  # for a card with no reference answer: its key points' explanations


class TopicScore(Model):
    topic: str
    label: str
    average_score: int
    cards: int


class Summary(Model):
    """Over each card's final grade (a probe's merged grade replaces the main answer's)."""

    average_score: int | None
    graded_cards: int
    covered: int
    partial: int
    missed: int
    contradicted: int
    skipped: int
    dont_know: int
    unanswered: int
    topics: list[TopicScore]


class StudyItem(Model):
    keyword: str
    label: str
    verdict: str
    card_id: str
    card_title: str
    explanation: str  # the reference sentence that explains the key point
    practice: str  # the command that asks this card again


class Report(Model):
    session_id: str
    status: str
    finished: bool
    started_at: str
    finished_at: str | None
    timezone: str  # the zone the Markdown and HTML show times in
    started_local: str  # started_at in that zone (ISO 8601 with its offset)
    finished_local: str | None
    feedback_mode: str
    topics: list[str]
    llm: LLMUsage
    questions: list[QuestionEntry]
    summary: Summary
    study_next: list[StudyItem]


# --- building ---------------------------------------------------------------------------------

def load_report(history: History, bank: Bank, session_id: str, zone: tzinfo | None = None) -> Report:
    return build_report(history.session(session_id), history.turns(session_id), bank, zone)


def build_report(session: SessionRecord, turns: list[Turn], bank: Bank, zone: tzinfo | None = None) -> Report:
    final = final_results(turns)
    zone = zone or local_zone()
    return Report(
        session_id=session.id, status=session.status, finished=session.status == "finished",
        started_at=session.started_at, finished_at=session.finished_at,
        timezone=zone_name(zone, session.started_at), started_local=local(session.started_at, zone).isoformat(),
        finished_local=local(session.finished_at, zone).isoformat() if session.finished_at else None,
        feedback_mode=session.feedback_mode, topics=session.topics,
        llm=LLMUsage(backend=session.llm_backend, model=session.llm_model, calls=session.llm_calls,
                     failures=session.llm_failures),
        questions=[_entry(turn, bank) for turn in turns],
        summary=_summary(final, turns, bank),
        study_next=_study_next(final, bank))


def _topic_of(bank: Bank, card_id: str) -> str:
    card = bank.by_id.get(card_id)
    return card.topic if card else UNKNOWN_TOPIC


def key_sentences(card: Card) -> list[str]:
    """What stands in for a missing reference answer: the sentences that explain its key points."""
    return [] if card.answer else list(dict.fromkeys(kp.explanation for kp in card.keypoints if kp.explanation))


def labels_of(card: Card | None) -> dict[str, str]:
    return {kp.keyword: shown(kp) for kp in card.keypoints} if card else {}


def _entry(turn: Turn, bank: Bank) -> QuestionEntry:
    card = bank.by_id.get(turn.card_id)
    result = turn.result
    return QuestionEntry(
        number=turn.main_index, kind=turn.kind, card_id=turn.card_id, parent_card_id=turn.parent_card_id,
        topic=_topic_of(bank, turn.card_id), title=card.title if card else turn.card_id,
        question=turn.question, asked_at=turn.asked_at, answer=turn.answer, answered_at=turn.answered_at,
        outcome=turn.outcome, hints_used=turn.hints_used, truncated=turn.truncated,
        score=result.score if result else None, grade=result.grade if result else None,
        scored_by=("grader+llm" if result.llm_used else "grader") if result else None,
        keypoints=result.keypoints if result else [], labels=labels_of(card),
        reference=card.answer if card else "", key_sentences=key_sentences(card) if card else [])


def _summary(final: dict[str, Grade], turns: list[Turn], bank: Bank) -> Summary:
    verdicts = [kp.verdict for grade in final.values() for kp in grade.keypoints]
    by_topic: dict[str, list[int]] = {}
    for card_id, grade in final.items():
        by_topic.setdefault(_topic_of(bank, card_id), []).append(grade.score)
    return Summary(
        average_score=average([g.score for g in final.values()]), graded_cards=len(final),
        covered=verdicts.count("covered"), partial=verdicts.count("partial"),
        missed=verdicts.count("missing"), contradicted=verdicts.count("contradicted"),
        skipped=sum(t.outcome == "skipped" for t in turns),
        dont_know=sum(t.outcome == "dont_know" for t in turns),
        unanswered=sum(t.outcome is None for t in turns),
        topics=[TopicScore(topic=topic, label=bank.topic_label(topic), average_score=average(scores) or 0,
                           cards=len(scores)) for topic, scores in by_topic.items()])


def practice_command(card_id: str, bank: Bank) -> str:
    return f"interviewer chat --topics {card_topic(card_id, bank)}"


def _study_next(final: dict[str, Grade], bank: Bank) -> list[StudyItem]:
    items = []
    for card_id, grade in final.items():
        card = bank.by_id.get(card_id)
        explanations = {kp.keyword: kp.explanation for kp in card.keypoints} if card else {}
        labels = labels_of(card)
        items += [StudyItem(keyword=kp.keyword, label=labels.get(kp.keyword, readable(kp.keyword)),
                            verdict=kp.verdict, card_id=card_id,
                            card_title=card.title if card else card_id,
                            explanation=explanations.get(kp.keyword, ""), practice=practice_command(card_id, bank))
                  for kp in grade.keypoints if kp.verdict != "covered"]
    return sorted(items, key=lambda item: STUDY_ORDER[item.verdict])


# --- Markdown -----------------------------------------------------------------------------------

def keypoint_lines(keypoints: list[KeyPointResult], labels: dict[str, str]) -> list[str]:
    """✓/△/✗ per key point by its label, with the evidence (the candidate's words) quoted literally."""
    lines = []
    for kp in keypoints:
        note = f" ({VERDICT_NOTES[kp.verdict]})" if kp.verdict in VERDICT_NOTES else ""
        label = labels.get(kp.keyword) or readable(kp.keyword)
        lines.append(f"- {VERDICT_MARKS[kp.verdict]} **{literal(label)}**{note}{_evidence(kp)}")
    return lines


def _evidence(kp: KeyPointResult) -> str:
    if kp.verdict == "missing":
        return f" — {NOT_FOUND}"
    return f" — “{literal(kp.evidence)}”" if kp.evidence else ""


def reference_lines(reference: str, sentences: list[str]) -> list[str]:
    """The reference answer, or the key sentences standing in for it, or a plain note that there is none."""
    if reference:
        return ["**참고 답변**", quoted(reference)]
    if sentences:
        return ["**핵심 문장** (이 질문에는 참고 답변이 없어 키워드별 설명을 보여 드립니다)",
                *(f"- {s}" for s in sentences)]
    return [NO_REFERENCE]


def status_line(report: Report, commands: bool = True) -> str:
    if report.finished:
        return "완료"
    if not commands:
        return "진행 중 (미완료) — 면접 탭의 '이어할 면접'에서 이어서 할 수 있습니다"
    return f"진행 중 (미완료) — 이어서 하려면: interviewer chat --resume {report.session_id}"


def llm_line(llm: LLMUsage) -> str:
    if llm.backend == "none":
        return "사용 안 함 (템플릿 면접관, 규칙 기반 채점)"
    return f"{llm.backend} · {llm.model or '기본 모델'} (호출 {llm.calls}회, 실패 {llm.failures}회)"


def _when(report: Report) -> str:
    start = report.started_local[:16].replace("T", " ")
    end = f" ~ {report.finished_local[11:16]}" if report.finished_local else ""
    return f"{start}{end} ({report.timezone})"


def summary_items(report: Report, commands: bool = True) -> list[tuple[str, str]]:
    """(label, text) pairs of the summary, in plain text for every format."""
    s = report.summary
    score = f"{s.average_score}/100 (채점한 질문 {s.graded_cards}개)" if s.average_score is not None \
        else "채점된 답변 없음"
    mark = VERDICT_MARKS
    keywords = f"{mark['covered']} {s.covered}개 · {mark['partial']} {s.partial}개 · {mark['missing']} {s.missed + s.contradicted}개"
    if s.contradicted:
        keywords += f" ({VERDICT_NOTES['contradicted']} {s.contradicted}개)"
    return [("상태", status_line(report, commands)), ("일시", _when(report)), ("평균 점수", score), ("키워드", keywords),
            ("답하지 않은 질문", f"건너뜀 {s.skipped} · 모르겠습니다 {s.dont_know} · 미응답 {s.unanswered}"),
            ("주제별 점수", " · ".join(f"{t.label} {t.average_score}" for t in s.topics) or "없음"),
            ("LLM", llm_line(report.llm))]


def _status_of(q: QuestionEntry) -> str:
    parts = [OUTCOME_LABELS[q.outcome]]
    if q.hints_used:
        parts.append(f"힌트 {q.hints_used}회")
    if q.score is not None:
        parts.append(f"점수 {q.score}/100 · 등급 {q.grade}/4")
    if q.truncated:
        parts.append("너무 길어 잘린 답변")
    return " · ".join(parts)


def _shows_reference(report: Report) -> set[int]:
    """Questions after which the reference answer is shown: once per card, after its last answer,
    when that answer was not perfect."""
    last = {q.card_id: i for i, q in enumerate(report.questions) if q.outcome is not None}
    return {i for i in last.values() if _is_weak(report.questions[i])}


def _is_weak(q: QuestionEntry) -> bool:
    return q.outcome in ("skipped", "dont_know") or (q.score is not None and q.score < 100)


def heading_of(q: QuestionEntry) -> str:
    """What a question's heading names: the card's question, or for a probe the question asked."""
    return q.question if q.kind == "probe" else q.title


def to_markdown(report: Report, commands: bool = True) -> str:
    """The report as Markdown; `commands`: name the terminal commands that practise or resume (the
    app, where there is no terminal, leaves them out)."""
    lines = [f"## 면접 결과 · {report.session_id}", "",
             *(f"- {k}: {v}" for k, v in summary_items(report, commands))]
    with_reference = _shows_reference(report)
    for i, q in enumerate(report.questions):
        lines += ["", f"### {q.number}. [{KIND_LABELS[q.kind]}] {heading_of(q)}", f"- {_status_of(q)}"]
        if q.answer and q.outcome == "answered":
            lines.append(quoted(literal(q.answer)))
        lines += keypoint_lines(q.keypoints, q.labels)
        if i in with_reference:
            lines += ["", *reference_lines(q.reference, q.key_sentences)]
    if report.study_next:
        lines += ["", "### 다음에 공부할 키워드"]
        for item in report.study_next:
            explanation = f": {item.explanation}" if item.explanation else ""
            practice = f" (연습: `{item.practice}`)" if commands else ""
            lines.append(f"- {VERDICT_MARKS[item.verdict]} **{literal(item.label)}** — {item.card_title}{explanation}"
                         f"{practice}")
    return "\n".join(lines)


# --- HTML ---------------------------------------------------------------------------------------

@cache
def html_template() -> Template:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html")


def to_html(report: Report, commands: bool = True) -> str:
    from markupsafe import Markup

    chart = topic_chart_svg(report)
    return html_template().render(
        report=report, summary=summary_items(report, commands), chart=Markup(chart) if chart else None,
        with_reference=_shows_reference(report), marks=VERDICT_MARKS, notes=VERDICT_NOTES, not_found=NOT_FOUND,
        kind_labels=KIND_LABELS, status_of=_status_of, highlight=highlight, heading_of=heading_of,
        no_reference=NO_REFERENCE, commands=commands, readable=readable)


def highlight(answer: str, spans: list[str]) -> Markup:
    """The answer, escaped, with each evidence span that occurs in it wrapped in <mark>."""
    from markupsafe import Markup

    merged: list[list[int]] = []
    for start, end in sorted(_span_ranges(answer, spans)):
        if merged and start <= merged[-1][1]:  # overlapping evidence: one mark, never nested
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out += [_e(answer[pos:start]), f"<mark>{_e(answer[start:end])}</mark>"]
        pos = end
    out.append(_e(answer[pos:]))
    return Markup("".join(out))


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _span_ranges(answer: str, spans: list[str]) -> list[tuple[int, int]]:
    """Where each span occurs in the answer; a merged grade's evidence may come from another answer."""
    ranges = []
    for span in (s.strip() for s in spans):
        start = answer.find(span) if span else -1
        if start >= 0:
            ranges.append((start, start + len(span)))
    return ranges


# --- the chart ------------------------------------------------------------------------------------

def topic_figure(report: Report) -> Figure | None:
    """Per-topic scores as horizontal bars, or None when nothing was graded."""
    from matplotlib.figure import Figure

    topics = report.summary.topics
    if not topics:
        return None
    font = korean_font()
    scores = [t.average_score for t in topics]
    rows = list(range(len(topics)))
    fig = Figure(figsize=(6.4, 1.4 + 0.45 * len(topics)), dpi=100)
    ax = fig.add_subplot()
    ax.barh(rows, scores, color=[score_colour(s) for s in scores])
    ax.set_yticks(rows, [t.label if font else t.topic for t in topics], fontproperties=font)
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    for row, score in zip(rows, scores, strict=True):
        ax.text(score + 1, row, str(score), va="center")
    ax.set_title("주제별 점수 (0–100)" if font else "Score by topic (0-100)", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def topic_chart_svg(report: Report) -> str | None:
    fig = topic_figure(report)
    return svg_of(fig) if fig is not None else None


# --- output ---------------------------------------------------------------------------------------

def render(report: Report, fmt: str, commands: bool = True) -> str:
    if fmt == "json":
        return to_json(report, indent=2) + "\n"
    if fmt == "md":
        return to_markdown(report, commands) + "\n"
    if fmt == "html":
        return to_html(report, commands)
    raise UserError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_report(report: Report, fmt: str, path: Path, commands: bool = True) -> Path:
    try:
        path.write_text(render(report, fmt, commands), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
