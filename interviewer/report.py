"""The keyword feedback report of one session: one model, three renderings (JSON, Markdown, HTML).

`build_report` turns a session and its turns, as the history store holds them, into a `Report`;
`render` writes it as JSON, as Markdown that reads as plain text, or as one self-contained HTML file
(inline CSS, the chart as inline SVG, nothing fetched) that prints to PDF. Answers are untrusted:
the HTML escapes every piece of text it did not write itself.
"""

from __future__ import annotations

import html
import io
import re
from functools import lru_cache
from pathlib import Path

from interviewer.bank import Bank
from interviewer.errors import UserError
from interviewer.history import History, SessionRecord, Turn
from interviewer.models import Grade, KeyPointResult, Model, to_json

FORMATS = {"md": "text/markdown", "html": "text/html", "json": "application/json"}
MARKS = {"covered": "✓", "partial": "△", "missing": "✗", "contradicted": "✗"}
OUTCOME_LABELS = {"answered": "답변", "skipped": "건너뜀", "dont_know": "모르겠습니다", None: "미응답"}
KIND_LABELS = {"main": "질문", "follow_up": "꼬리 질문", "probe": "보충 질문"}
STUDY_ORDER = {"contradicted": 0, "missing": 1, "partial": 2}  # what to study first
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
    reference: str


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
    feedback_mode: str
    topics: list[str]
    llm: LLMUsage
    questions: list[QuestionEntry]
    summary: Summary
    study_next: list[StudyItem]


# --- building ---------------------------------------------------------------------------------

def load_report(history: History, bank: Bank, session_id: str) -> Report:
    return build_report(history.session(session_id), history.turns(session_id), bank)


def build_report(session: SessionRecord, turns: list[Turn], bank: Bank) -> Report:
    final = final_results(turns)
    return Report(
        session_id=session.id, status=session.status, finished=session.status == "finished",
        started_at=session.started_at, finished_at=session.finished_at,
        feedback_mode=session.feedback_mode, topics=session.topics,
        llm=LLMUsage(backend=session.llm_backend, model=session.llm_model, calls=session.llm_calls,
                     failures=session.llm_failures),
        questions=[_entry(turn, bank) for turn in turns],
        summary=_summary(final, turns, bank),
        study_next=_study_next(final, bank))


def final_results(turns: list[Turn]) -> dict[str, Grade]:
    """Each card's grade as the session left it, in the order the cards were first asked."""
    final: dict[str, Grade] = {}
    for turn in turns:
        if turn.result is not None:
            final[turn.card_id] = turn.result  # a later probe's merged grade replaces the earlier one
    return final


def average(scores: list[int]) -> int | None:
    return round(sum(scores) / len(scores)) if scores else None


def _topic_of(bank: Bank, card_id: str) -> str:
    card = bank.by_id.get(card_id)
    return card.topic if card else UNKNOWN_TOPIC


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
        keypoints=result.keypoints if result else [], reference=card.answer if card else "")


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


def practice_command(card_id: str) -> str:
    return f"interviewer chat --topics {card_id}"


def _study_next(final: dict[str, Grade], bank: Bank) -> list[StudyItem]:
    items = []
    for card_id, grade in final.items():
        card = bank.by_id.get(card_id)
        explanations = {kp.keyword: kp.explanation for kp in card.keypoints} if card else {}
        items += [StudyItem(keyword=kp.keyword, verdict=kp.verdict, card_id=card_id,
                            card_title=card.title if card else card_id,
                            explanation=explanations.get(kp.keyword, ""), practice=practice_command(card_id))
                  for kp in grade.keypoints if kp.verdict != "covered"]
    return sorted(items, key=lambda item: STUDY_ORDER[item.verdict])


# --- Markdown -----------------------------------------------------------------------------------

def keypoint_lines(keypoints: list[KeyPointResult]) -> list[str]:
    """✓/△/✗ per key point, with the evidence quoted."""
    lines = []
    for kp in keypoints:
        quote = f" — “{kp.evidence}”" if kp.evidence else ""
        if kp.verdict == "covered":
            lines.append(f"- ✓ **{kp.keyword}**{quote}")
        elif kp.verdict == "partial":
            lines.append(f"- △ **{kp.keyword}** (부분적으로 언급){quote}")
        elif kp.verdict == "contradicted":
            lines.append(f"- ✗ **{kp.keyword}** (사실과 다른 설명){quote}")
        else:
            lines.append(f"- ✗ **{kp.keyword}** — 답변에서 찾지 못했습니다")
    return lines


