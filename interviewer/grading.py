"""The keyword grader: for every key point of a card, is it covered by the answer, and where?

Deterministic and offline. Each answer is cut into clauses (Kiwi); each clause is matched against
every key point two ways:
- lexically: the key point's curated concept groups (`terms`, widened by glossary aliases) must all
  appear in the clause — e.g. {learning rate | 학습률 | lr} and {크 | too large | 발산};
- semantically: the clause embedding (e5 `query:`) against the key point's claims (e5 `passage:`),
  judged by its *margin* over the nearest claim of any other card, because raw e5 cosines are
  compressed (covered and missing key points both sit near 0.88).
A clause that matches but is negated ("드롭아웃은 효과가 없다"), or sits closer to a curated wrong
claim than to the right ones, makes the key point `contradicted`. A bare list of terms covers only
key points that are names (`named: true`) and caps the grade at 1. Sentences addressed to the grader
are set aside: never evidence, never obeyed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from interviewer.bank import Bank
from interviewer.errors import UserError
from interviewer.models import Card, Grade, KeyPoint, KeyPointResult
from interviewer.store import KEYPOINTS, Store, keypoint_texts
from interviewer.text import (
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
from interviewer.verdicts import VERDICT_CREDIT

MAX_ANSWER_BYTES = 100_000
MAX_EMBEDDED_CLAUSES = 32  # sentences that share words with a key point, analysed and embedded
MAX_EMBED_CHARS = 300
CONTEXT_CLAUSES = 3        # leading sentences used when none shares a word (for the grade's focus)
CLAIM_ROLES = ("keyword", "explanation", "claim")

# Calibrated on tests/data/grading_dev.jsonl (see README "Grader accuracy"); margins are over the
# best claim of any other card, similarities are e5 cosines between clause and claim.
LEXICAL_MARGIN = -0.06     # a lexical hit still needs the clause to be about this card
SEMANTIC_MARGIN = 0.035    # covered on meaning alone: clearly nearer this key point than any other card
SEMANTIC_FLOOR = 0.86      # ...and close to one of its claims in absolute terms
PARTIAL_MARGIN = 0.015     # near the key point, but not enough to credit it
CONTRADICTION_LEAD = 0.02  # nearer a curated wrong claim than the right ones by this much
RELEVANT_MARGIN = 0.0      # a clause at least this much nearer the card than others is on-topic
RELEVANT_FLOOR = 0.85      # ...and at least this close to one of its claims

SHORT_ASCII = re.compile(r"^[a-z0-9]{1,3}$")
# Words that turn a statement around ("오히려 심해진다", "makes it worse"). e5 barely separates a claim
# from its reversal, so a clause that matches a key point's words is only judged by its nearest
# wrong claim when it also carries such a word.
REVERSAL = re.compile(r"(?i)(오히려|심해|악화|나빠|효과가\s*없|필요\s*없|관계\s*없|상관\s*없|무관|반대로|"
                      r"\bworse\b|\bno effect\b|\buseless\b|\bopposite\b)")


@dataclass(frozen=True)
class TermGroup:
    """Alternatives for one concept: long ones match inside squashed text, short ASCII as words."""

    squashed: tuple[str, ...]
    words: tuple[re.Pattern, ...]

    def hit(self, clause_squashed: str, clause_normalized: str) -> str | None:
        for alt in self.squashed:
            if alt in clause_squashed:
                return alt
        for pattern in self.words:
            if pattern.search(clause_normalized):
                return pattern.pattern
        return None


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
            if SHORT_ASCII.match(key):
                words.append(re.compile(rf"(?<![a-z0-9]){re.escape(normalize(alt).strip())}(?![a-z])"))
            else:
                squashed.append(key)
        groups.append(TermGroup(tuple(squashed), tuple(words)))
    return groups


@dataclass
class KeyPointModel:
    """What the grader keeps per key point: concept groups and claim embeddings."""

    keypoint: KeyPoint
    groups: list[TermGroup]
    claims: np.ndarray          # rows: keyword / explanation / claims, L2-normalised
    contradictions: np.ndarray  # rows: curated wrong claims
    negative_claims: bool       # the right answer itself is phrased with a negation ("개입하지 않고")


@dataclass
class ClauseEvidence:
    segment: Segment
    lexical: bool
    lexical_groups: int
    similarity: float
    margin: float
    contradiction: float


class Grader:
    def __init__(self, bank: Bank, glossary: Glossary, store: Store):
        self.bank = bank
        self.glossary = glossary
        self.store = store
        self._models: dict[str, list[KeyPointModel]] = {}
        self._lock = threading.Lock()

    # --- public -------------------------------------------------------------------------

    def grade(self, card: Card, answer: str) -> Grade:
        if not card.gradable:
            raise UserError(f"card {card.id!r} has no key points to grade against")
        notices: list[str] = []
        answer, truncated = truncate_answer(answer)
        if truncated:
            notices.append(f"답변이 {MAX_ANSWER_BYTES // 1000} KB를 넘어 앞부분만 채점했습니다.")
        models = self._keypoint_models(card)
        all_pieces = sentence_pieces(answer)
        pieces = [piece for piece in all_pieces if not addresses_the_grader(piece[1])]
        if len(pieces) < len(all_pieces):
            notices.append("채점에 대한 지시로 보이는 문장은 답변 내용으로 보지 않았습니다.")
        segments = analyze_pieces(answer, select_pieces(pieces, models))
        if not segments:
            return self._empty_grade(card, notices)
        embeddings = embed_segments(segments)
        background = self._background_similarity(card, embeddings)
        results = [self._judge(model, segments, embeddings, background) for model in models]
        return self._compose(card, results, segments, embeddings, background, answer, notices)

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
            models.append(KeyPointModel(kp, build_term_groups(kp, self.glossary),
                                        _stack(claims), _stack(wrong), claims_are_negated(kp)))
        return models

    def _background_similarity(self, card: Card, embeddings: np.ndarray) -> np.ndarray:
        """Per clause: the best similarity to any key-point text of another card."""
        # Unfiltered and widened by the card's own rows, then dropped: a `$ne` filter makes Chroma
        # scan, ~20x slower at 10,000 cards (BENCHMARKS.md), for the same nearest neighbours.
        own = sum(len(m.claims) + len(m.contradictions) for m in self._keypoint_models(card))
        collection = self.store.collection(KEYPOINTS)
        result = collection.query(query_embeddings=embeddings, n_results=own + 6,
                                  include=["distances", "metadatas"])
        return np.array([max((1.0 - d for d, meta in zip(distances, metas, strict=True)
                               if meta["card_id"] != card.id), default=0.0)
                         for distances, metas in zip(result["distances"], result["metadatas"], strict=True)],
                        dtype=np.float32)

    # --- judging ------------------------------------------------------------------------

    def _judge(self, model: KeyPointModel, segments: list[Segment], embeddings: np.ndarray,
               background: np.ndarray) -> KeyPointResult:
        kp = model.keypoint
        similarity = _max_sim(embeddings, model.claims)
        contradiction = _max_sim(embeddings, model.contradictions)
        evidence = []
        for i, segment in enumerate(segments):
            n_hit = sum(g.hit(segment.squashed, segment.normalized) is not None for g in model.groups)
            evidence.append(ClauseEvidence(segment, bool(model.groups) and n_hit == len(model.groups), n_hit,
                                           float(similarity[i]), float(similarity[i] - background[i]),
                                           float(contradiction[i])))
        return decide(kp, evidence, negation_contradicts=not model.negative_claims)

    def _compose(self, card: Card, results: list[KeyPointResult], segments: list[Segment],
                 embeddings: np.ndarray, background: np.ndarray, answer: str,
                 notices: list[str]) -> Grade:
        tally = Tally.of(results)
        explanatory = any(s.explanatory for s in segments)
        relevance = self._relevance(card, embeddings, background)
        grade = holistic_grade(tally.coverage, tally.contradicted, tally.n, explanatory, relevance,
                               says_dont_know(answer))
        score = tally.score
        if not explanatory and score > 40:
            notices.append("키워드만 나열된 답변이라 점수를 제한했습니다. 각 개념을 문장으로 설명해 보세요.")
            score = 40
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
        results = [KeyPointResult(keyword=kp.keyword, verdict="missing", method="none", curated=kp.curated)
                   for kp in card.keypoints]
        return Grade(card_id=card.id, score=0, grade=0, keypoints=results, notices=notices)


@dataclass(frozen=True)
class Tally:
    """Verdicts counted over the seed key points (curated ones when the card has no seed keyword)."""

    coverage: float
    contradicted: int
    n: int

    @classmethod
    def of(cls, results: list[KeyPointResult]) -> Tally:
        counted = [r for r in results if not r.curated] or results
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


def claims_are_negated(kp: KeyPoint) -> bool:
    return any(segment.negated for claim in kp.claims for segment in segment_answer(claim))


def decide(kp: KeyPoint, evidence: list[ClauseEvidence], negation_contradicts: bool = True) -> KeyPointResult:
    """The verdict for one key point from the evidence of every clause."""
    def result(verdict: str, ev: ClauseEvidence | None, method: str) -> KeyPointResult:
        return KeyPointResult(keyword=kp.keyword, verdict=verdict, evidence=ev.segment.text if ev else None,
                              similarity=round(ev.similarity, 4) if ev else None, method=method,
                              curated=kp.curated)

    def matched(ev: ClauseEvidence) -> str | None:
        if ev.lexical and ev.margin >= LEXICAL_MARGIN:
            return "lexical+semantic" if ev.margin >= SEMANTIC_MARGIN else "lexical"
        if ev.margin >= SEMANTIC_MARGIN and ev.similarity >= SEMANTIC_FLOOR and ev.lexical_groups > 0:
            return "semantic"
        return None

    covering, contradicting, partial = [], [], []
    for ev in evidence:
        method = matched(ev)
        wrong_claim = _nearer_wrong_claim(ev)
        negated = ev.segment.negated and negation_contradicts
        if method and (negated or wrong_claim):
            contradicting.append((ev, "negation" if negated else "contradiction-claim"))
        elif wrong_claim and ev.margin >= PARTIAL_MARGIN:
            contradicting.append((ev, "contradiction-claim"))
        elif method and (ev.segment.explanatory or kp.named):
            covering.append((ev, method))
        elif method or (ev.lexical_groups and ev.margin >= PARTIAL_MARGIN):
            partial.append((ev, method or "partial"))
    # "X가 아니라 Y": a denied word-for-word mention outweighs a merely similar clause elsewhere.
    denied = [pair for pair in contradicting if pair[0].lexical]
    if covering and not (denied and all(method == "semantic" for _, method in covering)):
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
                          similarity=round(best.similarity, 4) if best else None, method="none",
                          curated=kp.curated)


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
    return max(1, grade - contradicted)


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


def truncate_answer(answer: str) -> tuple[str, bool]:
    encoded = answer.encode("utf-8")
    if len(encoded) <= MAX_ANSWER_BYTES:
        return answer, False
    return encoded[:MAX_ANSWER_BYTES].decode("utf-8", errors="ignore"), True


def embed_segments(segments: list[Segment]) -> np.ndarray:
    from interviewer.embeddings import embed_queries

    # e5 reads 512 tokens at most; longer clauses would only cost tokenizer time
    return embed_queries([s.text[:MAX_EMBED_CHARS] for s in segments]).astype(np.float32)


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 384), dtype=np.float32)


def _max_sim(embeddings: np.ndarray, targets: np.ndarray) -> np.ndarray:
    if not len(targets):
        return np.full(len(embeddings), -1.0, dtype=np.float32)
    return (embeddings @ targets.T).max(axis=1)
