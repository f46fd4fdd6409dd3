"""Metrics of `interviewer eval`, on hand-computed cases, and the command on a labelled file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interviewer.core.errors import UserError
from interviewer.core.models import Grade, KeyPointResult
from interviewer.grading.evaluation import (
    Counts,
    Example,
    Outcome,
    cohen_kappa,
    quadratic_weighted_kappa,
    read_examples,
    spearman,
    twin_figures,
)


def test_counts_precision_recall_f1():
    counts = Counts()
    for human, predicted in [(True, True), (True, True), (True, False), (False, True), (False, False)]:
        counts.add(human, predicted)
    assert (counts.tp, counts.fp, counts.fn) == (2, 1, 1)
    assert counts.precision == pytest.approx(2 / 3) and counts.recall == pytest.approx(2 / 3)
    assert counts.f1 == pytest.approx(2 / 3)


def outcome(id_, kind, labels, verdicts, score, twin_of=None):
    example = Example(id_, "card", kind, "답", labels, 4, twin_of)
    grade = Grade(card_id="card", score=score, grade=2,
                  keypoints=[KeyPointResult(keyword=k, verdict=v) for k, v in verdicts.items()])
    return Outcome(example, grade)


def test_twin_figures_count_the_turned_and_the_untouched_key_points_per_kind():
    original = outcome("a", "complete", {"x": "covered", "y": "covered"}, {"x": "covered", "y": "covered"}, 100)
    fooled = outcome("b", "reversed", {"x": "contradicted", "y": "covered"}, {"x": "covered", "y": "covered"}, 100, "a")
    caught = outcome("c", "negation", {"x": "covered", "y": "contradicted"}, {"x": "covered", "y": "missing"}, 50, "a")
    orphan = outcome("d", "negation", {"x": "contradicted"}, {"x": "covered"}, 100, "zz")
    twins = twin_figures([original, fooled, caught, orphan])
    assert twins["reversed"].as_dict() == {"turned_credited": 1.0, "turned": 1, "untouched_credited": 1.0,
                                           "untouched": 1, "pairs": 1, "original_outscores_twin": 0}
    assert twins["negation"].as_dict() == {"turned_credited": 0.0, "turned": 1, "untouched_credited": 1.0,
                                           "untouched": 1, "pairs": 1, "original_outscores_twin": 1}


def test_spearman_handles_ties_and_order():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([0, 0, 50, 100], [0, 1, 2, 4]) == pytest.approx(0.9487, abs=1e-4)


def test_quadratic_weighted_kappa():
    assert quadratic_weighted_kappa([0, 1, 2, 3, 4], [0, 1, 2, 3, 4], 5) == pytest.approx(1.0)
    assert quadratic_weighted_kappa([0, 4, 0, 4], [4, 0, 4, 0], 5) < 0
    # one grade off on one of four answers: 1 - (1/16) / (8/16), worked out by hand from the definition
    assert quadratic_weighted_kappa([0, 1, 2, 3], [0, 1, 2, 2], 5) == pytest.approx(0.875)


def test_cohen_kappa():
    labels = ("covered", "missing", "contradicted")
    same = ["covered", "missing", "contradicted", "covered"]
    assert cohen_kappa(same, same, labels) == pytest.approx(1.0)
    # observed 3/4; chance (2*3 + 2*1) / 16 = 1/2 from the two raters' label counts: (0.75 - 0.5) / 0.5
    assert cohen_kappa(["covered", "covered", "missing", "missing"],
                       ["covered", "covered", "covered", "missing"], labels) == pytest.approx(0.5)
    # agreeing no more than chance does
    assert cohen_kappa(["covered", "missing"], ["missing", "covered"], labels) < 0


def test_read_examples_names_the_bad_line(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"card_id": "dropout", "answer": "x", "labels": {}, "grade": 0}\n{"oops": 1}\n',
                    encoding="utf-8")
    with pytest.raises(UserError, match=r"set.jsonl:2:"):
        read_examples(path)


def test_eval_command_on_a_small_labelled_file(cli, indexed_home, tmp_path):
    rows = [
        {"id": "a", "card_id": "gd-loss-increase", "kind": "complete", "grade": 4,
         "answer": "learning rate가 너무 크면 minimum을 지나쳐 발산하면서 loss가 증가합니다.",
         "labels": {"learning rate": "covered"}},
        {"id": "b", "card_id": "gd-loss-increase", "kind": "dont_know", "grade": 0,
         "answer": "모르겠습니다.", "labels": {"learning rate": "missing"}},
        {"id": "c", "card_id": "dropout", "kind": "negation", "grade": 1,
         "answer": "dropout은 과적합을 막는 데 아무 효과가 없습니다.",
         "labels": {"co-adaptation 방지": "contradicted", "다양한 모델 학습": "missing"}},
    ]
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = cli("eval", str(path), "--json", env={"INTERVIEWER_HOME": str(indexed_home)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["answers"] == 3
    assert report["covered"]["tp"] == 1 and report["covered"]["fp"] == 0
    assert set(report["covered_by_kind"]) == {"complete", "dont_know", "negation"}
    assert sum(sum(row) for row in report["grade_confusion"]) == 3
    assert -1.0 <= report["keyword_kappa"] <= 1.0
    matrix = report["grade_confusion"]  # rows: human grade, columns: the grader's
    assert report["grade_off_by_two"] == pytest.approx(
        sum(n for i, row in enumerate(matrix) for j, n in enumerate(row) if abs(i - j) >= 2) / 3)
    by_method = report["covered_by_method"]
    assert sum(m["covered"] for m in by_method.values()) == report["covered"]["tp"] + report["covered"]["fp"]
    assert all(m["right"] <= m["covered"] for m in by_method.values())
    human = cli("eval", str(path), env={"INTERVIEWER_HOME": str(indexed_home)})
    assert human.returncode == 0
    assert human.stdout.startswith("answers: 3\ncovered: precision")
    assert "Cohen's kappa" in human.stdout and "grade off by 2 or more" in human.stdout
    assert "precision of covered by method" in human.stdout


def bundled_eval(cli, indexed_home, name: str) -> dict:
    labelled = Path(__file__).resolve().parent / "data" / name
    result = cli("eval", str(labelled), "--json", env={"INTERVIEWER_HOME": str(indexed_home)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_dev_set_meets_the_grader_targets(cli, indexed_home):
    """The dev set's figures with the shipped grading model, held just under today's (docs/grader.md): a
    model, a verdict layer or a curation that loses accuracy fails here (the holdouts are measured in
    docs/grader.md, never tuned on)."""
    report = bundled_eval(cli, indexed_home, "grading_dev.jsonl")
    assert report["answers"] >= 100
    assert report["covered"]["precision"] >= 0.92 and report["covered"]["f1"] >= 0.92
    assert report["keyword_kappa"] >= 0.76 and report["contradicted_recall"] >= 0.52
    assert report["spearman_score_vs_grade"] >= 0.80 and report["qwk_grade"] >= 0.82
    assert report["grade_off_by_two"] <= 0.075


def test_the_second_dev_set_holds_its_figures(cli, indexed_home):
    """Issue 14's error kinds (names and trivia, negation scope, swaps, short answers); since issue 21
    also where the verdict layer is fitted: floors just under today's figures."""
    report = bundled_eval(cli, indexed_home, "grading_dev2.jsonl")
    assert report["answers"] >= 150
    assert report["covered"]["precision"] >= 0.92 and report["covered"]["f1"] >= 0.92
    assert report["keyword_kappa"] >= 0.71 and report["qwk_grade"] >= 0.77
    assert report["grade_off_by_two"] <= 0.10


def test_an_uncurated_team_bank_grades_meaningfully(cli, tmp_path):
    """The dev team bank (tests/data/team_dev_bank.md, no curation file) on its labelled set. Issue 21's
    targets for such a bank (precision 0.85, κ 0.70, QWK 0.70) are not met yet; these floors sit just
    under what the grader measures today (docs/grader.md), so a change that loses accuracy on a bank
    nobody curated fails here."""
    data = Path(__file__).resolve().parent / "data"
    result = cli("--bank", str(data / "team_dev_bank.md"), "--no-bundled", "eval", str(data / "team_dev.jsonl"),
                 "--json", env={"INTERVIEWER_HOME": str(tmp_path / "home")}, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["answers"] >= 100
    assert report["covered"]["precision"] >= 0.82 and report["keyword_kappa"] >= 0.57
    assert report["covered"]["f1"] >= 0.83
    assert report["spearman_score_vs_grade"] >= 0.70
    assert report["qwk_grade"] >= 0.69
