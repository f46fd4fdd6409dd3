"""The keyword grader: for every key point of a card, is it covered by the answer, and where?

Deterministic and offline. The verdict on each key point is learned (`crossencoder`, `verdict_layer`):
a cross-encoder reads the key point together with the answer, in windows of whole sentences of the
length it was trained on, and a verdict layer weighs what it read against what the clause analysis
below found; the evidence stays a clause of the answer.

The clause analysis: each answer is cut into clauses (Kiwi); each clause is matched against every key
point two ways:
- lexically: the key point's curated concept groups (`terms`, widened by glossary aliases) must all
  appear in the clause — e.g. {learning rate | 학습률 | lr} and {크 | too large | 발산};
- semantically: the clause embedding (e5 `query:`) against the key point's claims (e5 `passage:`),
  judged by its *margin* over the nearest claim of any other card, because raw e5 cosines are
  compressed (covered and missing key points both sit near 0.88).
A clause that matches but is negated ("드롭아웃은 효과가 없다"), or sits closer to a curated wrong
claim than to the right ones, reads as contradicting the key point. A bare list of terms caps the
grade at 1. Sentences addressed to the grader are set aside: never evidence, never obeyed.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from interviewer.bank.cards import Bank
from interviewer.bank.keypoints import content_words, reference_units
from interviewer.core.errors import UserError
from interviewer.core.models import Binding, Card, Grade, KeyPoint, KeyPointResult
from interviewer.core.verdicts import VERDICT_CREDIT, Method, Verdict
from interviewer.grading.crossencoder import GradingModel, keypoint_text
from interviewer.grading.verdict_layer import Signals
from interviewer.index.store import Store, keypoint_texts
from interviewer.lang.patterns import (
    ASIDE_PARTICLE,
    ASIDE_WORD,
    LIST_ITEM_SEPARATOR,
    NEGATIVE_KEYWORD_TERM,
    OBJECT_PARTICLE,
    REVERSAL,
    SHORT_ASCII_TERM,
    TOPIC_BREAK,
)
from interviewer.lang.text import (
    Glossary,
    Segment,
    addresses_the_grader,
    analyze_pieces,
    normalize,
    says_dont_know,
    segment_answer,
    sentence_pieces,
    squash,
)
from interviewer.lang.words import EXPLANATION_FILLER

# The longest answer the grader reads, for text handed to it directly (`grade`, `eval`, the API); an
# interview cuts answers much shorter first (interview.engine.MAX_ANSWER_CHARS), so never reaches it.
MAX_ANSWER_BYTES = 100_000
MAX_EMBEDDED_CLAUSES = 32  # sentences that share words with a key point, analysed and embedded
MAX_EMBED_CHARS = 300
# The model was trained on pairs of at most 160 tokens (training.train.MAX_PAIR_TOKENS); 200 characters
# of an answer are ~100 tokens of Korean (~50 of English), which leaves room for the key point's side.
WINDOW_CHARS = 200
MAX_WINDOWS = 12  # a 100 KB answer is not read to its end by the model; the clause analysis reads all of it
CONTEXT_CLAUSES = 3        # leading sentences used when none shares a word (for the grade's focus)
CLAIM_ROLES = ("keyword", "explanation", "claim")
MAX_SUPPORT_WORDS = 12  # words of a learned key point's reference pieces weighed beside its keyword
UNANCHORED_CLAIMS = 2  # reference pieces that stand in for the anchors of a keyword found nowhere in its card
MIN_OWN_WORDS = 2       # content words beyond the card's own keywords that make a clause an explanation

# Calibrated on tests/data/grading_dev.jsonl (see docs/grader.md "Grader accuracy"); margins are over
# the best claim of any other card, similarities are e5 cosines between clause and claim.
LEXICAL_MARGIN = -0.06     # a lexical hit still needs the clause to be about this card
SEMANTIC_MARGIN = 0.035    # covered on meaning alone: clearly nearer this key point than any other card
SEMANTIC_FLOOR = 0.86      # ...and close to one of its claims in absolute terms
PARTIAL_MARGIN = 0.015     # near the key point, but not enough to credit it
CONTRADICTION_LEAD = 0.02  # nearer a curated wrong claim than the right ones by this much
RELEVANT_MARGIN = -0.05    # a clause at most this much farther from the card than from others is on-topic
RELEVANT_FLOOR = 0.85      # ...and at least this close to one of its claims
HEDGED_GRADE = 2           # the best grade of an answer that says it is unsure
# Tuned on tests/data/grading_dev.jsonl: wrong credit costs a candidate's trust more than a missed one.
COVERED_PROBABILITY = 0.6
PARTIAL_PROBABILITY = 0.35  # a key point not credited with at least this chance of covered earns half
CREDITED = {"covered", "partial"}
GRADE_CEILING = {0: 0, 1: 40, 2: 60, 3: 99, 4: 100}  # the highest score each grade allows



@dataclass(frozen=True)
class Thresholds:
    """The margins a clause needs, for one kind of key point."""

    lexical_margin: float   # a lexical hit still needs the clause to be about this card
    semantic_margin: float  # covered on meaning alone: clearly nearer this key point than any other card
    semantic_floor: float   # ...and close to one of its claims in absolute terms
    partial_margin: float   # near the key point, but not enough to credit it
    lexical_share: float = 1.0  # learned key points: share of their word weight a lexical hit needs


CURATED = Thresholds(LEXICAL_MARGIN, SEMANTIC_MARGIN, SEMANTIC_FLOOR, PARTIAL_MARGIN)
# Learned key points (the bank's own words, no curated claims), tuned on tests/data/grading_dev.jsonl
# read without curation and on tests/data/team_dev.jsonl.
LEARNED = Thresholds(lexical_margin=-0.02, semantic_margin=0.04, semantic_floor=0.0, partial_margin=0.015,
                     lexical_share=0.1)


@dataclass(frozen=True)
class TermGroup:
    """Alternatives for one concept: long ones match inside squashed text, short ASCII as words."""

    squashed: tuple[str, ...]
    words: tuple[re.Pattern, ...]
    word_sets: tuple[tuple[str, ...], ...] = ()  # multi-word alternatives, word by word (learned key points)

    def hit(self, clause_squashed: str, clause_normalized: str) -> str | None:
        for alt in self.squashed:
            if alt in clause_squashed:
                return alt
        for pattern in self.words:
            if pattern.search(clause_normalized):
                return pattern.pattern
        return None

    def hit_segment(self, segment: Segment) -> bool:
        """Also by lemma, so a learned verb ("줄이") matches its conjugations ("줄여서", "줄인다"), and
        by words, so "gradient가 … vanishing" names "vanishing gradient"."""
        return (self.hit(segment.squashed, segment.normalized) is not None
                or any(alt in segment.lemmas for alt in self.squashed)
                or any(all(w in segment.squashed for w in words) for words in self.word_sets))


def build_term_groups(kp: KeyPoint, glossary: Glossary) -> list[TermGroup]:
    groups = []
    for group in kp.terms:
        alternatives: list[str] = []
        for term in group:
            for variant in [term, *glossary.group(term)]:
                if variant not in alternatives:
                    alternatives.append(variant)
        squashed, words = [], []
        for alt in alternatives:
            key = squash(alt)
            if not key:
                continue
            if SHORT_ASCII_TERM.match(key):
                words.append(re.compile(rf"(?<![a-z0-9]){re.escape(normalize(alt).strip())}(?![a-z])"))
            else:
                squashed.append(key)
        word_sets = tuple(tuple(squash(w) for w in alt.split()) for alt in alternatives
                          if len(alt.split()) > 1 and all(len(squash(w)) >= 3 for w in alt.split()))
        groups.append(TermGroup(tuple(squashed), tuple(words), word_sets if kp.learned else ()))
    return groups


def word_pattern(word: str) -> re.Pattern:
    """A word or phrase in normalised text: Latin words whole ("he" not in "the"), spaces and hyphens
    interchangeable ("define-by-run" = "define by run")."""
    parts = [re.escape(part) for part in re.split(r"[\s\-]+", normalize(word).strip()) if part]
    body = r"[\s\-]*".join(parts)
    lead = r"(?<![a-z0-9])" if parts and parts[0][0].isascii() and parts[0][0].isalnum() else ""
    tail = r"(?![a-z])" if parts and parts[-1][-1].isascii() and parts[-1][-1].isalnum() else ""
    return re.compile(lead + body + tail)


@dataclass(frozen=True)
class BindingModel:
    """A curated binding, compiled: what the claim is about, and the right and the wrong attributes."""

    about: tuple[re.Pattern, ...]
    says: tuple[re.Pattern, ...]
    wrong: tuple[re.Pattern, ...]
    other: tuple[re.Pattern, ...]

    @classmethod
    def of(cls, binding: Binding) -> BindingModel:
        return cls(*(tuple(word_pattern(w) for w in words)
                     for words in (binding.about, binding.says, binding.wrong, binding.other)))


def subject_spans(text: str, subjects: list[tuple[int, re.Pattern]]) -> list[tuple[int, str]]:
    """(subject index, what the clause says of it): from each mention of a subject to the next one, or
    back to the previous one when the mention is an object."""
    found = [(m.start(), m.end(), index) for index, pattern in subjects for m in pattern.finditer(text)]
    # "leaky relu" is one mention, not also one of "relu"
    found = [m for m in found if not any(o[0] <= m[0] and m[1] <= o[1] and o[1] - o[0] > m[1] - m[0] for o in found)]
    mentions = sorted(m for m in found if not ASIDE_PARTICLE.match(text[m[1]:]) and not ASIDE_WORD.search(text[:m[0]]))
    spans = []
    for k, (start, end, index) in enumerate(mentions):
        if OBJECT_PARTICLE.match(text[end:]):
            begin = max(mentions[k - 1][1] if k else 0, text.rfind(",", 0, start) + 1, text.rfind(";", 0, start) + 1)
            spans.append((index, text[begin:start]))
        else:
            span = text[end:mentions[k + 1][0] if k + 1 < len(mentions) else len(text)]
            topic = TOPIC_BREAK.search(span)
            spans.append((index, span[:topic.start()] if topic else span))
    return spans


@dataclass
class KeyPointModel:
    """What the grader keeps per key point: concept groups and claim embeddings."""

    keypoint: KeyPoint
    groups: list[TermGroup]
    claims: np.ndarray          # rows: keyword / explanation / claims, L2-normalised
    contradictions: np.ndarray  # rows: curated wrong claims
    negative_claims: bool       # the right claim itself negates the key point's words ("업데이트가 안 된다")
    # Learned key points: each group's weight (the keyword's own words first, then the anchors' words).
    weights: tuple[float, ...] = ()
    keyword_groups: int = 0
    bindings: tuple[BindingModel, ...] = ()
    subjects: tuple[re.Pattern, ...] = ()  # every binding subject of the card: where a claim's span ends

    def misattributed(self, segment: Segment) -> str | None:
        """What the clause says of this key point's subject when it is not the right claim: "wrong" for
        a swapped or false attribute ("Xavier 초기화는 ReLU용", "sigmoid에는 He를"), "other" for another
        idea altogether (momentum as a squared-gradient average). None when it says a right one or
        neither. Each subject's span ends where another subject or a new topic begins."""
        if not self.bindings:
            return None
        negated = [normalize(scope) for scope in segment.negations]
        for index, span in subject_spans(segment.normalized, list(enumerate(self.subjects))):
            for binding in self.bindings:
                if self.subjects[index] not in binding.about or any(p.search(span) for p in binding.says):
                    continue
                # "Xavier는 ReLU에 맞지 않다" denies the wrong attribute: the right claim put negatively
                for kind, patterns in (("wrong", binding.wrong), ("other", binding.other)):
                    if any(p.search(span) and not any(p.search(scope) for scope in negated) for p in patterns):
                        return kind
        return None

    def lexical_share(self, segment: Segment) -> float:
        """The share of the key point's word weight found in the clause."""
        hits = [g.hit_segment(segment) for g in self.groups]
        total = sum(self.weights)
        found = sum(w for w, hit in zip(self.weights, hits, strict=True) if hit)
        return found / total if total else 0.0

    def denied_in(self, segment: Segment) -> bool:
        """Does a negation of the clause govern this key point's own words? A negation elsewhere in the
        sentence ("…, so you don't have to tune the initialization") leaves it alone, and so does one
        that is the key point's own claim put negatively ("사람이 개입하지 않고"). For a learned key point
        only the keyword's words count: its reference words are as often said negatively as not. Nor can
        a negation deny a key point whose right claim is itself negative: there it is as often right."""
        if self.negative_claims:
            return False
        groups = self.groups[:self.keyword_groups] if self.keypoint.learned else self.groups
        for scope in segment.negations:
            squashed, normalized = squash(scope), normalize(scope)
            # "0으로 초기화하지 않고 Xavier 같은 초기화를 쓴다": what follows the denial affirms the point
            after = segment.text[segment.text.find(scope) + len(scope):]
            after_squashed, after_normalized = squash(after), normalize(after)
            hits = [(group, alt) for group in groups if (alt := group.hit(squashed, normalized)) is not None]
            # "they cannot co-adapt": the negation is one of the key point's own words, so it states the claim
            if any(NEGATIVE_KEYWORD_TERM.search(alt) for _, alt in hits):
                continue
            if any(group.hit(after_squashed, after_normalized) is None for group, _ in hits):
                return True
        return False


