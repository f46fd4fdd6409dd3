"""Korean/English text normalisation and the glossary of term aliases."""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from interviewer.core.errors import BankError
from interviewer.lang.patterns import (
    ANSWER_PIECE,
    BARE_LIST_SEPARATOR,
    COLON_DEFINITION,
    CONTRAST_WORDS,
    DONT_KNOW_HEDGE,
    ENGLISH_CLAUSE_BREAK,
    ENGLISH_CONDITION,
    ENGLISH_NEGATION,
    ENGLISH_WORD,
    LIST_CLOSER,
    MEANS,
    NAMING,
    NOTATION,
    TO_THE_GRADER,
)
from interviewer.lang.words import (
    CAUSAL_ENDINGS,
    CLAUSE_PUNCT_TAGS,
    CONDITIONAL_ENDINGS,
    CONTENT_TAGS,
    CONTRAST_ENDINGS,
    DENIAL_CONNECTIVES,
    MEANING_MAX_NOUNS,
    NEGATING_ADVERBS,
    NOT_ONLY_PARTICLES,
    NOUN_TAGS,
    PREDICATE_TAGS,
    PURPOSE_ENDINGS,
    RELATING_TAGS,
)

# Cyrillic and Greek letters that look like Latin ones. The seed itself contains "Mасhine Leаrning"
# spelled with Cyrillic а/с, which would otherwise never match "machine learning".
_CONFUSABLES = str.maketrans({
    "а": "a", "с": "c", "е": "e", "о": "o", "р": "p", "х": "x", "у": "y", "і": "i", "ј": "j",
    "ѕ": "s", "һ": "h", "ԁ": "d", "ɡ": "g", "ո": "n", "ν": "v", "ο": "o", "α": "a",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Т": "T", "Х": "X", "Ү": "Y",
})
_SQUASH = re.compile(r"[\s\-_·./]+")


def normalize(text: str) -> str:
    """NFKC, Latin look-alikes folded, lower-cased: the form every matcher compares."""
    return unicodedata.normalize("NFKC", text).translate(_CONFUSABLES).lower()


def squash(text: str) -> str:
    """Normalised and without spaces or hyphens, so `learning rate` == `learning-rate` == `learningrate`."""
    return _SQUASH.sub("", normalize(text))


@dataclass
class Glossary:
    """Groups of spellings that mean the same term; the first of each group is canonical."""

    groups: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._group_of: dict[str, int] = {}
        for index, group in enumerate(self.groups):
            for term in group:
                self._group_of.setdefault(squash(term), index)

    @classmethod
    def load(cls, knowledge: Path) -> Glossary:
        path = knowledge / "glossary.yaml"
        if not path.exists():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise BankError(str(path), 0, f"unreadable glossary: {exc}".splitlines()[0]) from None
        groups = data.get("groups") if isinstance(data, dict) else None
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            raise BankError(str(path), 1, "glossary must have `groups:`, a list of lists of terms")
        return cls([[str(term) for term in group] for group in groups])

    def group(self, term: str) -> list[str]:
        index = self._group_of.get(squash(term))
        return self.groups[index] if index is not None else []

    def canonical(self, term: str) -> str:
        group = self.group(term)
        return group[0] if group else term

    def aliases_in(self, phrase: str) -> list[str]:
        """Aliases of the phrase itself, or of each glossary term it contains."""
        whole = self.group(phrase)
        if whole:
            return [t for t in whole if squash(t) != squash(phrase)]
        found: list[str] = []
        squashed = squash(phrase)
        for key, index in self._group_of.items():
            if len(key) >= (4 if key.isascii() else 2) and key in squashed:
                found += [t for t in self.groups[index] if squash(t) != key and t not in found]
        return found


# --- answer analysis (Kiwi) -----------------------------------------------------------------

_kiwi = None
_kiwi_lock = threading.Lock()

def _get_kiwi():
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            # The multi-word dictionary costs ~180 MB of resident memory and changes no grade.
            _kiwi = Kiwi(load_multi_dict=False)
        return _kiwi


