"""Key points learned from the bank itself, for every keyword that has no curation.

A team's bank has only terse keywords ("순서 정보 주입", "exposure bias") whose meaning lives in the
reference answer and the notes. The automatic model of a keyword is built from those alone:
- its *concepts*: the keyword's content words (English words, Korean nouns, verb stems with their
  particles and endings dropped), each widened by the glossary's aliases;
- its *anchors*: the pieces of the reference answer and notes (sentences, and their comma-separated
  clauses) that share the most concepts with the keyword — what the grader compares answers with;
- whether it is a *name*: a keyword that names a method, not a claim, is covered by naming it.
No Kiwi, no e5: this runs when a bank loads, so it must be cheap and deterministic. The grader
matches the concepts against answers with Kiwi's lemmas (`text.Segment.lemmas`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interviewer.core.models import Card, KeyPoint
from interviewer.lang.patterns import (
    ASKS_FOR_METHODS,
    CONTENT_WORD,
    ENGLISH_PLURAL_END,
    METHOD_NAME_SHAPE,
    REFERENCE_CLAUSE_BREAK,
    REFERENCE_SENTENCE_BREAK,
)
from interviewer.lang.text import Glossary, squash
from interviewer.lang.words import CONTENT_STOPWORDS, PARTICLES

EMPHASIS = re.compile(r"\*\*|__|`")
MARKUP = re.compile(r"\$[^$]*\$|https?://\S+|!\[[^\]]*\]\([^)]*\)|^\s*(?:[-*+]|\d+\.)\s+|-->|->|→|<br\s*/?>")
MIN_UNIT_CHARS = 6


def plain(text: str) -> str:
    return " ".join(MARKUP.sub(" ", EMPHASIS.sub("", text)).split())


def reference_units(card: Card) -> list[str]:
    """Sentences of the reference answer and notes, and the clauses of each, markup removed. A
    reference that is one short term ("push") is its own unit: it is the whole answer, not a fragment."""
    units: list[str] = []
    short: list[str] = []
    for block in [card.answer, *card.notes]:
        for line in block.split("\n"):
            for sentence in REFERENCE_SENTENCE_BREAK.split(plain(line)):
                sentence = sentence.strip(" :-–")
                if len(squash(sentence)) < MIN_UNIT_CHARS:
                    short += [sentence] if squash(sentence) else []
                    continue
                units.append(sentence)
                clauses = [c.strip() for c in REFERENCE_CLAUSE_BREAK.split(sentence)
                           if len(squash(c)) >= MIN_UNIT_CHARS]
                if len(clauses) > 1:
                    units += clauses
    # Short pieces beside longer ones are fragments ("예:", "O(n)"); alone they are the answer.
    return list(dict.fromkeys(units or short))


def _final(syllable: str) -> int:
    """The final consonant index of a Hangul syllable (0: none), -1 for anything else."""
    code = ord(syllable) - 0xAC00
    return code % 28 if 0 <= code < 11172 else -1


def _stem(word: str) -> str:
    """A Korean word without its particle or ending; a nominalised verb back to its stem
    (줄임 → 줄이, 늘리기 → 늘리, but 기울기 stays)."""
    for particle in PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    if len(word) >= 3 and word.endswith("기") and _final(word[-2]) == 0:
        return word[:-1]
    if len(word) >= 2 and _final(word[-1]) == 16:  # final ㅁ: 줄임 → 줄이
        return word[:-1] + chr(ord(word[-1]) - 16)
    return word


def _base_form(word: str) -> str:
    """Korean without its particle, English without a plural or possessive s."""
    if word[0] >= "\uac00":
        return _stem(word)
    return ENGLISH_PLURAL_END.sub("", word) if len(word) > 4 else word


def _meaningful(word: str) -> bool:
    """Short lower-case Latin pieces ("co" of co-adaptation, "by") match everywhere; acronyms do not."""
    if word in PARTICLES:
        return False  # a particle glued to an English word: "feature의"
    return word.lower() not in CONTENT_STOPWORDS and bool(squash(word)) and (
        not word.isascii() or not word.isalpha() or len(word) >= 3 or word.isupper())


def content_words(text: str) -> list[str]:
    """The words of a keyword or sentence that carry meaning, particles and generic words dropped."""
    words = []
    for match in CONTENT_WORD.finditer(text):
        word = _base_form(match.group(0))
        if _meaningful(word):
            words.append(word)
    return list(dict.fromkeys(words))


def keyword_concepts(keyword: str, glossary: Glossary) -> list[list[str]]:
    """One concept per content word of the keyword: the word and its glossary aliases. A run of words
    that is itself a glossary term ("vanishing gradient", "기울기 소실") is one concept."""
    raw = keyword.replace("-", " ").replace("/", " ").split()
    concepts: list[list[str]] = []
    i = 0
    while i < len(raw):
        for j in range(len(raw), i, -1):
            phrase = " ".join(raw[i:j])
            group = glossary.group(phrase) or glossary.group(" ".join(content_words(phrase)))
            if group:
                concepts.append(list(dict.fromkeys([phrase if glossary.group(phrase) else " ".join(content_words(phrase)),
                                                    *group])))
                i = j
                break
        else:
            concepts += [[word, *glossary.group(word)] for word in content_words(raw[i])]
            i += 1
    if not concepts and content_words(keyword.replace("-", "")):
        concepts = [[keyword]]
    initials = acronym(keyword)
    # Naming the initials names every word of the keyword at once.
    return [concept + [initials] if initials and initials not in concept else concept for concept in concepts]


def acronym(name: str) -> str | None:
    """"Layer Normalization" is also "LN": the initials of a name whose words are all capitalised."""
    words = name.split()
    if 2 <= len(words) <= 5 and all(w[:1].isupper() and w.isascii() and w.isalpha() for w in words):
        return "".join(w[0] for w in words)
    return None


def mentions(concept: list[str], text_squashed: str) -> bool:
    """Does the text name the concept: one alternative whole, or every word of a multi-word one
    ("gradient가 … vanishing" for "vanishing gradient")?"""
    for alt in concept:
        key = squash(alt)
        if len(key) >= 2 and key in text_squashed:
            return True
        words = [squash(w) for w in alt.split()]
        if len(words) > 1 and all(len(w) >= 2 and w in text_squashed for w in words):
            return True
    return False


@dataclass(frozen=True)
class Anchoring:
    units: list[str]  # the reference pieces that explain the keyword, best first
    anchored: bool    # False: the keyword's words appear nowhere in the answer or notes


def anchor(keyword_concepts_: list[list[str]], units: list[str]) -> Anchoring:
    """The reference pieces sharing the most concepts with the keyword; the shortest of equals first
    (a clause says one thing, its sentence several)."""
    scored = [(sum(mentions(c, squash(u)) for c in keyword_concepts_), u) for u in units]
    best = max((s for s, _ in scored), default=0)
    if not best:
        return Anchoring([], False)
    chosen = sorted((u for s, u in scored if s == best), key=len)
    return Anchoring(chosen[:3], True)


def is_name(keyword: str, card: Card) -> bool:
    """A keyword that names a method ("Beam search", "He init") rather than stating a claim, in a
    question that asks for methods: Latin words only, and not the subject the question already
    names (that would credit any answer)."""
    if not METHOD_NAME_SHAPE.match(keyword.strip()) or len(keyword.split()) > 3:
        return False
    return bool(ASKS_FOR_METHODS.search(card.title)) and squash(keyword) not in squash(card.title)


def automatic_keypoint(card: Card, keyword: str, glossary: Glossary, units: list[str] | None = None) -> KeyPoint:
    """The key point of one seed keyword, modelled from the card alone."""
    units = reference_units(card) if units is None else units
    concepts = keyword_concepts(keyword, glossary)
    anchoring = anchor(concepts, units)
    explanation = anchoring.units[0] if anchoring.units else ""
    return KeyPoint(keyword=keyword, source="automatic", terms=concepts, explanation=explanation,
                    claims=anchoring.units[1:], named=is_name(keyword, card), anchored=anchoring.anchored)