@dataclass
class ClauseEvidence:
    segment: Segment
    lexical: bool
    lexical_groups: int
    similarity: float
    margin: float
    contradiction: float
    explains: bool | None = None  # None: the clause explains when it has a predicate
    denied: bool = False  # a negation of the clause governs the key point's words
    swapped: bool = False  # the clause says a wrong attribute of the key point's subject (a binding)
    elsewhere: bool = False  # ...or another idea altogether: it cannot cover the key point

    @property
    def explanatory(self) -> bool:
        return self.segment.explanatory if self.explains is None else self.explains


class Grader:
    def __init__(self, bank: Bank, glossary: Glossary, store: Store, model: GradingModel):
        self.bank = bank
        self.glossary = glossary
        self.store = store
        self.model = model
        self._models: dict[str, list[KeyPointModel]] = {}
        self._lock = threading.Lock()
        self._df: Counter | None = None
        self._free_words: dict[str, frozenset[str]] = {}

    # --- public -------------------------------------------------------------------------

    def grade(self, card: Card, answer: str) -> Grade:
        reading = self.read(card, answer)
        if not reading.segments:
            return self._empty_grade(card, reading.notices)
        verdicts = self.model.verdicts(reading.signals)
        results = [final_verdict(signals, probabilities, nearest)
                   for signals, probabilities, nearest in zip(reading.signals, verdicts, reading.nearest, strict=True)]
        return self._compose(card, results, reading)

    def read(self, card: Card, answer: str) -> Reading:
        """Everything known of each key point before its verdict; no segments (and no signals) when
        nothing of the answer is left to read."""
        if not card.gradable:
            raise UserError(f"card {card.id!r} has no key points to grade against")
        answer, truncated = truncate_answer(answer)
        models = self._keypoint_models(card)
        all_pieces = sentence_pieces(answer)
        pieces = [piece for piece in all_pieces if not addresses_the_grader(piece[1])]
        notices = notices_on(truncated, set_aside=len(pieces) < len(all_pieces))
        segments = analyze_pieces(answer, select_pieces(pieces, models))
        if not segments:
            return Reading(answer, [], _stack([]), np.zeros(0, dtype=np.float32), [], [], notices)
        embeddings = embed_segments(segments)
        background = self._background_similarity(card, embeddings)
        judged = [self._judge(model, segments, embeddings, background, card) for model in models]
        model_read = self.model.read_windows([keypoint_text(card, kp) for kp in card.keypoints],
                                             windows([text for _, text in pieces]))
        signals = [Signals(analysis, probabilities, kp.learned)
                   for (analysis, _), probabilities, kp in zip(judged, model_read, card.keypoints, strict=True)]
        return Reading(answer, segments, embeddings, background, signals, [nearest for _, nearest in judged],
                       notices)

    # --- key point models ---------------------------------------------------------------

    def _keypoint_models(self, card: Card) -> list[KeyPointModel]:
        with self._lock:
            if card.id not in self._models:
                self._models[card.id] = self._build_models(card)
            return self._models[card.id]

    def _build_models(self, card: Card) -> list[KeyPointModel]:
        rows = self.store.keypoint_embeddings(card.id)
        # The grader only reads the index (`ingest`, `chat` and `serve` write it): texts that differ
        # from the bank's would grade against another curation.
        indexed = {(meta["kp_index"], meta["keyword"], meta["role"], text) for meta, text, _ in rows}
        wanted = {(index, kp.keyword, role, text) for index, kp in enumerate(card.keypoints)
                  for role, text in keypoint_texts(kp, self.glossary)}
        if indexed != wanted:
            raise UserError("the index is missing or out of date: run `interviewer ingest`")
        models = []
        for index, kp in enumerate(card.keypoints):
            mine = [(meta["role"], np.asarray(emb, dtype=np.float32)) for meta, _, emb in rows
                    if meta["kp_index"] == index and meta["keyword"] == kp.keyword]
            claims = [emb for role, emb in mine if role in CLAIM_ROLES]
            wrong = [emb for role, emb in mine if role == "contradiction"]
            if kp.learned and not kp.anchored and claims:
                kp = self._anchor_by_meaning(card, kp, claims[0])
                claims = [*claims, *self._passages([kp.explanation, *kp.claims])]
            if kp.learned:
                groups, weights = self._learned_groups(card, kp)
                models.append(KeyPointModel(kp, groups, _stack(claims), _stack(wrong), False, weights, len(kp.terms)))
            else:
                models.append(KeyPointModel(kp, build_term_groups(kp, self.glossary), _stack(claims),
                                            _stack(wrong), False))
        for model in models:
            model.negative_claims = claims_are_negated(model)
        return with_bindings(models)

    def _anchor_by_meaning(self, card: Card, kp: KeyPoint, keyword_vector: np.ndarray) -> KeyPoint:
        """A keyword whose words appear nowhere in its card ("sinusoidal" for an answer about sin/cos):
        the reference pieces nearest its meaning stand in for the anchors."""
        units = reference_units(card)
        if not units:
            return kp
        similarity = self._passages(units) @ keyword_vector
        nearest = [units[i] for i in np.argsort(-similarity)[:UNANCHORED_CLAIMS]]
        return kp.model_copy(update={"explanation": nearest[0], "claims": nearest[1:]})

    @staticmethod
    def _passages(texts: list[str]) -> np.ndarray:
        from interviewer.index.embeddings import embed_passages

        return embed_passages(texts).astype(np.float32)

    def _learned_groups(self, card: Card, kp: KeyPoint) -> tuple[list[TermGroup], tuple[float, ...]]:
        """The keyword's concepts, then the words of the reference pieces that explain it (not those of
        the question itself, which every answer repeats), each weighted by how rare it is in the bank."""
        seen = {squash(alt) for concept in kp.terms for alt in concept}
        seen |= {squash(w) for w in content_words(card.title)}
        support: list[list[str]] = []
        for word in content_words(" ".join([kp.explanation, *kp.claims])):
            key = squash(word)
            if len(key) >= 2 and key not in seen:
                seen.add(key)
                support.append([word])
        support = support[:MAX_SUPPORT_WORDS]
        groups = build_term_groups(kp.model_copy(update={"terms": [*kp.terms, *support]}), self.glossary)
        weights = [2 * self._rarity(concept) for concept in kp.terms] + [self._rarity(w) for w in support]
        return groups, tuple(weights)

    def _rarity(self, alternatives: list[str]) -> float:
        """Inverse document frequency over the bank's cards: a word every card uses says little."""
        frequency = self._word_frequency()
        df = max((frequency.get(squash(alt), 0) for alt in alternatives), default=0)
        return min(3.0, max(0.3, math.log((len(self.bank.cards) + 1) / (df + 1)) + 0.5))

    def _word_frequency(self) -> Counter:
        """Built once, under the models' lock (only `_build_models` asks for it)."""
        if self._df is None:
            self._df = Counter(key for card in self.bank.cards for key in {
                squash(w) for w in content_words(" ".join([card.title, card.answer, *card.notes]))})
        return self._df

    def _background_similarity(self, card: Card, embeddings: np.ndarray) -> np.ndarray:
        """Per clause: the best similarity to any key-point text of another card."""
        own = sum(len(m.claims) + len(m.contradictions) for m in self._keypoint_models(card))
        return self.store.nearest_elsewhere(card.id, embeddings, own_rows=own)

    # --- judging ------------------------------------------------------------------------

    def _explains(self, segment: Segment, model: KeyPointModel, card: Card) -> bool:
        """Does the clause say something of its own about a learned key point? Not when it only names
        the card's keywords ("LN은 Layer Normalization의 줄임말"), lists them, or gives up."""
        if says_dont_know(segment.text):
            return False
        named = self._named_words(card)
        words: set[str] = set(segment.lemmas)
        if mentioned_in_list(segment, model.groups[:model.keyword_groups]):
            # "… 있고 skip connection, residual learning, identity mapping": only what is said
            # beside the list can explain
            words = {squash(w) for item in LIST_ITEM_SEPARATOR.split(segment.text) if len(item.split()) > 3
                     for w in content_words(item)}
        return len({key for key in words - named if len(key) >= 2}) >= MIN_OWN_WORDS

    def _named_words(self, card: Card) -> frozenset[str]:
        """Words an answer gets for free: the question's and every keyword's of the card, and filler."""
        cached = self._free_words.get(card.id)
        if cached is None:
            words = {squash(w) for w in content_words(card.title)} | EXPLANATION_FILLER
            for kp in card.keypoints:
                words |= {squash(alt) for concept in kp.terms for alt in concept}
                words |= {squash(w) for concept in kp.terms for alt in concept for w in content_words(alt)}
            cached = self._free_words[card.id] = frozenset(words)
        return cached

    def _judge(self, model: KeyPointModel, segments: list[Segment], embeddings: np.ndarray,
               background: np.ndarray, card: Card) -> tuple[KeyPointResult, str]:
        """The clause analysis' verdict, and the clause nearest the key point (evidence for a verdict
        the analysis did not reach)."""
        kp = model.keypoint
        similarity = _max_sim(embeddings, model.claims)
        contradiction = _max_sim(embeddings, model.contradictions)
        evidence = []
        for i, segment in enumerate(segments):
            explains, negation = None, model.denied_in(segment)
            if kp.learned:
                lexical = model.lexical_share(segment) >= LEARNED.lexical_share
                n_hit = 1  # a learned key point's semantic path needs none of its words
                explains = segment.explanatory and self._explains(segment, model, card)
            else:
                n_hit = sum(g.hit_segment(segment) for g in model.groups)
                lexical = bool(model.groups) and n_hit == len(model.groups)
            evidence.append(ClauseEvidence(segment, lexical, n_hit, float(similarity[i]),
                                           float(similarity[i] - background[i]), float(contradiction[i]), explains,
                                           negation, *misattribution(model.misattributed(segment))))
        nearest = max(evidence, key=lambda ev: ev.margin).segment.text
        return decide(kp, evidence, thresholds=LEARNED if kp.learned else CURATED), nearest

    def _compose(self, card: Card, results: list[KeyPointResult], reading: Reading) -> Grade:
        tally = Tally.of(results)
        explanatory = any(s.explanatory for s in reading.segments)
        relevance = self._relevance(card, reading.embeddings, reading.background)
        grade = holistic_grade(tally.coverage, tally.contradicted, tally.n, explanatory, relevance,
                               says_dont_know(reading.answer))
        notices = list(reading.notices)
        if not explanatory and tally.score > GRADE_CEILING[1]:
            notices.append("키워드만 나열된 답변이라 점수를 제한했습니다. 각 개념을 문장으로 설명해 보세요.")
        # score and grade never disagree: a hedged or bare-list answer is not a 100
        score = min(tally.score, GRADE_CEILING[grade])
        return Grade(card_id=card.id, score=score, grade=grade, keypoints=results, notices=notices)

    def _relevance(self, card: Card, embeddings: np.ndarray, background: np.ndarray) -> float:
        """How much nearer the answer is to this card's key points than to any other card's."""
        models = self._keypoint_models(card)
        claims = _stack([row for m in models for row in m.claims])
        if not len(claims):
            return 0.0
        similarity = _max_sim(embeddings, claims)
        on_topic = similarity >= RELEVANT_FLOOR
        return float(np.max((similarity - background)[on_topic])) if on_topic.any() else -1.0

    def _empty_grade(self, card: Card, notices: list[str]) -> Grade:
        results = [KeyPointResult(keyword=kp.keyword, verdict="missing", method=Method.NONE, added=kp.added)
                   for kp in card.keypoints]
        return Grade(card_id=card.id, score=0, grade=0, keypoints=results, notices=notices)


