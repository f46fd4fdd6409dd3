"""What the wording needs to know about the bank's own text: a question's kind (what, why, how,
compare), a key point's readable label, an anchor term and a clue taken from the sentence that
explains a key point. The patterns are data, here and nowhere else; the sentences built from them
are the voice's and the presenter's.
"""

from __future__ import annotations

import re
from typing import Literal

from interviewer.core.models import KeyPoint

QuestionKind = Literal["what", "why", "how", "compare"]
# A question's kind from its wording, tried in this order ("Sigmoid 보다 ReLU … 이유는?" asks why).
QUESTION_KINDS: tuple[tuple[QuestionKind, re.Pattern[str]], ...] = (
    ("why", re.compile(r"이유|왜|필요")),
    ("compare", re.compile(r"차이|비교|보다|\bvs\.?\b|장단점", re.I)),
    ("how", re.compile(r"어떻게|방법|대처|노하우|주의할|적용해도|적어 본다면|근사")),
)
# "선형 to 비선형" reads as an arrow.
ARROW = re.compile(r"\s+to\s+", re.I)
# English terms in an explanation, as anchors for a probe ("node", "Learning rate").
ASCII_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[- ][A-Za-z][A-Za-z0-9]*)*")
# A keyword's word this long or longer is blanked in a clue; a Korean one also by its stem.
MIN_BLANK = 2
BLANK = "○"
CLUE_CHARS = 90  # a clue is at most this long, around its first blank


def question_kind(title: str) -> QuestionKind:
    for kind, pattern in QUESTION_KINDS:
        if pattern.search(title):
            return kind
    return "what"


def readable(keyword: str) -> str:
    """A seed keyword as people read it: spaces collapsed, `to` as an arrow, stray punctuation gone."""
    text = ARROW.sub(" → ", " ".join(keyword.split())).strip(" ,.;:")
    return text or keyword


def shown(kp: KeyPoint) -> str:
    """The key point as the chat and the report name it; JSON keeps `keyword` verbatim."""
    return kp.label or readable(kp.keyword)


def _words(keywords: list[str]) -> list[str]:
    words = {w for k in keywords for w in re.split(r"[\s/,()]+", k) if len(w) >= MIN_BLANK}
    return sorted(words, key=len, reverse=True)  # the longest first, so a word inside another stays whole


def anchor_term(explanation: str, keywords: list[str], avoid: str) -> str | None:
    """An English term of the explanation that names none of the keywords and is not in `avoid`
    (the question and the answer): something to connect the missing idea to."""
    words = {w.lower() for w in _words(keywords)}
    avoid = avoid.lower()
    for term in ASCII_TERM.findall(explanation):
        parts = {p.lower() for p in re.split(r"[- ]", term)}
        if len(term) >= 3 and not parts & words and term.lower() not in avoid:
            return term
    return None


def clue(explanation: str, keywords: list[str], focus: str) -> str | None:
    """The explanation with every keyword's words blanked (the card's keywords share sentences), cut
    around the first blank of `focus`; None when no word of `focus` could be blanked."""
    text, found = " ".join(explanation.split()), False
    focus_words = set(_words([focus]))
    first = -1
    for word in _words(keywords):
        stems = [word] + ([word[:-1]] if len(word) > MIN_BLANK and not word.isascii() else [])
        for stem in stems:
            pattern = re.compile(re.escape(stem), re.I)
            match = pattern.search(text)
            if match is None:
                continue
            if word in focus_words:
                found = True
                first = match.start() if first < 0 else min(first, match.start())
            text = pattern.sub(lambda m: BLANK * len(m.group(0)), text)
            break
    if not found:
        return None
    start = max(0, min(first - CLUE_CHARS // 3, len(text) - CLUE_CHARS))
    if start:  # begin at a word
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    piece = text[start:start + CLUE_CHARS].strip()
    return f"{'…' if start else ''}{piece}{'…' if start + CLUE_CHARS < len(text) else ''}"
