"""The verdict vocabulary, in one place: what a key point can be judged, how verdicts rank, what
each is worth, and the mark every rendering shows for it.

The grader, the judge, the evaluation, merging a probe with its main answer, the chat, the review
listing and the report all read these; none defines its own.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Verdict = Literal["covered", "partial", "missing", "contradicted"]
VERDICTS: tuple[Verdict, ...] = ("covered", "partial", "missing", "contradicted")
# What a human labels a key point (no `partial`), in the order the verdict layer's classes are stored.
LABELS: tuple[Verdict, ...] = ("covered", "missing", "contradicted")
# Which of two verdicts on one key point counts when several answers cover it (a probe and its main answer).
VERDICT_RANK: dict[str, int] = {"covered": 3, "partial": 2, "contradicted": 1, "missing": 0}
# A key point's share of the score.
VERDICT_CREDIT: dict[str, float] = {"covered": 1.0, "partial": 0.5, "missing": 0.0, "contradicted": 0.0}
# The terminal, the chat and the report show the same mark; a contradiction is told apart in words.
VERDICT_MARKS: dict[str, str] = {"covered": "✓", "partial": "△", "missing": "✗", "contradicted": "✗"}
# A verdict in one Korean word, where a listing shows it as a column (the review schedule).
VERDICT_WORDS: dict[str, str] = {"covered": "맞힘", "partial": "부분", "missing": "누락", "contradicted": "반대로 답함"}
# Said beside a key point's mark where the mark alone would not tell it.
VERDICT_NOTES: dict[str, str] = {"partial": "부분적으로 언급", "contradicted": "사실과 다른 설명"}
# What to study first among key points not covered: a wrong explanation before a missing one.
STUDY_ORDER: dict[str, int] = {"contradicted": 0, "missing": 1, "partial": 2}
# Verdicts that send a key point back to the start of its review schedule.
MISSED: tuple[Verdict, ...] = ("missing", "contradicted")


class Method(StrEnum):
    """How a key point's verdict was reached. Its value is what JSON, history and reports hold."""

    NONE = "none"                    # nothing in the answer bore on it
    MODEL = "model"                  # the cross-encoder and the verdict layer
    LLM = "llm"                      # the LLM judge replaced the grader's verdict
    DONT_KNOW = "dont_know"          # the candidate said they did not know
    # The clause analysis' reasons, read by the verdict layer as features:
    LEXICAL = "lexical"
    LEXICAL_SEMANTIC = "lexical+semantic"
    SEMANTIC = "semantic"
    NEGATION = "negation"
    BINDING = "binding"
    CONTRADICTION_CLAIM = "contradiction-claim"
    PARTIAL = "partial"


def as_label(verdict: str) -> str:
    """A grader verdict as a human label: `partial` is not covered."""
    return "missing" if verdict == "partial" else verdict
