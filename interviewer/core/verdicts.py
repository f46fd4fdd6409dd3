"""The verdict vocabulary, in one place: what a key point can be judged, how verdicts rank, what
each is worth, and the mark every rendering shows for it.

The grader, the judge, the evaluation, merging a probe with its main answer, the chat and the
report all read these; none defines its own.
"""

from __future__ import annotations

from typing import Literal

Verdict = Literal["covered", "partial", "missing", "contradicted"]
VERDICTS: tuple[Verdict, ...] = ("covered", "partial", "missing", "contradicted")
# Which of two verdicts on one key point counts when several answers cover it (a probe and its main answer).
VERDICT_RANK: dict[str, int] = {"covered": 3, "partial": 2, "contradicted": 1, "missing": 0}
# A key point's share of the score.
VERDICT_CREDIT: dict[str, float] = {"covered": 1.0, "partial": 0.5, "missing": 0.0, "contradicted": 0.0}
# The terminal, the chat and the report show the same mark; a contradiction is told apart in words.
VERDICT_MARKS: dict[str, str] = {"covered": "✓", "partial": "△", "missing": "✗", "contradicted": "✗"}
# Verdicts that send a key point back to the start of its review schedule.
MISSED: tuple[Verdict, ...] = ("missing", "contradicted")