@dataclass
class Reading:
    """An answer as the grader read it, before the verdicts."""

    answer: str
    segments: list[Segment]
    embeddings: np.ndarray
    background: np.ndarray
    signals: list[Signals]       # per key point of the card, in its order
    nearest: list[str]           # per key point: the clause nearest it
    notices: list[str]


def final_verdict(signals: Signals, probabilities: dict[str, float], nearest: str) -> KeyPointResult:
    """Covered when the verdict layer is sure enough, else the likelier of contradicted and missing;
    `partial` for a missing one it half-credits. The evidence stays a clause of the answer: the
    analysis' own when it reached the same verdict."""
    analysis = signals.analysis
    verdict: Verdict
    if probabilities["covered"] >= COVERED_PROBABILITY:
        verdict = "covered"
    elif probabilities["contradicted"] > probabilities["missing"]:
        verdict = "contradicted"
    else:
        verdict = "partial" if probabilities["covered"] >= PARTIAL_PROBABILITY else "missing"
    same = analysis.evidence is not None and (analysis.verdict == verdict or {verdict, analysis.verdict} <= CREDITED)
    evidence = None if verdict == "missing" else analysis.evidence if same else nearest
    return KeyPointResult(keyword=analysis.keyword, verdict=verdict, evidence=evidence,
                          similarity=analysis.similarity, method=Method.MODEL, added=analysis.added)