def code_block(text: str, language: str = "") -> str:
    """`text` fenced by more backticks than it contains in a row, so nothing in it closes the fence."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def format_feedback(grade: Grade, prose: str | None = None) -> str:
    """The feedback after one answer: score, then the key point lines, then any prose."""
    lines = [f"**점수 {grade.score}/100 · 등급 {grade.grade}/4**", *keypoint_lines(grade.keypoints)]
    lines += [f"- _{notice}_" for notice in grade.notices]
    if prose:
        lines += ["", prose]
    return "\n".join(lines)


def status_line(report: Report) -> str:
    if report.finished:
        return "완료"
    return f"진행 중 (미완료) — 이어서 하려면: interviewer chat --resume {report.session_id}"


def llm_line(llm: LLMUsage) -> str:
    if llm.backend == "none":
        return "사용 안 함 (템플릿 면접관, 규칙 기반 채점)"
    return f"{llm.backend} · {llm.model or '기본 모델'} (호출 {llm.calls}회, 실패 {llm.failures}회)"


def _when(report: Report) -> str:
    start = report.started_at[:16].replace("T", " ")
    end = f" ~ {report.finished_at[11:16]}" if report.finished_at else ""
    return f"{start}{end} (UTC)"


def summary_items(report: Report) -> list[tuple[str, str]]:
    """(label, text) pairs of the summary, in plain text for every format."""
    s = report.summary
    score = f"{s.average_score}/100 (채점한 질문 {s.graded_cards}개)" if s.average_score is not None \
        else "채점된 답변 없음"
    keywords = f"✓ {s.covered}개 · △ {s.partial}개 · ✗ {s.missed + s.contradicted}개"
    if s.contradicted:
        keywords += f" (사실과 다른 설명 {s.contradicted}개)"
    return [("상태", status_line(report)), ("일시", _when(report)), ("평균 점수", score), ("키워드", keywords),
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


def to_markdown(report: Report) -> str:
    lines = [f"## 면접 결과 · {report.session_id}", "", *(f"- {k}: {v}" for k, v in summary_items(report))]
    with_reference = _shows_reference(report)
    for i, q in enumerate(report.questions):
        lines += ["", f"### {q.number}. [{KIND_LABELS[q.kind]}] {q.title}", f"- {_status_of(q)}"]
        if q.answer and q.outcome == "answered":
            lines.append("> " + q.answer.replace("\n", "\n> "))
        lines += keypoint_lines(q.keypoints)
        if i in with_reference:
            lines += ["", "참고 답변: " + (q.reference or "(없음)")]
    if report.study_next:
        lines += ["", "### 다음에 공부할 키워드"]
        for item in report.study_next:
            explanation = f": {item.explanation}" if item.explanation else ""
            lines.append(f"- {MARKS[item.verdict]} **{item.keyword}** — {item.card_title}{explanation} "
                         f"(연습: `{item.practice}`)")
    return "\n".join(lines)


# --- HTML ---------------------------------------------------------------------------------------

CSS = """
body { font-family: "NanumGothic", "Noto Sans KR", "Malgun Gothic", sans-serif; max-width: 52rem;
       margin: 2rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.55; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin-bottom: .3rem; }
