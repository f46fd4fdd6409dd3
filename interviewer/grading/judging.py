"""The judge policy: the deterministic grader plus an LLM second opinion on the key points it is
least sure about. Which key points go to the judge, when a judged verdict counts, and how the
grade is recomputed from the new verdicts (with the grader's own score formula and grade rule)."""

from __future__ import annotations

from typing import Any

from interviewer.core.models import Card, Grade, KeyPointResult
from interviewer.core.verdicts import Method
from interviewer.llm import LLMClient, LLMFailure, answer_context, parse_judgement, render

MAX_JUDGED = 3  # key points per answer sent to the judge; each costs one call
JUDGING = "답변을 LLM이 한 번 더 검토하고 있습니다…"  # shown while a judge call runs (its JSON is not prose)


def unsure(results: list[KeyPointResult]) -> list[KeyPointResult]:
    """Key points the grader is least sure about: partial ones, then misses that were close
    (similarity at or above the grader's semantic floor), at most MAX_JUDGED."""
    from interviewer.grading.grader import SEMANTIC_FLOOR

    partial = [r for r in results if r.verdict == "partial"]
    close = sorted((r for r in results if r.verdict == "missing" and r.similarity is not None
                    and r.similarity >= SEMANTIC_FLOOR), key=lambda r: -(r.similarity or 0))
    return (partial + close)[:MAX_JUDGED]


class JudgedGrader:
    """The deterministic grader plus an LLM second opinion on the key points it is unsure about.

    An LLM verdict counts only when its evidence is a literal span of the answer; it is recorded
    with method "llm" and the grader's own verdict beside it (`deterministic_verdict`).
    """

    def __init__(self, grader: Any, client: LLMClient):
        self.grader = grader
        self.client = client

    def grade(self, card: Card, answer: str) -> Grade:
        from interviewer.lang.text import segment_answer

        grade = self.grader.grade(card, answer)
        # A bare list of terms is capped by the grader's own rule; a second opinion cannot lift it.
        if not any(segment.explanatory for segment in segment_answer(answer)):
            return grade
        changed = False
        results = list(grade.keypoints)
        for result in unsure(results):
            judged = self._judge(card, answer, result)
            if judged is not None:
                results[results.index(result)] = judged
                changed = True
        if not changed:
            return grade
        return rescore(grade, results, answer)

    def _judge(self, card: Card, answer: str, result: KeyPointResult) -> KeyPointResult | None:
        client = self.client
        if not client.available:
            return None
        kp = next((k for k in card.keypoints if k.keyword == result.keyword), None)
        messages = render("judge", "task", **answer_context(card, answer), keyword=result.keyword,
                          explanation=(kp.explanation if kp else "") or "(없음)",
                          claims=" / ".join(kp.claims[:3]) if kp and kp.claims else "(없음)")
        try:
            judged = parse_judgement(client.text(messages, status=JUDGING), answer)
        except LLMFailure as failure:
            client.fail(failure)
            return None
        if judged is None or judged[0] == result.verdict:
            return None
        verdict, span = judged
        return result.model_copy(update={"verdict": verdict, "evidence": span, "method": Method.LLM,
                                         "deterministic_verdict": result.verdict})


def rescore(grade: Grade, results: list[KeyPointResult], answer: str) -> Grade:
    """The grader's score formula and grade rule over the new verdicts, for an explanatory answer.

    The grade rule's relevance only counts when nothing is covered or contradicted, which a judged
    verdict (covered, partial or contradicted, each with a quote) never leaves behind.
    """
    from interviewer.grading.grader import Tally, holistic_grade
    from interviewer.lang.text import says_dont_know

    tally = Tally.of(results)
    level = holistic_grade(tally.coverage, tally.contradicted, tally.n, explanatory=True, relevance=0.0,
                           dont_know=says_dont_know(answer))
    notices = list(grade.notices)
    for r in results:
        if r.method == Method.LLM:
            notices.append(f"LLM 판정: '{r.keyword}' {r.deterministic_verdict} → {r.verdict} "
                           f"(근거: “{r.evidence}”)")
    return grade.model_copy(update={"keypoints": results, "score": tally.score, "grade": level,
                                    "llm_used": True, "notices": notices})