@dataclass(frozen=True)
class Tally:
    """Verdicts counted over the seed key points (curated ones when the card has no seed keyword)."""

    coverage: float
    contradicted: int
    n: int

    @classmethod
    def of(cls, results: list[KeyPointResult]) -> Tally:
        counted = [r for r in results if not r.added] or results
        if not counted:
            return cls(0.0, 0, 0)
        return cls(sum(VERDICT_CREDIT[r.verdict] for r in counted) / len(counted),
                   sum(r.verdict == "contradicted" for r in counted), len(counted))

    @property
    def score(self) -> int:
        """0–100: coverage, less a quarter of a key point's share for each contradiction."""
        if not self.n:
            return 0
        return round(100 * max(0.0, self.coverage - 0.25 * self.contradicted / self.n))


def misattribution(kind: str | None) -> tuple[bool, bool]:
    """(swapped, elsewhere) of a clause, from what a binding found."""
    return kind == "wrong", kind == "other"


def with_bindings(models: list[KeyPointModel]) -> list[KeyPointModel]:
    """Compile each key point's bindings; every subject of the card bounds the spans of all of them."""
    compiled = [tuple(BindingModel.of(b) for b in m.keypoint.bindings) for m in models]
    subjects = tuple(dict.fromkeys(p for bindings in compiled for b in bindings for p in b.about))
    for model, bindings in zip(models, compiled, strict=True):
        model.bindings, model.subjects = bindings, subjects
    return models