.summary li, .kps li { margin: .15rem 0; }
.answer { white-space: pre-wrap; background: #f6f8fa; border-left: 4px solid #d0d7de; padding: .5rem .8rem; }
mark { background: #fff3a3; padding: 0 .1rem; }
.covered { color: #1a7f37; } .partial { color: #9a6700; } .missing, .contradicted { color: #cf222e; }
.reference { color: #57606a; font-size: .95rem; white-space: pre-wrap; }
.status { color: #57606a; } .chart svg { max-width: 100%; height: auto; }
code { background: #f6f8fa; padding: 0 .2rem; }
section.question { break-inside: avoid; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def _e(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def highlight(answer: str, spans: list[str]) -> str:
    """The answer, escaped, with each evidence span that occurs in it wrapped in <mark>."""
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
    return "".join(out)


def _span_ranges(answer: str, spans: list[str]) -> list[tuple[int, int]]:
    """Where each span occurs in the answer; a merged grade's evidence may come from another answer."""
    ranges = []
    for span in (s.strip() for s in spans):
        start = answer.find(span) if span else -1
        if start >= 0:
            ranges.append((start, start + len(span)))
    return ranges


def _keypoints_html(keypoints: list[KeyPointResult]) -> str:
    items = []
    for kp in keypoints:
        note = {"partial": " (부분적으로 언급)", "contradicted": " (사실과 다른 설명)"}.get(kp.verdict, "")
        evidence = f" — “{_e(kp.evidence)}”" if kp.evidence else (
            " — 답변에서 찾지 못했습니다" if kp.verdict == "missing" else "")
        items.append(f'<li class="{kp.verdict}">{MARKS[kp.verdict]} <strong>{_e(kp.keyword)}</strong>'
                     f"{note}{evidence}</li>")
    return f'<ul class="kps">{"".join(items)}</ul>' if items else ""


def _question_html(q: QuestionEntry, show_reference: bool) -> str:
    parts = [f'<section class="question"><h3>{q.number}. [{KIND_LABELS[q.kind]}] {_e(q.title)}</h3>',
             f'<div class="status">{_e(_status_of(q))}</div>']
    if q.answer and q.outcome == "answered":
        spans = [kp.evidence for kp in q.keypoints if kp.evidence]
        parts.append(f'<div class="answer">{highlight(q.answer, spans)}</div>')
    parts.append(_keypoints_html(q.keypoints))
    if show_reference:
        parts.append(f'<p class="reference"><strong>참고 답변</strong>\n{_e(q.reference or "(없음)")}</p>')
    return "".join(parts) + "</section>"


def _study_html(report: Report) -> str:
    if not report.study_next:
        return ""
    items = "".join(
        f'<li class="{item.verdict}">{MARKS[item.verdict]} <strong>{_e(item.keyword)}</strong> — '
        f"{_e(item.card_title)}{': ' + _e(item.explanation) if item.explanation else ''} "
        f"<br>연습: <code>{_e(item.practice)}</code></li>" for item in report.study_next)
    return f'<h2>다음에 공부할 키워드</h2><ul class="kps">{items}</ul>'


def _summary_html(report: Report) -> str:
    items = "".join(f"<li><strong>{_e(k)}</strong>: {_e(v)}</li>" for k, v in summary_items(report))
    return f'<ul class="summary">{items}</ul>'


def to_html(report: Report) -> str:
    chart = topic_chart_svg(report)
    with_reference = _shows_reference(report)
    body = [f"<h1>면접 결과 · {_e(report.session_id)}</h1>", _summary_html(report),
            f'<div class="chart">{chart}</div>' if chart else "<p>채점된 답변이 없어 차트가 없습니다.</p>",
            "<h2>질문별 결과</h2>",
            *(_question_html(q, i in with_reference) for i, q in enumerate(report.questions)),
            _study_html(report)]
    return ("<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\">"
            f"<title>면접 결과 {_e(report.session_id)}</title><style>{CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


# --- charts (matplotlib, Agg, no pyplot: figures are built per call, safe across threads) -----------

@lru_cache(maxsize=1)
def korean_font():
    """NanumGothic when installed (Debian fonts-nanum); None otherwise, and labels fall back to ASCII."""
    from matplotlib import font_manager

    try:
        path = font_manager.findfont(font_manager.FontProperties(family="NanumGothic"),
                                     fallback_to_default=False)
    except ValueError:
        # matplotlib's font cache predates a font installed later (apt-get install fonts-nanum):
        # look at the font files themselves.
        path = next((p for p in font_manager.findSystemFonts() if Path(p).name == "NanumGothic.ttf"), None)
    return font_manager.FontProperties(fname=path) if path else None


def score_colour(score: float) -> str:
    return "#cf222e" if score < 40 else "#d4a72c" if score < 70 else "#2da44e"


def topic_figure(report: Report):
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


def svg_of(fig) -> str:
    """The figure as an inline <svg> element: text drawn as paths, so no font is needed to view it."""
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = out.getvalue()
    return text[text.index("<svg"):]


def warm_up_charts() -> None:
    """Import matplotlib and find the font ahead of time, so the first report does not wait for it."""
    from matplotlib.figure import Figure

    korean_font()
    svg_of(Figure(figsize=(1, 1)))


def topic_chart_svg(report: Report) -> str | None:
    fig = topic_figure(report)
    return svg_of(fig) if fig is not None else None


# --- output ---------------------------------------------------------------------------------------

def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return to_json(report, indent=2) + "\n"
    if fmt == "md":
        return to_markdown(report) + "\n"
    if fmt == "html":
        return to_html(report)
    raise UserError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_report(report: Report, fmt: str, path: Path) -> Path:
    try:
        path.write_text(render(report, fmt), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
