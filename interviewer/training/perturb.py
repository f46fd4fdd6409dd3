"""Programmatic hard negatives: a reference clause turned so that it says the opposite; and their
counterweight, the clause restated without a change of meaning.

A grader that matches words credits "Dropout은 과적합을 줄인다" and "Dropout은 과적합을 늘린다" alike; a
model learns the difference only from pairs that differ in that one word. These rules turn a reference
clause around (a predicate negated, a direction flipped, two entities swapped); the result is a
`contradicted` training pair for the key point the clause anchors. Each rule returns None when it does
not apply, so a clause it cannot turn yields no pair rather than a wrong one.

Turned clauses alone teach a shortcut: "nearly the reference, not quite" reads as contradicted, and
real answers are nearly the reference too. `restate` makes the same kind of small difference without
the turn (a spoken opening, another politeness level, an aside dropped, lower case): those stay `covered`.
"""

from __future__ import annotations

import re

# Korean predicates at the end of a clause and their negations, longest first.
KOREAN_NEGATIONS = [
    ("수 있습니다", "수 없습니다"), ("수 있다", "수 없다"), ("수 있음", "수 없음"),
    ("있습니다", "없습니다"), ("없습니다", "있습니다"), ("있다", "없다"), ("없다", "있다"),
    ("합니다", "하지 않습니다"), ("됩니다", "되지 않습니다"), ("줍니다", "주지 않습니다"),
    ("한다", "하지 않는다"), ("된다", "되지 않는다"), ("준다", "주지 않는다"), ("함", "하지 않음"),
    ("킨다", "키지 않는다"), ("킵니다", "키지 않습니다"), ("든다", "들지 않는다"), ("듭니다", "들지 않습니다"),
]
KOREAN_TAIL = re.compile(r"\s*[.!]?\s*$")
# English auxiliaries that take "not" (the first one in the clause is negated).
ENGLISH_NEGATIONS = [
    (r"\bcan\b", "cannot"), (r"\bis\b", "is not"), (r"\bare\b", "are not"), (r"\bwill\b", "will not"),
    (r"\bdoes\b", "does not"), (r"\bhas to\b", "does not have to"), (r"\bmust\b", "must not"),
    (r"\bshould\b", "should not"),
]
# Directions and antonyms; each pair turns both ways. Longer spellings are tried first, so "비선형"
# is never read as "선형".
ANTONYMS = [
    ("비선형", "선형"), ("불안정", "안정"), ("증가", "감소"), ("늘어나", "줄어들"), ("늘리", "줄이"), ("늘어", "줄어"),
    ("커지", "작아지"), ("커집", "작아집"), ("커져", "작아져"), ("높아", "낮아"), ("높은", "낮은"), ("높다", "낮다"), ("높습", "낮습"),
    ("큰", "작은"), ("크다", "작다"), ("크면", "작으면"), ("많은", "적은"), ("많아", "적어"), ("많이", "적게"),
    ("빠르", "느리"), ("빨라", "느려"), ("가까워", "멀어"), ("가깝", "멀"), ("상승", "하락"), ("최대화", "최소화"),
    ("최대", "최소"), ("강화", "약화"), ("과대", "과소"), ("과적합", "과소적합"), ("긴", "짧은"), ("길어", "짧아"),
    ("쉽", "어렵"), ("양수", "음수"),
    ("increases", "decreases"), ("increase", "decrease"), ("higher", "lower"), ("larger", "smaller"),
    ("faster", "slower"), ("maximize", "minimize"), ("maximizes", "minimizes"), ("before", "after"),
    ("positive", "negative"), ("overfitting", "underfitting"), ("more", "less"), ("high", "low"),
    ("large", "small"), ("wider", "narrower"), ("longer", "shorter"), ("always", "never"),
    ("reduces", "increases"), ("prevents", "causes"), ("easier", "harder"), ("upper", "lower"),
]
# A name worth swapping: capitalised words or ones with a digit ("BN", "L2", "Xavier", "ResNet"), a
# run of them taken whole ("Batch Normalization"), never one word of a term.
QUESTION_WORDS = {"what", "why", "how", "which", "when", "where", "who", "explain", "describe", "name", "give",
                  "is", "are", "does", "do", "can", "should", "compare", "define", "list", "in", "the", "a"}
