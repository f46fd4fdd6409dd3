"""Which questions an interview asks: the topic filter, the question pool, the seeded plan with due
review cards first, and the limits every shell shares.

The errors here are what a candidate reads when a choice cannot be planned; they name the valid
choices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from interviewer.bank.cards import CARD_PREFIX, Bank, valid_topics
from interviewer.core.errors import UserError
from interviewer.core.models import Card
from interviewer.history import progress
from interviewer.history.sqlite import History

MAX_QUESTIONS = 20  # main questions of one interview, in the app and the terminal alike
DEFAULT_QUESTIONS = 3
DEFAULT_MAX_FOLLOW_UPS = 2
FEEDBACK_MODES = ("immediate", "end")


@dataclass
class Options:
    n_questions: int = DEFAULT_QUESTIONS
    topics: str | list[str] = field(default_factory=list)
    seed: int | None = None
    feedback_mode: str = "immediate"
    max_follow_ups: int = DEFAULT_MAX_FOLLOW_UPS
    client: str = "api"
    review: bool = True  # start with the cards whose key points are due; the seed does not change this


def check_options(options: Options) -> None:
    if not 1 <= options.n_questions <= MAX_QUESTIONS:
        raise UserError(f"질문 수는 1에서 {MAX_QUESTIONS} 사이로 골라 주세요.")
    if options.feedback_mode not in FEEDBACK_MODES:
        raise UserError(f"피드백 방식은 {', '.join(FEEDBACK_MODES)} 중 하나여야 합니다.")
    if options.max_follow_ups < 0:
        raise UserError("꼬리 질문 수는 0 이상이어야 합니다.")


def parse_topics(topics: str | list[str] | None) -> list[str]:
    if topics is None:
        return []
    if isinstance(topics, str):
        topics = topics.split(",")
    return [t.strip() for t in topics if t and t.strip()]


def topics_in_use(bank: Bank) -> list[str]:
    """Topic tags that have a card to open an interview with: what a topic picker offers."""
    used = {c.topic for c in bank.cards if c.gradable and c.kind != "practice"}
    return [t for t in valid_topics(bank) if t in used]


def topic_choices(bank: Bank) -> str:
    return ", ".join(f"{t}({bank.topic_label(t)})" for t in valid_topics(bank))


@dataclass(frozen=True)
class Scope:
    """A topic filter read into its two namespaces: topic tags, and card ids. A name that is both
    (the tag `regularization` and the card `regularization`) is the tag; `card:ID` is always a card."""

    tags: frozenset[str]
    card_ids: tuple[str, ...]
    unknown: tuple[str, ...]

    @classmethod
    def of(cls, bank: Bank, topics: list[str]) -> Scope:
        known = set(valid_topics(bank))
        tags, card_ids, unknown = set(), [], []
        for name in topics:
            forced = name.startswith(CARD_PREFIX)
            if not forced and name in known:
                tags.add(name)
            elif name.removeprefix(CARD_PREFIX) in bank.by_id:
                card_ids.append(name.removeprefix(CARD_PREFIX))
            else:
                unknown.append(name)
        return cls(frozenset(tags), tuple(card_ids), tuple(unknown))

    @property
    def everything(self) -> bool:
        return not self.tags and not self.card_ids


def in_scope(bank: Bank, card: Card, topics: list[str]) -> bool:
    """May this card open a main question under the topic filter (topic tags or card ids)?"""
    scope = Scope.of(bank, topics)
    if card.id in scope.card_ids:
        return card.gradable
    return card.gradable and card.kind != "practice" and (scope.everything or card.topic in scope.tags)


def question_pool(bank: Bank, topics: list[str]) -> list[Card]:
    """Gradable cards to open a main question with. A `###` card joins only when its parent is not
    itself in the pool (otherwise it is reached as a follow-up)."""
    scope = Scope.of(bank, topics)
    by_id = [bank.by_id[t] for t in scope.card_ids]
    if scope.unknown:
        raise UserError(f"알 수 없는 주제: {', '.join(sorted(scope.unknown))}. 가능한 주제: {topic_choices(bank)}")
    for card in by_id:
        if not card.gradable:
            raise UserError(f"카드 {card.id!r}는 채점 기준(키워드)이 없어 면접 질문으로 쓸 수 없습니다.")
    matching = [c for c in bank.cards if in_scope(bank, c, topics)]
    mains = {c.id for c in matching if c.kind == "main"}
    pool = by_id + [c for c in matching if c.kind == "main" or c.parent_id not in mains]
    pool = list({c.id: c for c in pool}.values())
    if not pool:
        raise UserError(f"선택한 주제에 채점할 수 있는 질문이 없습니다: {', '.join(topics)}")
    return pool


def plan_questions(bank: Bank, topics: list[str], n: int, seed: int, review: list[str] | None = None) -> list[str]:
    """`review` cards first (in their order), then a seeded shuffle of the rest of the pool."""
    if n < 1:
        raise UserError("질문 수는 1 이상이어야 합니다.")
    pool = question_pool(bank, topics)
    random.Random(seed).shuffle(pool)
    first = list(review or [])[:n]
    return first + [c.id for c in pool if c.id not in first][:n - len(first)]


def due_for_review(history: History, bank: Bank, topics: list[str], learner: str,
                   learn_ahead: float = 0.0) -> list[str]:
    eligible = {c.id for c in bank.cards if in_scope(bank, c, topics)}
    return progress.review_cards(history, bank, learner, eligible, learn_ahead=learn_ahead)