@dataclass(frozen=True)
class Segment:
    """A clause of an answer: a literal span of it, with what the grader needs to know."""

    text: str
    start: int
    end: int
    # What each negation of the clause governs, as literal spans of it: "비선형으로 바꾸지는 않습니다" in
    # "…유지해야 하기 때문에 비선형으로 바꾸지는 않습니다", "you don't have to tune the initialization".
    negations: tuple[str, ...]
    explanatory: bool  # has a predicate (or is a real English clause), not a bare list of terms
    # Kiwi's lemmas of its content words, squashed ("줄여서" → "줄이"): how learned key points match verbs.
    lemmas: frozenset[str] = frozenset()
    # What key points are matched against: the clause without its parts that only talk about words
    # ("BN은 Batch Normalization의 약자이고", "2015년 Ioffe가 제안했고", "…라는 말도 있죠").
    content: str | None = None

    @property
    def negated(self) -> bool:
        return bool(self.negations)

    # Every key point of the card matches against these; computed once per clause, not per key point.
    @cached_property
    def normalized(self) -> str:
        return normalize(self.text if self.content is None else self.content)

    @cached_property
    def squashed(self) -> str:
        return _SQUASH.sub("", self.normalized)


def _conditional(tokens, index: int) -> bool:
    """Does the predicate at `index` end in a condition ('안 떨어지면')? Such a negation is a premise."""
    for tok in tokens[index + 1:]:
        if tok.tag.startswith("E"):
            return tok.form in CONDITIONAL_ENDINGS or tok.form in CAUSAL_ENDINGS
    return False


def _korean_negation(tokens, index: int) -> bool:
    """Is token `index` a negation of the clause, rather than a purpose ('않게'), 'without' ('없이')
    or a condition ('안 되면')?"""
    tok = tokens[index]
    if tok.tag in ("VX", "VA", "MAG", "VCN") and _conditional(tokens, index):
        return False
    nxt = tokens[index + 1] if index + 1 < len(tokens) else None
    if tok.tag == "VX" and tok.form == "않":
        return not (nxt and (nxt.form in PURPOSE_ENDINGS or nxt.tag == "ETM"))
    if tok.tag == "VA" and tok.form.endswith("없"):  # also "상관없", "필요없", "의미없"
        return not (nxt and (nxt.form == "이" or nxt.tag == "ETM"))
    if tok.tag == "MAG" and tok.form in NEGATING_ADVERBS:
        # "원점 안 지나는 데이터": a relative clause describes a noun, it denies nothing of the answer's
        ending = next((t for t in tokens[index + 1:] if t.tag.startswith("E")), None)
        return ending is None or ending.tag != "ETM"
    # "X가 아니라 Y": the clause is cut after 아니라, so this negates X only; "X뿐만 아니라 Y" adds Y.
    return tok.tag == "VCN" and not _not_only(tokens, index)


def _not_only(tokens, index: int) -> bool:
    return index >= 1 and tokens[index - 1].form in NOT_ONLY_PARTICLES


def _contrast_cuts(tokens) -> list[int]:
    """Ends of '~지만' / '~는데' connectives, and of '아니라' in 'X가 아니라 Y'."""
    def denial_end(i: int) -> bool:
        return (tokens[i].form in DENIAL_CONNECTIVES and i >= 1 and tokens[i - 1].tag == "VCN"
                and not _not_only(tokens, i - 1))

    return [tok.start + tok.len for i, tok in enumerate(tokens)
            if tok.tag == "EC" and (tok.form in CONTRAST_ENDINGS or denial_end(i))]


def _is_list(text: str) -> bool:
    items = [item for item in BARE_LIST_SEPARATOR.split(LIST_CLOSER.sub("", text)) if item.strip()]
    return len(items) >= 3 and all(len(i.split()) <= 3 for i in items)