def claims_are_negated(model: KeyPointModel) -> bool:
    """Is the key point's right claim itself said with a negation of its own words ("업데이트가 안 된다")?
    Then a negated clause is as often right as wrong."""
    return any(model.denied_in(segment) for claim in model.keypoint.claims for segment in segment_answer(claim))


def decide(kp: KeyPoint, evidence: list[ClauseEvidence], thresholds: Thresholds = CURATED) -> KeyPointResult:
    """The verdict for one key point from the evidence of every clause."""
    def result(verdict: Verdict, ev: ClauseEvidence | None, method: Method) -> KeyPointResult:
        return KeyPointResult(keyword=kp.keyword, verdict=verdict, evidence=ev.segment.text if ev else None,
                              similarity=round(ev.similarity, 4) if ev else None, method=method,
                              added=kp.added)

    t = thresholds

    def matched(ev: ClauseEvidence) -> Method | None:
        if ev.lexical and ev.margin >= t.lexical_margin:
            return Method.LEXICAL_SEMANTIC if ev.margin >= t.semantic_margin else Method.LEXICAL
        if ev.margin >= t.semantic_margin and ev.similarity >= t.semantic_floor and ev.lexical_groups > 0:
            return Method.SEMANTIC
        return None

    covering, contradicting, partial = [], [], []
    for ev in evidence:
        method = matched(ev)
        wrong_claim = _nearer_wrong_claim(ev)
        negated = ev.denied
        if ev.swapped:
            contradicting.append((ev, Method.BINDING))
        elif ev.elsewhere:
            continue
        elif method and (negated or wrong_claim):
            contradicting.append((ev, Method.NEGATION if negated else Method.CONTRADICTION_CLAIM))
        elif wrong_claim and ev.margin >= t.partial_margin:
            contradicting.append((ev, Method.CONTRADICTION_CLAIM))
        elif method and (ev.explanatory or kp.named):
            covering.append((ev, method))
        elif method or (ev.lexical_groups and ev.margin >= t.partial_margin):
            partial.append((ev, method or Method.PARTIAL))
    # "X가 아니라 Y": a denied word-for-word mention outweighs a merely similar clause elsewhere; when
    # an answer both states a point and denies it in so many words, its last word on it counts.
    denied = [pair for pair in contradicting if pair[0].lexical or pair[0].swapped]
    if denied and covering and last_start(denied) > last_start(covering):
        covering = []
    if covering and not (denied and all(method == Method.SEMANTIC for _, method in covering)):
        ev, method = max(covering, key=lambda pair: pair[0].margin)
        return result("covered", ev, method)
    contradicting = denied or contradicting
    if contradicting:
        ev, method = max(contradicting, key=lambda pair: pair[0].margin)
        return result("contradicted", ev, method)
    if partial:
        ev, method = max(partial, key=lambda pair: pair[0].margin)
        return result("partial", ev, method)
    best = max(evidence, key=lambda e: e.margin, default=None)
    return KeyPointResult(keyword=kp.keyword, verdict="missing", evidence=None,
                          similarity=round(best.similarity, 4) if best else None, method=Method.NONE,
                          added=kp.added)


