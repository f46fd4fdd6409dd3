"""`interviewer curate`: a reviewable curation draft of a bank's key points.

Without an LLM the draft is exactly the automatic model the grader uses (`keypoints.py`), written in
the curation schema so a team can read and edit it. With one, each card gets paraphrased claims in
Korean and English, aliases and typical wrong claims — each checked in code before it is written
(language, not the keyword, not a reference sentence verbatim, no markup) and the entry marked
`source: llm`. A card whose LLM reply fails keeps its automatic draft; the summary counts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from interviewer.bank.cards import Bank
from interviewer.bank.keypoints import reference_units
from interviewer.core.models import Card, KeyPoint
from interviewer.lang.text import squash

MARKUP = re.compile(r"```|^\s*#|[*_`<>|{}\[\]]", re.MULTILINE)
HANGUL = re.compile(r"[\uac00-\ud7a3]")
LATIN = re.compile(r"[A-Za-z]")
MAX_ITEM_CHARS = 200
MIN_ITEM_CHARS = 8
PER_KIND = {"claims_ko": 3, "claims_en": 3, "aliases": 4, "wrong": 2}


@dataclass
class DraftSummary:
    cards: int = 0
    keypoints: int = 0
    llm_cards: int = 0
    llm_failures: int = 0
    rejected_items: int = 0
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"초안: 카드 {self.cards}개, 키워드 {self.keypoints}개"
        if self.llm_cards or self.llm_failures:
            text += (f" · LLM 보강 {self.llm_cards}개 카드, 실패 {self.llm_failures}개 카드(자동 초안 유지), "
                     f"검사에서 버린 문장 {self.rejected_items}개")
        return text


def entry_of(kp: KeyPoint) -> dict:
    """A key point as a curation entry; empty fields left out, so the draft reads short."""
    entry: dict = {"keyword": kp.keyword}
    if kp.added:
        entry["curated"] = True
    for name in ("category", "explanation", "terms", "claims", "contradictions"):
        value = getattr(kp, name)
        if value:
            entry[name] = value
    if kp.named:
        entry["named"] = True
    if kp.source != "curated":
        entry["source"] = kp.source
    return entry


def draft_cards(bank: Bank, cards: list[Card], enrich=None, summary: DraftSummary | None = None) -> list[dict]:
    """`[{"card_id", "title", "topic", "keypoints"}]` for the cards that have key points."""
    summary = summary if summary is not None else DraftSummary()
    out = []
    for card in cards:
        if not card.keypoints:
            continue
        keypoints = list(card.keypoints)
        if enrich is not None and any(kp.learned for kp in keypoints):
            enriched = enrich(card)
            if enriched is None:
                summary.llm_failures += 1
                summary.failures.append(card.id)
            else:
                keypoints = [apply_suggestions(kp, enriched.get(kp.keyword), card, summary) if kp.learned else kp
                             for kp in keypoints]
                summary.llm_cards += 1
        summary.cards += 1
        summary.keypoints += len(keypoints)
        out.append({"card_id": card.id, "title": card.title, "topic": bank.topic_label(card.topic),
                    "keypoints": [entry_of(kp) for kp in keypoints]})
    return out


# --- checking what an LLM suggests ----------------------------------------------------------------

def acceptable(text: object, kind: str, kp: KeyPoint, references: set[str]) -> bool:
    """Is one suggested sentence or alias fit to be written for review?"""
    if not isinstance(text, str):
        return False
    text = text.strip()
    key = squash(text)
    if not key or MARKUP.search(text) or len(text) > MAX_ITEM_CHARS:
        return False
    if kind == "aliases":
        return key != squash(kp.keyword) and len(text.split()) <= 5
    if len(text) < MIN_ITEM_CHARS or key == squash(kp.keyword) or key in references:
        return False
    if kind == "claims_en":
        return not HANGUL.search(text) and len(LATIN.findall(text)) >= MIN_ITEM_CHARS
    return bool(HANGUL.search(text))  # Korean claims and typical wrong claims (Korean or mixed)


def apply_suggestions(kp: KeyPoint, suggestion: object, card: Card, summary: DraftSummary) -> KeyPoint:
    """The key point with the suggestions that pass the checks; each rejected one is counted."""
    if not isinstance(suggestion, dict):
        return kp
    references = {squash(unit) for unit in [*reference_units(card), card.answer]}
    kept: dict[str, list[str]] = {}
    for kind, limit in PER_KIND.items():
        items = suggestion.get(kind) or []
        items = items if isinstance(items, list) else []
        good = [item.strip() for item in items if acceptable(item, kind, kp, references)]
        summary.rejected_items += len(items) - len(good)
        kept[kind] = list(dict.fromkeys(good))[:limit]
    category = suggestion.get("category")
    hint = category.strip() if isinstance(category, str) else ""
    hint_ok = 0 < len(hint) <= 40 and not MARKUP.search(hint) and not any(
        squash(term) in squash(hint) for concept in kp.terms for term in concept if len(squash(term)) >= 2)
    terms = kp.terms + ([[kp.keyword, *kept["aliases"]]] if kept["aliases"] else [])
    return kp.model_copy(update={
        "claims": list(dict.fromkeys([*kp.claims, *kept["claims_ko"], *kept["claims_en"]])),
        "contradictions": list(dict.fromkeys([*kp.contradictions, *kept["wrong"]])),
        "terms": terms, "category": hint if hint_ok else kp.category,
        "source": "llm"})


def parse_suggestions(reply: str, keywords: list[str]) -> dict | None:
    """The JSON object of the reply, keyed by the card's keywords; None when it is not that."""
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not any(k in data for k in keywords):
        return None
    return {k: v for k, v in data.items() if k in keywords}


class LLMEnricher:
    """One LLM call per card, through the same client, prompts and fallbacks as the interviewer."""

    def __init__(self, client):
        self.client = client

    def __call__(self, card: Card) -> dict | None:
        from interviewer.llm import LLMFailure, render

        keywords = [kp.keyword for kp in card.keypoints if kp.learned]
        messages = render("curate", "task", title=card.title, reference=card.answer or "(없음)",
                          notes="\n".join(card.notes) or "(없음)",
                          keywords=json.dumps(keywords, ensure_ascii=False))
        try:
            reply = self.client.text(messages)
        except LLMFailure as failure:
            self.client.fail(failure)
            return None
        return parse_suggestions(reply, keywords)