NAME_WORD = r"(?=[A-Za-z0-9+#.-]*[A-Z0-9])[A-Za-z][A-Za-z0-9+#.-]*[A-Za-z0-9+#]"
LATIN_NAME = re.compile(rf"\b{NAME_WORD}(?:[ -]{NAME_WORD})*")


def negate(clause: str) -> str | None:
    """The clause with its final predicate (Korean) or its first auxiliary (English) negated."""
    body = KOREAN_TAIL.sub("", clause)
    for positive, negative in KOREAN_NEGATIONS:
        if body.endswith(positive):
            return body[: -len(positive)] + negative + clause[len(body):]
    for pattern, negative in ENGLISH_NEGATIONS:
        turned, count = re.subn(pattern, negative, clause, count=1)
        if count:
            return turned
    return None


def flip(clause: str) -> str | None:
    """The clause with one direction turned: the earliest antonym pair it uses, every occurrence of both
    words exchanged ("선형을 비선형으로" → "비선형을 선형으로", "크면 … 증가" → "작으면 … 증가")."""
    best: tuple[int, int, str, str] | None = None
    for a, b in ANTONYMS:
        for word in (a, b):
            match = re.search(_word_pattern(word), clause)
            # the earliest, then the longest: "비선형" before "선형" at the same place
            if match and (best is None or (match.start(), -len(word)) < (best[0], -best[1])):
                best = (match.start(), len(word), a, b)
    if best is None:
        return None
    _, _, a, b = best
    other = {a: b, b: a}
    words = sorted(other, key=len, reverse=True)
    return re.sub("|".join(_word_pattern(w) for w in words), lambda m: other[m.group(0)], clause)


def _word_pattern(word: str) -> str:
    return rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])" if word.isascii() else re.escape(word)


def swap(clause: str, names: list[str]) -> str | None:
    """Two of the card's names exchanged where the clause mentions both ("BN은 배치, LN은 샘플" →
    "LN은 배치, BN은 샘플")."""
    present = [n for n in names if re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", clause)]
    if len(present) < 2:
        return None
    a, b = present[0], present[1]
    token = "\x00"
    turned = re.sub(rf"(?<![A-Za-z0-9]){re.escape(a)}(?![A-Za-z0-9])", token, clause)
    turned = re.sub(rf"(?<![A-Za-z0-9]){re.escape(b)}(?![A-Za-z0-9])", a, turned)
    return turned.replace(token, b)


def card_names(title: str) -> list[str]:
    """The names a question sets side by side ("BN과 LN의 차이는?"), in order: what a swap exchanges."""
    return list(dict.fromkeys(m.group(0) for m in LATIN_NAME.finditer(title)
                              if len(m.group(0)) >= 2 and m.group(0).lower() not in QUESTION_WORDS))


KOREAN_OPENINGS = ("음, ", "제가 알기로는 ", "간단히 말하면 ", "그러니까 ", "제 생각에는 ")
ENGLISH_OPENINGS = ("Well, ", "I think ", "Basically, ", "In short, ", "As far as I know, ")
# Plain and polite endings of the same statement ("한다" = "합니다" = "해요"): each turns into the next.
REGISTERS = [("합니다", "해요"), ("한다", "합니다"), ("됩니다", "돼요"), ("된다", "됩니다"), ("있다", "있습니다"),
             ("없다", "없습니다"), ("이다", "입니다"), ("준다", "줍니다"), ("는다", "습니다")]
ASIDE = re.compile(r"\s*\([^()]*\)")
HANGUL = re.compile(r"[가-힣]")


def restate(clause: str, choice: int) -> str | None:
    """The clause said a little differently, its meaning untouched; `choice` picks the opening. None when
    nothing but the opening would change and the clause is too short to carry one."""
    korean = bool(HANGUL.search(clause))
    body = ASIDE.sub("", clause).strip()
    if korean:
        tail = KOREAN_TAIL.sub("", body)
        for plain, polite in REGISTERS:
            if tail.endswith(plain):
                body = tail[: -len(plain)] + polite + body[len(tail):]
                break
    else:
        body = body[:1].lower() + body[1:]
    openings = KOREAN_OPENINGS if korean else ENGLISH_OPENINGS
    restated = openings[choice % len(openings)] + body
    return restated if len(body.split()) >= 3 and restated != clause else None