def _is_explanatory(text: str, tokens) -> bool:
    if _is_list(text):
        return False
    # A formula or an arrow chain ("LR 과다 → overshoot → 발산") states a relation, as a predicate does.
    if any(t.tag in PREDICATE_TAGS for t in tokens):
        return True
    nouns = sum(t.tag in NOUN_TAGS for t in tokens)
    if nouns >= 3 and (any(t.tag in RELATING_TAGS for t in tokens) or COLON_DEFINITION.search(text)):
        return True
    return bool(NOTATION.search(text)) or len(ENGLISH_WORD.findall(text)) >= 5


# Where a negated Korean predicate's clause begins: a connective ending that closes the clause before it
# ("…유지해야", "…되니까", "…하고,"), "때문에", punctuation. Endings that join an auxiliary ("바꾸지 않",
# "해 주", "하고 있") belong to the negated predicate.
def _closes_clause(tokens, index: int) -> bool:
    tok = tokens[index]
    if tok.tag in CLAUSE_PUNCT_TAGS:
        return True
    if tok.tag == "JKB" and index >= 1 and tokens[index - 1].form == "때문":
        return True
    if tok.tag != "EC":
        return False
    following = next((t for t in tokens[index + 1:] if t.tag != "JX"), None)
    return not (following is not None and following.tag == "VX")


def _korean_scope(tokens, index: int, start: int, end: int) -> tuple[int, int]:
    """The negated predicate's clause: back to the ending that closes the clause before it, on to its
    own ending."""
    first = next((i + 1 for i in range(index - 1, -1, -1) if _closes_clause(tokens, i)), 0)
    last = next((i for i in range(index + 1, len(tokens)) if tokens[i].tag in ("EF", "SF", "ETM")
                 or _closes_clause(tokens, i)), len(tokens) - 1)
    scope_start = tokens[first].start if first < len(tokens) else start
    return max(start, scope_start), min(end, tokens[last].start + tokens[last].len)


def _english_scopes(text: str, start: int) -> list[tuple[int, int]]:
    """Each English negation governs its own clause: from the break before it to the break after."""
    masked = ENGLISH_CONDITION.sub(lambda m: " " * len(m.group(0)), text)
    breaks = [(m.start(), m.end()) for m in ENGLISH_CLAUSE_BREAK.finditer(text)]
    scopes = []
    for match in ENGLISH_NEGATION.finditer(masked):
        before = max((e for s, e in breaks if e <= match.start()), default=0)
        after = min((s for s, e in breaks if s >= match.end()), default=len(text))
        scopes.append((start + before, start + after))
    return scopes


def _names_only(text: str, tokens) -> bool:
    if NAMING.search(text):
        return True
    return bool(MEANS.search(text)) and sum(t.tag in NOUN_TAGS for t in tokens) <= MEANING_MAX_NOUNS


def _text_of(answer: str, tokens) -> str:
    return answer[tokens[0].start:tokens[-1].start + tokens[-1].len]


def _content_parts(answer: str, tokens) -> tuple[str | None, list]:
    """The clause without its naming parts (None: nothing to drop), and the tokens of what is kept."""
    cuts = [i for i in range(len(tokens)) if _closes_clause(tokens, i)]
    parts, first = [], 0
    for last in [*cuts, len(tokens) - 1]:
        # Items without a predicate ("Define and run, define by run이라는 말") join the part they lead to.
        part = tokens[first:last + 1]
        if part and (last == len(tokens) - 1 or any(t.tag in PREDICATE_TAGS for t in part)
                     or NAMING.search(_text_of(answer, part))):
            parts.append(part)
            first = last + 1
    kept, dropped = [], False
    for part in parts:
        text = _text_of(answer, part)
        if _names_only(text, part):
            dropped = True
        else:
            kept.append((text, part))
    if not dropped:
        return None, tokens
    return " | ".join(text for text, _ in kept), [t for _, part in kept for t in part]


def _negation_scopes(answer: str, start: int, end: int, tokens) -> tuple[str, ...]:
    text = answer[start:end]
    # A hedged guess ("… 아닐까요?") asks rather than denies.
    if text.rstrip().endswith("?"):
        return ()
    spans = [_korean_scope(tokens, i, start, end) for i in range(len(tokens)) if _korean_negation(tokens, i)]
    spans += _english_scopes(text, start)
    return tuple(dict.fromkeys(answer[s:e].strip() for s, e in spans if e > s))