def last_start(pairs: list[tuple[ClauseEvidence, Method]]) -> int:
    return max(ev.segment.start for ev, _ in pairs)


def _nearer_wrong_claim(ev: ClauseEvidence) -> bool:
    """Is the clause a curated wrong claim rather than the right one? A clause using the key point's own
    words counts only when it also carries a reversal word, and then needs no lead."""
    if not ev.lexical_groups:
        return False
    if ev.lexical:
        return bool(REVERSAL.search(ev.segment.text)) and ev.contradiction >= ev.similarity
    return ev.contradiction >= ev.similarity + CONTRADICTION_LEAD


def holistic_grade(coverage: float, contradicted: int, n_keypoints: int, explanatory: bool,
                   relevance: float, dont_know: bool) -> int:
    """0 nothing relevant … 4 complete and correct, from the verdicts and the answer's focus."""
    if coverage == 0:
        return 1 if contradicted or (relevance >= RELEVANT_MARGIN and not dont_know) else 0
    if not explanatory:
        return 1
    if coverage >= 0.999 and not contradicted:
        grade = 4
    elif coverage >= 0.6:
        grade = 3
    else:
        grade = 2
    # "잘 모르겠는데… 아마 X 같아요": the guess is credited, but a candidate unsure of it is not a 3 or 4
    return max(1, min(grade, HEDGED_GRADE if dont_know else 4) - contradicted)


