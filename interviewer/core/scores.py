"""A session's scores as the report and the progress history both count them: each card's final
grade (a probe's merged grade replaces its main answer's) and their average."""

from __future__ import annotations

from interviewer.core.models import Grade
from interviewer.core.records import Turn


def final_results(turns: list[Turn]) -> dict[str, Grade]:
    """Each card's grade as the session left it, in the order the cards were first asked."""
    final: dict[str, Grade] = {}
    for turn in turns:
        if turn.result is not None:
            final[turn.card_id] = turn.result  # a later probe's merged grade replaces the earlier one
    return final


def average(scores: list[int]) -> int | None:
    return round(sum(scores) / len(scores)) if scores else None