def _split_contrast(sentence_text: str, offset: int, tokens) -> list[tuple[int, int, list]]:
    """Split a sentence at contrastive connectives ('~지만', 'but'), so negation stays in its clause."""
    cuts = _contrast_cuts(tokens)
    cuts += [offset + m.start() for m in CONTRAST_WORDS.finditer(sentence_text)]
    bounds = [offset, *sorted(c for c in set(cuts) if offset < c < offset + len(sentence_text)),
              offset + len(sentence_text)]
    pieces = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        pieces.append((start, end, [t for t in tokens if start <= t.start < end]))
    return pieces


MAX_PIECE_CHARS = 400


def _pieces(answer: str):
    """(offset, text) of sentence-sized pieces; run-on text is cut so Kiwi never sees a huge token."""
    for match in ANSWER_PIECE.finditer(answer):
        text, offset = match.group(0), match.start()
        while len(text) > MAX_PIECE_CHARS:
            cut = text.rfind(" ", MAX_PIECE_CHARS // 2, MAX_PIECE_CHARS)
            cut = cut if cut > 0 else MAX_PIECE_CHARS
            yield offset, text[:cut]
            text, offset = text[cut:], offset + cut
        yield offset, text


def sentence_pieces(answer: str) -> list[tuple[int, str]]:
    """Sentence-sized pieces of the answer with their offsets, cut by punctuation and lines only."""
    return list(_pieces(answer))


def segment_answer(answer: str) -> list[Segment]:
    """Clauses of the answer with negation and predicate flags; spans index into `answer`."""
    return analyze_pieces(answer, sentence_pieces(answer))


def analyze_pieces(answer: str, pieces: list[tuple[int, str]]) -> list[Segment]:
    """Kiwi over the given pieces of `answer`: sentences, contrastive clauses, negation, predicates."""
    segments = []
    kiwi = _get_kiwi()
    for line_start, line in pieces:
        for sent in kiwi.split_into_sents(line, return_tokens=True):
            tokens = [_Shifted(t, line_start) for t in sent.tokens]
            for start, end, toks in _split_contrast(sent.text, line_start + sent.start, tokens):
                text = answer[start:end]
                stripped = text.strip(" \t,;")
                if not stripped:
                    continue
                lead = len(text) - len(text.lstrip(" \t,;"))
                start, end = start + lead, start + lead + len(stripped)
                negations = _negation_scopes(answer, start, end, toks)
                content, kept = _content_parts(answer, toks) if toks else (None, toks)
                segments.append(Segment(stripped, start, end, negations, _is_explanatory(stripped, toks),
                                        _lemmas(kept), content))
    return segments


def _lemmas(tokens) -> frozenset[str]:
    """Content morphemes, and the compounds of adjacent nouns within one word ("연산"+"량")."""
    keys, compound, end = set(), "", -1
    for tok in tokens:
        if tok.tag in CONTENT_TAGS:
            keys.add(squash(tok.form))
        if tok.tag in NOUN_TAGS:
            compound = compound + tok.form if compound and tok.start == end else tok.form
            end = tok.start + tok.len
            keys.add(squash(compound))
        else:
            compound = ""
    keys.discard("")
    return frozenset(keys)


@dataclass(frozen=True)
class _Shifted:
    """A Kiwi token with its offset moved from the line into the whole answer."""

    form: str
    tag: str
    start: int
    len: int

    def __init__(self, token, base: int):
        object.__setattr__(self, "form", token.form)
        object.__setattr__(self, "tag", token.tag)
        object.__setattr__(self, "start", token.start + base)
        object.__setattr__(self, "len", token.len)


def addresses_the_grader(text: str) -> bool:
    return bool(TO_THE_GRADER.search(text))


def says_dont_know(answer: str) -> bool:
    return bool(DONT_KNOW_HEDGE.search(answer))
