"""Grader accuracy on a labelled file: how often its verdicts and grades agree with a human's.

Each line: {"id", "card_id", "kind", "answer", "labels": {seed keyword: covered|missing|contradicted},
"grade": 0-4}. Metrics are over seed keywords only (curated key points have no human label), except on
cards without a `Keyword:` line, whose curated key points are the ones labelled.
A `partial` verdict counts as not covered: wrong credit is worse than a missed one, and as `missing`
in the keyword kappa, which compares the three human labels with the grader's verdicts.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from interviewer.core.errors import UserError
from interviewer.core.models import Grade, KeyPointResult
from interviewer.core.verdicts import LABELS, VERDICTS, Method, as_label


@dataclass
class Example:
    id: str
    card_id: str
    kind: str
    answer: str
    labels: dict[str, str]
    grade: int
    twin_of: str | None = None  # the correct answer this one turns (LABELLING.md: reversed, swapped, negation)


@dataclass
class Outcome:
    example: Example
    predicted: Grade

    def verdicts(self) -> dict[str, str]:
        """Verdicts by keyword; curated key points count only on cards that have no seed keywords."""
        return {kp.keyword: kp.verdict for kp in self.scored()}

    def methods(self) -> dict[str, Method]:
        return {kp.keyword: kp.method for kp in self.scored()}

    def scored(self) -> list[KeyPointResult]:
        """The key points the figures count: the seed ones, or the curated ones on a card without seed keywords."""
        seed = [kp for kp in self.predicted.keypoints if not kp.added]
        return seed or self.predicted.keypoints


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, human_covered: bool, predicted_covered: bool) -> None:
        self.tp += human_covered and predicted_covered
        self.fp += predicted_covered and not human_covered
        self.fn += human_covered and not predicted_covered

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3),
                "f1": round(self.f1, 3), "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class MethodCounts:
    """How often a `covered` verdict reached by one method (lexical, semantic, llm …) was right."""
    predicted: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 3), "covered": self.predicted, "right": self.correct}


@dataclass
class KindFigures:
    """One answer kind's figures: covered counts, how many keyword labels the grader agrees with (a kappa
    would say little within one kind, where nearly every label is the same), grades off by two or more."""
    covered: Counts = field(default_factory=Counts)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    answers: int = 0
    off_by_two: int = 0

    @property
    def agreement(self) -> float:
        return sum(h == p for h, p in self.pairs) / len(self.pairs) if self.pairs else 1.0

    def as_dict(self) -> dict:
        return {**self.covered.as_dict(), "agreement": round(self.agreement, 3), "answers": self.answers,
                "off_by_two": self.off_by_two}


@dataclass
class TwinFigures:
    """Twins of correct answers, per kind: how often the turned key point is still credited, how often
    the untouched ones are, and how often the correct answer outscores its twin."""
    turned: Counts = field(default_factory=Counts)     # tp: a turned key point credited
    untouched: Counts = field(default_factory=Counts)  # tp: an untouched, covered key point credited
    pairs: int = 0
    original_ahead: int = 0

    def as_dict(self) -> dict:
        return {"turned_credited": round(self.turned.tp / max(1, self.turned.fn + self.turned.tp), 3),
                "turned": self.turned.tp + self.turned.fn,
                "untouched_credited": round(self.untouched.tp / max(1, self.untouched.fn + self.untouched.tp), 3),
                "untouched": self.untouched.tp + self.untouched.fn,
                "pairs": self.pairs, "original_outscores_twin": self.original_ahead}


def twin_figures(outcomes: list[Outcome]) -> dict[str, TwinFigures]:
    """Per twin kind, over the twins whose correct answer is in the same set."""
    by_id = {o.example.id: o for o in outcomes}
    figures = defaultdict[str, TwinFigures](TwinFigures)
    for twin in outcomes:
        original = by_id.get(twin.example.twin_of or "")
        if original is None:
            continue
        kind = figures[twin.example.kind]
        kind.pairs += 1
        kind.original_ahead += original.predicted.score > twin.predicted.score
        verdicts = twin.verdicts()
        for keyword, human in twin.example.labels.items():
            credited = verdicts.get(keyword) == "covered"
            if human == "contradicted" and original.example.labels.get(keyword) == "covered":
                kind.turned.add(True, credited)
            elif human == "covered":
                kind.untouched.add(True, credited)
    return dict(figures)


@dataclass
class AccuracyReport:
    """The grader's agreement with the human labels of one file (`interviewer eval`); not the
    feedback report of a session, which is `reports.report.Report`."""
    n_answers: int
    covered: Counts
    by_kind: dict[str, KindFigures]
    by_method: dict[Method, MethodCounts]
    contradicted_recall: float | None
    keyword_kappa: float
    spearman: float
    qwk: float
    off_by_two: float
    confusion: dict[str, dict[str, int]]
    grade_confusion: list[list[int]]
    worst: list[dict] = field(default_factory=list)
    twins: dict[str, TwinFigures] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "answers": self.n_answers,
            "covered": self.covered.as_dict(),
            "covered_by_kind": {k: c.as_dict() for k, c in sorted(self.by_kind.items())},
            "covered_by_method": {m: c.as_dict() for m, c in sorted(self.by_method.items())},
            "contradicted_recall": None if self.contradicted_recall is None else round(self.contradicted_recall, 3),
            "keyword_kappa": round(self.keyword_kappa, 3),
            "spearman_score_vs_grade": round(self.spearman, 3),
            "qwk_grade": round(self.qwk, 3),
            "grade_off_by_two": round(self.off_by_two, 3),
            "confusion": self.confusion,
            "grade_confusion": self.grade_confusion,
            "worst": self.worst,
            "twins": {k: t.as_dict() for k, t in sorted(self.twins.items())},
        }


def read_examples(path: Path) -> list[Example]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            examples.append(Example(id=str(data.get("id", number)), card_id=data["card_id"],
                                    kind=data.get("kind", "unknown"), answer=data["answer"],
                                    labels=dict(data["labels"]), grade=int(data["grade"]),
                                    twin_of=data.get("twin_of")))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}:{number}: not a labelled example ({exc})") from None
    if not examples:
        raise UserError(f"{path}: no labelled examples")
    return examples


def evaluate(outcomes: list[Outcome], worst: int = 10) -> AccuracyReport:
    covered, by_kind = Counts(), defaultdict[str, KindFigures](KindFigures)
    by_method = defaultdict[Method, MethodCounts](MethodCounts)
    confusion: dict[str, Counter[str]] = {label: Counter() for label in LABELS}
    pairs: list[tuple[str, str]] = []
    contradicted_total = contradicted_found = 0
    misses = []
    for outcome in outcomes:
        kind = by_kind[outcome.example.kind]
        kind.answers += 1
        kind.off_by_two += abs(outcome.example.grade - outcome.predicted.grade) >= 2
        predicted, methods = outcome.verdicts(), outcome.methods()
        for keyword, human in outcome.example.labels.items():
            verdict = predicted.get(keyword, "missing")
            confusion.setdefault(human, Counter())[verdict] += 1
            pair = (human, as_label(verdict))
            pairs.append(pair)
            kind.pairs.append(pair)
            covered.add(human == "covered", verdict == "covered")
            kind.covered.add(human == "covered", verdict == "covered")
            if verdict == "covered":
                by_method[methods[keyword]].predicted += 1
                by_method[methods[keyword]].correct += human == "covered"
            if human == "contradicted":
                contradicted_total += 1
                contradicted_found += verdict == "contradicted"
            if (human == "covered") != (verdict == "covered"):
                misses.append(_miss(outcome, keyword, human, verdict))
    scores = [o.predicted.score for o in outcomes]
    humans = [o.example.grade for o in outcomes]
    predicted_grades = [o.predicted.grade for o in outcomes]
    misses.sort(key=lambda m: (m["kind_of_error"] != "wrong credit", -len(m["answer"])))
    return AccuracyReport(
        n_answers=len(outcomes), covered=covered, by_kind=dict(by_kind), by_method=dict(by_method),
        contradicted_recall=contradicted_found / contradicted_total if contradicted_total else None,
        keyword_kappa=cohen_kappa([h for h, _ in pairs], [p for _, p in pairs], LABELS),
        spearman=spearman(scores, humans), qwk=quadratic_weighted_kappa(humans, predicted_grades, 5),
        off_by_two=sum(k.off_by_two for k in by_kind.values()) / len(outcomes) if outcomes else 0.0,
        confusion={h: {v: confusion[h][v] for v in VERDICTS} for h in confusion},
        grade_confusion=_grade_confusion(humans, predicted_grades), worst=misses[:worst],
        twins=twin_figures(outcomes))


def cohen_kappa(a: Sequence[str], b: Sequence[str], labels: Sequence[str]) -> float:
    """Cohen's kappa of two raters over the same items: agreement beyond what chance would give."""
    total = len(a)
    if total == 0:
        return 0.0
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / total
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in labels) / total ** 2
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def _miss(outcome: Outcome, keyword: str, human: str, verdict: str) -> dict:
    kp = next((k for k in outcome.predicted.keypoints if k.keyword == keyword), None)
    return {"id": outcome.example.id, "card_id": outcome.example.card_id, "kind": outcome.example.kind,
            "keyword": keyword, "human": human, "grader": verdict,
            "kind_of_error": "wrong credit" if verdict == "covered" else "missed credit",
            "evidence": kp.evidence if kp else None, "answer": outcome.example.answer[:160]}


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rho with average ranks for ties (Pearson correlation of the ranks)."""
    if len(a) < 2:
        return 0.0
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def quadratic_weighted_kappa(human: list[int], predicted: list[int], n_classes: int) -> float:
    observed = _grade_confusion(human, predicted, n_classes)
    total = len(human)
    if total == 0:
        return 0.0
    hist_h = [sum(row) for row in observed]
    hist_p = [sum(observed[i][j] for i in range(n_classes)) for j in range(n_classes)]
    num = den = 0.0
    for i in range(n_classes):
        for j in range(n_classes):
            weight = (i - j) ** 2 / (n_classes - 1) ** 2
            num += weight * observed[i][j]
            den += weight * hist_h[i] * hist_p[j] / total
    return 1.0 - num / den if den else 1.0


def _grade_confusion(human: list[int], predicted: list[int], n_classes: int = 5) -> list[list[int]]:
    matrix = [[0] * n_classes for _ in range(n_classes)]
    for h, p in zip(human, predicted, strict=True):
        matrix[h][p] += 1
    return matrix


def format_accuracy(report: AccuracyReport) -> str:
    c = report.covered
    lines = [
        f"answers: {report.n_answers}",
        f"covered: precision {c.precision:.3f}  recall {c.recall:.3f}  F1 {c.f1:.3f}  "
        f"(tp {c.tp}, fp {c.fp}, fn {c.fn})",
        "contradicted recall: " + ("n/a" if report.contradicted_recall is None
                                   else f"{report.contradicted_recall:.3f}"),
        f"Cohen's kappa (keywords: covered / missing / contradicted): {report.keyword_kappa:.3f}",
        f"Spearman(score, human grade): {report.spearman:.3f}",
        f"quadratic-weighted kappa (grade): {report.qwk:.3f}",
        f"grade off by 2 or more: {report.off_by_two:.1%} of answers",
        "",
        "covered by answer kind:",
    ]
    for kind, figures in sorted(report.by_kind.items()):
        counts = figures.covered
        lines.append(f"  {kind:<14} P {counts.precision:.2f}  R {counts.recall:.2f}  F1 {counts.f1:.2f}"
                     f"  agree {figures.agreement:.2f}  off-by-2 {figures.off_by_two}/{figures.answers}"
                     f"  (tp {counts.tp}, fp {counts.fp}, fn {counts.fn})")
    if report.twins:
        lines += ["", "twins of correct answers (turned key point credited / untouched credited / correct answer ahead):"]
        for kind, t in sorted(report.twins.items()):
            d = t.as_dict()
            lines.append(f"  {kind:<14} turned {d['turned_credited']:.2f} of {d['turned']}  untouched "
                         f"{d['untouched_credited']:.2f} of {d['untouched']}  ahead {t.original_ahead}/{t.pairs}")
    lines += ["", "precision of covered by method:"]
    for method, m in sorted(report.by_method.items()):
        lines.append(f"  {method:<14} P {m.precision:.2f}  ({m.correct} of {m.predicted} right)")
    lines += ["", "verdict confusion (rows: human, columns: grader):",
              "  " + " " * 13 + "".join(f"{v:>13}" for v in VERDICTS)]
    for human, row in report.confusion.items():
        lines.append(f"  {human:<13}" + "".join(f"{row[v]:>13}" for v in VERDICTS))
    lines += ["", "grade confusion (rows: human 0-4, columns: grader 0-4):"]
    lines += [f"  {i}: " + " ".join(f"{n:>3}" for n in row) for i, row in enumerate(report.grade_confusion)]
    if report.worst:
        lines += ["", "worst misses:"]
        for miss in report.worst:
            lines.append(f"  {miss['id']} [{miss['kind']}] {miss['card_id']} / {miss['keyword']}: human "
                         f"{miss['human']}, grader {miss['grader']} — {miss['answer'][:80]!r}")
    return "\n".join(lines)


@dataclass
class JudgeComparison:
    """The same labelled file graded without and with the LLM judge, and what the judge changed."""
    without: AccuracyReport
    with_judge: AccuracyReport
    changed: int = 0
    fixed: int = 0
    broke: int = 0
    calls: int = 0     # LLM calls the judge made, and how many of them failed (unreachable, invalid reply …)
    failures: int = 0

    def as_dict(self) -> dict:
        return {"without_judge": self.without.as_dict(), "with_judge": self.with_judge.as_dict(),
                "judge": {"changed": self.changed, "fixed": self.fixed, "broke": self.broke,
                          "calls": self.calls, "failures": self.failures}}


def compare_judge(plain: list[Outcome], judged: list[Outcome], calls: int, failures: int,
                  worst: int = 10) -> JudgeComparison:
    """A judged verdict `fixed` a keyword when it now agrees with the human and the grader did not,
    `broke` it in the opposite case (agreement on the three labels, partial as missing)."""
    comparison = JudgeComparison(evaluate(plain, worst), evaluate(judged, worst), calls=calls, failures=failures)
    for outcome in judged:
        for kp in outcome.scored():
            human = outcome.example.labels.get(kp.keyword)
            if kp.method != Method.LLM or kp.deterministic_verdict is None or human is None:
                continue
            before, after = as_label(kp.deterministic_verdict) == human, as_label(kp.verdict) == human
            comparison.changed += 1
            comparison.fixed += after and not before
            comparison.broke += before and not after
    return comparison


HEADLINE = (("covered precision", lambda r: r.covered.precision), ("covered recall", lambda r: r.covered.recall),
            ("covered F1", lambda r: r.covered.f1), ("keyword kappa", lambda r: r.keyword_kappa),
            ("contradicted recall", lambda r: r.contradicted_recall), ("Spearman", lambda r: r.spearman),
            ("QWK (grade)", lambda r: r.qwk), ("grade off by >= 2", lambda r: r.off_by_two))


def format_comparison(comparison: JudgeComparison) -> str:
    def cell(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    lines = ["agreement with the human labels, without and with the LLM judge:",
             f"  {'':<22}{'without':>10}{'with':>10}"]
    for name, figure in HEADLINE:
        lines.append(f"  {name:<22}{cell(figure(comparison.without)):>10}{cell(figure(comparison.with_judge)):>10}")
    lines += [f"judge: {comparison.calls} LLM calls, {comparison.failures} failed",
              f"judge changed {comparison.changed} keyword verdicts: {comparison.fixed} now agree with the human, "
              f"{comparison.broke} no longer do", "", "with the judge:", format_accuracy(comparison.with_judge)]
    return "\n".join(lines)
