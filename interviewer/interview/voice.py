"""How the interviewer words things: the contract, and the deterministic Korean templates.

The interview engine asks a voice for the words it records (the questions it asks, the feedback
prose and the closing line). `TemplateVoice` needs nothing; the LLM voice (`llm_voice`)
subclasses it and falls back to these templates whenever a call fails.
Templates vary their phrasing by a hash of the card (never by randomness), so a session replays
the same way and tests can rely on the wording's shape. The counting of LLM calls is `llm.calls`'.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from interviewer.core.models import Card, Grade, KeyPoint
from interviewer.lang.phrasing import QuestionKind, anchor_term, question_kind
from interviewer.llm.calls import VoiceStats

if TYPE_CHECKING:
    from interviewer.reports.report import Report

ASK_OPENERS = ("", "다음 질문입니다. ", "이어서 여쭤볼게요. ")
# Follow-ups on another card: after a strong answer, a deeper question.
FOLLOW_UP_OPENERS = (
    "말씀하신 내용과 이어지는 질문을 드릴게요.",
    "조금 더 깊이 들어가 보겠습니다.",
    "관련해서 꼬리 질문입니다.",
    "좋습니다. 한 단계 더 나아가 볼게요.",
    "그 답변을 바탕으로 하나 더 여쭤보겠습니다.",
)
# Probes for a missed key point, by the kind of question asked; `{category}` is the key point's
# category (never the keyword). No frame praises: the answer may have missed everything.
PROBE_FRAMES: dict[QuestionKind, tuple[str, ...]] = {
    "why": ("{category} 측면의 이유도 있을까요?",
            "이유를 하나 더 든다면, {category} 쪽에서는 무엇을 말할 수 있을까요?",
            "{category} 관점에서 왜 그런지도 설명해 주시겠어요?"),
    "how": ("{category} 측면에서는 어떻게 하시겠어요?",
            "다른 방법도 있을까요? {category} 쪽을 생각해 보시면 좋겠습니다.",
            "{category}까지 고려하면 무엇을 더 할 수 있을까요?"),
    "compare": ("{category} 측면에서는 어떻게 다를까요?",
                "{category}, 이 기준으로 비교하면 어떤 차이가 있을까요?",
                "둘을 {category} 관점에서 나란히 놓고 설명해 주시겠어요?"),
    "what": ("{category} 측면에서 보충 설명을 해 주시겠어요?",
             "{category} 쪽에서는 어떤 점을 더 말할 수 있을까요?",
             "조금 더 구체적으로 볼까요? {category} 쪽을 중심으로 설명해 주세요."),
}
PROBES_PLAIN = (
    "'{title}'에 대해 아직 다루지 않은 부분이 하나 있어요. 무엇일까요?",
    "그 밖에 중요한 점이 하나 더 있는데, 무엇일까요?",
    "한 가지 빠진 부분이 있는 것 같아요. 조금 더 보충해 주시겠어요?",
)
# Said after a probe's frame when the key point's explanation has an English term to connect to;
# each at most once an interview, like the frames.
PROBE_ANCHORS = (
    " '{anchor}' 개념과 연결해서 생각해 보셔도 좋습니다.",
    " '{anchor}' 쪽과 어떤 관계인지도 함께 말씀해 주세요.",
    " '{anchor}'에서 출발해 보셔도 됩니다.",
    " '{anchor}' 이야기를 곁들여 주셔도 좋습니다.",
)


def pick(options: tuple[str, ...], *keys: str, asked: Sequence[str] = ()) -> str:
    """A stable choice among phrasings, keyed by the card (and key point), never random; a phrasing
    already used in `asked` (the interview's questions so far) is passed over while another is left."""
    digest = hashlib.sha1("\x1f".join(keys).encode("utf-8")).digest()
    first = digest[0] % len(options)
    rotated = options[first:] + options[:first]
    return next((o for o in rotated if not any(frame_of(o) in q for q in asked)), rotated[0])


def frame_of(phrasing: str) -> str:
    """The fixed words of a phrasing (its longest piece between placeholders): how a use is recognised."""
    return max(re.split(r"\{\w+\}", phrasing), key=len).strip()


class TemplateVoice:
    """No LLM: fixed Korean phrasings. Every method returns a complete, usable sentence."""

    def __init__(self) -> None:
        self.stats = VoiceStats()

    def ask(self, card: Card, number: int, total: int) -> str:
        opener = "" if number == 1 else pick(ASK_OPENERS, card.id)
        return f"**[질문 {number}/{total}]** {opener}{card.title}"

    def follow_up(self, card: Card, parent: Card, asked: Sequence[str] = ()) -> str:
        return f"{pick(FOLLOW_UP_OPENERS, card.id, asked=asked)} **{card.title}**"

    def probe(self, card: Card, missed: KeyPoint, answer: str, asked: Sequence[str] = ()) -> str:
        """Aim at a missed key point without naming it: its category, in a frame that fits the
        question's kind and was not used yet, and a term from its explanation to connect to."""
        if not missed.category:
            return pick(PROBES_PLAIN, card.id, missed.keyword, asked=asked).format(title=card.title)
        frames = PROBE_FRAMES[question_kind(card.title)]
        spare = tuple(f for kind in PROBE_FRAMES.values() for f in kind if f not in frames)
        unused = [f for f in frames if not any(frame_of(f) in q for q in asked)]
        frame = pick(tuple(unused) if unused else spare, card.id, missed.keyword, asked=asked)
        text = frame.format(category=missed.category)
        anchor = anchor_term(missed.explanation, card.keywords + [missed.keyword], f"{card.title}\n{answer}")
        spare_anchors = tuple(a for a in PROBE_ANCHORS if not any(frame_of(a) in q for q in asked))
        if anchor is None or not spare_anchors:
            return text
        return text + pick(spare_anchors, card.id, missed.keyword).format(anchor=anchor)

    def feedback(self, card: Card, grade: Grade, answer: str) -> str | None:
        """Prose beside the verdict the presenter writes; the templates add none (the verdict line
        already says what was covered and what was missed)."""
        return None

    def closing(self, report: Report) -> str | None:
        """The closing line above the report of a finished session."""
        return "수고하셨습니다! 면접이 끝났습니다. 아래 결과를 확인해 보세요."