def select_pieces(pieces: list[tuple[int, str]], models: list[KeyPointModel]) -> list[tuple[int, str]]:
    """The sentences worth analysing and embedding. Every verdict needs at least one concept word of
    its key point in the clause, so sentences without any cannot change a verdict; long answers stay fast."""
    def word_hits(text: str) -> int:
        squashed, normalized = squash(text), normalize(text)
        return sum(group.hit(squashed, normalized) is not None for model in models for group in model.groups)

    pieces = [(offset, text) for offset, text in pieces if text.strip()]
    scored = sorted(((word_hits(text), i) for i, (_, text) in enumerate(pieces)), reverse=True)
    chosen = sorted(i for hits, i in scored[:MAX_EMBEDDED_CLAUSES] if hits)
    if not chosen:
        chosen = list(range(min(CONTEXT_CLAUSES, len(pieces))))
    return [pieces[i] for i in chosen]


def mentioned_in_list(segment: Segment, groups: list[TermGroup]) -> bool:
    """Is a keyword only an item of a list inside the clause ("…가 있고 skip connection, residual learning,
    identity mapping")? Items of three words or fewer, three items or more."""
    items = [item for item in LIST_ITEM_SEPARATOR.split(segment.text) if item.strip()]
    if len(items) < 3:
        return False
    for item in items:
        squashed, normalized = squash(item), normalize(item)
        if len(item.split()) <= 3 and any(g.hit(squashed, normalized) for g in groups):
            return True
    return False


