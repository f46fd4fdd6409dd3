"""The verdict layer: one row of signals per key point, a file that must fit those signals, and the
verdict and evidence the grader draws from its probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from interviewer.core.models import KeyPointResult
from interviewer.core.verdicts import LABELS
from interviewer.grading.grader import COVERED_PROBABILITY, PARTIAL_PROBABILITY, final_verdict
from interviewer.grading.verdict_layer import N_FEATURES, Signals, VerdictLayer, features


def signals(verdict="covered", method="lexical", evidence="드롭아웃은 뉴런을 무작위로 끈다", learned=False,
            model=(0.8, 0.1, 0.1)) -> Signals:
    analysis = KeyPointResult(keyword="co-adaptation", verdict=verdict, evidence=evidence, similarity=0.9, method=method)
    return Signals(analysis, dict(zip(LABELS, model, strict=True)), learned)


def test_features_mark_the_analysis_once_and_again_for_learned_key_points():
    curated, learned = features(signals()), features(signals(learned=True))
    assert curated.shape == learned.shape == (N_FEATURES,)
    assert curated[-1] == learned[-1] == 1.0  # the constant
    assert curated.sum() < learned.sum()      # the learned copy of the verdict and method, and the flag
    assert not np.array_equal(features(signals(verdict="missing", method="none")), curated)


def test_a_confident_zero_from_the_model_stays_finite():
    assert np.isfinite(features(signals(model=(1.0, 0.0, 0.0)))).all()


def test_the_layer_file_round_trips_and_rejects_other_shapes(tmp_path):
    layer = VerdictLayer(np.arange(N_FEATURES * len(LABELS), dtype=float).reshape(N_FEATURES, len(LABELS)))
    layer.save(tmp_path / "verdict.npz")
    assert np.array_equal(VerdictLayer.read(tmp_path / "verdict.npz").weight, layer.weight)
    np.savez(tmp_path / "other.npz", weight=np.zeros((4, 3)), labels=np.array(LABELS))
    with pytest.raises(ValueError, match="not over these signals"):
        VerdictLayer.read(tmp_path / "other.npz")


def test_covered_needs_the_layer_to_be_sure_and_keeps_the_analysis_evidence_when_they_agree():
    result = final_verdict(signals(), {"covered": COVERED_PROBABILITY, "missing": 0.3, "contradicted": 0.1}, "다른 문장")
    assert (result.verdict, result.evidence, result.method) == ("covered", "드롭아웃은 뉴런을 무작위로 끈다", "model")
    unsure = final_verdict(signals(), {"covered": 0.5, "missing": 0.3, "contradicted": 0.2}, "다른 문장")
    assert unsure.verdict == "partial"


def test_a_verdict_the_analysis_did_not_reach_quotes_the_nearest_clause():
    missed = signals(verdict="missing", method="none", evidence=None)
    result = final_verdict(missed, {"covered": 0.2, "missing": 0.1, "contradicted": 0.7}, "뉴런을 끄면 오히려 의존한다")
    assert (result.verdict, result.evidence) == ("contradicted", "뉴런을 끄면 오히려 의존한다")


def test_a_missing_key_point_the_model_half_credits_is_partial_and_a_missing_one_quotes_nothing():
    near = final_verdict(signals(), {"covered": PARTIAL_PROBABILITY, "missing": 0.6, "contradicted": 0.05}, "x")
    far = final_verdict(signals(), {"covered": 0.1, "missing": 0.8, "contradicted": 0.1}, "x")
    assert (near.verdict, near.evidence) == ("partial", "드롭아웃은 뉴런을 무작위로 끈다")
    assert (far.verdict, far.evidence) == ("missing", None)
