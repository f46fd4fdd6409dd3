"""How the interviewer words things: the contract, and the deterministic Korean templates.

The interview engine only talks to a `Voice`. `TemplateVoice` needs nothing; the LLM voice
(`interviewer.llm`) subclasses it and falls back to these templates whenever a call fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interviewer.models import Card, Grade, KeyPoint


@dataclass
class VoiceStats:
    backend: str = "none"
    model: str | None = None
    calls: int = 0
    failures: int = 0
    notices: list[str] = field(default_factory=list)

    def drain_notices(self) -> list[str]:
        """One-line notices for the chat (e.g. an LLM failure), each shown once."""
        notices, self.notices = self.notices, []
        return notices


class TemplateVoice:
    """No LLM: fixed Korean phrasings. Every method returns a complete, usable sentence."""

    def __init__(self) -> None:
        self.stats = VoiceStats()

    def ask(self, card: Card, number: int, total: int) -> str:
        return f"[{number}/{total}] {card.title}"

    def follow_up(self, card: Card, parent: Card) -> str:
        return f"꼬리 질문입니다. {card.title}"

    def probe(self, card: Card, missed: KeyPoint, answer: str) -> str:
        """Aim at a missed key point without naming it."""
        hint = f" ({missed.category} 관점에서)" if missed.category else ""
        return f"방금 답변에서 빠진 부분이 있는 것 같아요. '{card.title}'에 대해{hint} 한 가지 더 설명해 주시겠어요?"

    def feedback(self, card: Card, grade: Grade, answer: str) -> str | None:
        """Prose feedback beside the keyword table; the templates leave the table to speak."""
        return None

    def closing(self, summary: str) -> str | None:
        return None