def windows(sentences: list[str], size: int = WINDOW_CHARS) -> list[str]:
    """The answer in consecutive runs of whole sentences of at most `size` characters (a longer sentence
    is its own window, cut at `size`): the lengths the model was trained on."""
    runs: list[str] = []
    for sentence in (s.strip() for s in sentences):
        if not sentence:
            continue
        if runs and len(runs[-1]) + 1 + len(sentence) <= size:
            runs[-1] += " " + sentence
        else:
            runs.append(sentence[:size])
    return runs[:MAX_WINDOWS] or [""]


def notices_on(truncated: bool, set_aside: bool) -> list[str]:
    """What the candidate is told about how the answer was read: cut short, or sentences set aside."""
    notices = []
    if truncated:
        notices.append(f"답변이 {MAX_ANSWER_BYTES // 1000} KB를 넘어 앞부분만 채점했습니다.")
    if set_aside:
        notices.append("채점에 대한 지시로 보이는 문장은 답변 내용으로 보지 않았습니다.")
    return notices


def truncate_answer(answer: str) -> tuple[str, bool]:
    encoded = answer.encode("utf-8")
    if len(encoded) <= MAX_ANSWER_BYTES:
        return answer, False
    return encoded[:MAX_ANSWER_BYTES].decode("utf-8", errors="ignore"), True


def embed_segments(segments: list[Segment]) -> np.ndarray:
    from interviewer.index.embeddings import embed_queries

    # e5 reads 512 tokens at most; longer clauses would only cost tokenizer time
    return embed_queries([s.text[:MAX_EMBED_CHARS] for s in segments]).astype(np.float32)


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 384), dtype=np.float32)


def _max_sim(embeddings: np.ndarray, targets: np.ndarray) -> np.ndarray:
    if not len(targets):
        return np.full(len(embeddings), -1.0, dtype=np.float32)
    return (embeddings @ targets.T).max(axis=1)
