"""Progress across sessions: each key point an FSRS card (the `fsrs` package, what Anki ships), and
which cards are due for review.

A graded key point is one FSRS review: missing or contradicted is Again, partial Hard, covered Good,
and covered in the card's first answer with no hint Easy. FSRS turns the ratings into the key
point's stability, difficulty and due date. `record` runs inside the transaction that stores the
graded turn. Within one session only a card's final verdict counts: a probe that re-grades the card
revises the review the main answer made (from the card as it was before the session) instead of
taking a second one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from interviewer.bank.cards import Bank
from interviewer.core.models import Grade
from interviewer.core.records import KeywordState, now, stamp
from interviewer.core.scores import average, final_results
from interviewer.core.verdicts import MISSED, VERDICT_RANK
from interviewer.history.sqlite import History, Tx

DEFAULT_RETENTION = 0.9
LEARNING = (State.Learning, State.Relearning)  # the states whose short steps learn-ahead may bring forward
STATE_NAMES = {State.Learning: "learning", State.Review: "review", State.Relearning: "relearning"}


def scheduler(desired_retention: float = DEFAULT_RETENTION) -> Scheduler:
    """FSRS with its default weights and Anki's learning steps; no fuzz, so a due date follows
    from the ratings and their times alone."""
    return Scheduler(desired_retention=desired_retention, enable_fuzzing=False)


def learner_of(client: str) -> str:
    """Whose progress a session moves: the login behind --auth, else the one local user ('')."""
    kind, _, login = client.partition(":")
    return login if kind == "app" else ""


def rating(verdict: str, easy: bool = False) -> Rating:
    """The FSRS rating of a verdict; `easy`: covered in the first answer without a hint."""
    if verdict in MISSED:
        return Rating.Again
    if verdict == "partial":
        return Rating.Hard
    return Rating.Easy if easy else Rating.Good


def fsrs_card(state: KeywordState) -> FsrsCard:
    return FsrsCard(card_id=0, state=State(state.state), step=state.step, stability=state.stability,
                    difficulty=state.difficulty, due=datetime.fromisoformat(state.due_at),
                    last_review=datetime.fromisoformat(state.last_review) if state.last_review else None)


def _card_json(card: FsrsCard) -> str:
    return json.dumps({k: v for k, v in card.to_dict().items() if k != "card_id"})


def _card_from_json(text: str) -> FsrsCard:
    data = json.loads(text)
    return FsrsCard.from_dict({"card_id": 0, "state": data["state"], "step": data["step"],
                               "stability": data["stability"], "difficulty": data["difficulty"],
                               "due": data["due"], "last_review": data["last_review"]})


def schedule(sched: Scheduler, old: KeywordState | None, learner: str, card_id: str, keyword: str,
             verdict: str, session_id: str, at: str, easy: bool = False, evidence: str | None = None) -> KeywordState:
    """The key point's state after being graded `verdict` at `at` in `session_id`."""
    before: FsrsCard | None
    if old is None:
        asked, covered, before = 0, 0, None
    elif old.session_id == session_id:  # graded again in the same session: replace that review
        asked, covered = old.asked - 1, old.covered - (old.last_verdict == "covered")
        before = _card_from_json(old.prev_card) if old.prev_card else None
    else:
        asked, covered, before = old.asked, old.covered, fsrs_card(old)
    moment = datetime.fromisoformat(at)
    card = before or FsrsCard(card_id=0, due=moment)
    after, _ = sched.review_card(card, rating(verdict, easy), review_datetime=moment)
    best_evidence, best_verdict = (old.best_evidence, old.best_verdict) if old else (None, None)
    if evidence and verdict in ("covered", "partial") and \
            VERDICT_RANK[verdict] >= VERDICT_RANK.get(best_verdict or "missing", 0):
        best_evidence, best_verdict = evidence, verdict
    return KeywordState(learner=learner, card_id=card_id, keyword=keyword, asked=asked + 1,
                        covered=covered + (verdict == "covered"), last_verdict=verdict, last_seen=at,
                        due_at=stamp(after.due), session_id=session_id, state=int(after.state), step=after.step,
                        stability=after.stability, difficulty=after.difficulty,
                        last_review=stamp(after.last_review) if after.last_review else None,
                        prev_card=_card_json(before) if before else None,
                        best_evidence=best_evidence, best_verdict=best_verdict)


def record(tx: Tx, sched: Scheduler, learner: str, session_id: str, grade: Grade, at: str,
           easy: frozenset[str] = frozenset()) -> None:
    """Review every key point of the graded card; part of the turn's transaction. `easy`: the key
    points covered in the card's first answer with no hint."""
    old = tx.keyword_states(learner, grade.card_id)
    for kp in grade.keypoints:
        tx.save_keyword_state(schedule(sched, old.get(kp.keyword), learner, grade.card_id, kp.keyword,
                                       kp.verdict, session_id, at, easy=kp.keyword in easy,
                                       evidence=kp.evidence))


def review_cards(history: History, bank: Bank, learner: str, eligible: set[str],
                 at: str | None = None, learn_ahead: float = 0.0) -> list[str]:
    """Eligible cards with a key point due, the most overdue first. A key point still in FSRS's
    learning or relearning steps counts as due when it falls due within `learn_ahead` minutes, as in
    Anki: a card missed a minute ago is what the very next interview should ask."""
    moment = at or now()
    ahead = stamp(datetime.fromisoformat(moment) + timedelta(minutes=learn_ahead))
    rank: dict[str, str] = {}
    for k in history.keyword_progress(learner, due_by=max(moment, ahead)):
        card = bank.by_id.get(k.card_id)
        if k.card_id not in eligible or card is None or k.keyword not in {kp.keyword for kp in card.keypoints}:
            continue  # out of the topic filter, or curation changed since
        if k.due_at > moment and State(k.state) not in LEARNING:
            continue  # a review card is due on its day, never ahead of it
        rank[k.card_id] = min(rank.get(k.card_id, k.due_at), k.due_at)
    return sorted(rank, key=lambda card_id: (rank[card_id], card_id))


@dataclass
class ReviewItem:
    """One key point of the `review` listing: the `review --json` contract."""

    card_id: str
    keyword: str
    title: str
    due: str
    stability: float | None
    difficulty: float | None
    state: str
    last_verdict: str


def review_items(history: History, bank: Bank, learner: str) -> list[ReviewItem]:
    """Every key point the learner has been graded on that the bank still asks, soonest due first."""
    items = []
    for k in history.keyword_progress(learner):
        card = bank.by_id.get(k.card_id)
        if card is None or k.keyword not in {kp.keyword for kp in card.keypoints}:
            continue
        items.append(ReviewItem(card_id=k.card_id, keyword=k.keyword, title=card.title, due=k.due_at,
                                stability=k.stability, difficulty=k.difficulty,
                                state=STATE_NAMES[State(k.state)], last_verdict=k.last_verdict))
    return items


# --- the history: past sessions and the weakest key points ------------------------------------------

@dataclass
class SessionLine:
    id: str
    started_at: str
    finished_at: str | None
    finished: bool
    client: str
    questions: int  # main questions planned
    answered: int  # answers given (follow-ups and probes included)
    average_score: int | None


def session_lines(history: History, client: str | None = None, limit: int = 50) -> list[SessionLine]:
    """Most recent first; with `client`, only that client's sessions."""
    lines = []
    for s in history.sessions(limit=limit, client=client):
        turns = history.turns(s.id)
        scores = [g.score for g in final_results(turns).values()]
        lines.append(SessionLine(id=s.id, started_at=s.started_at, finished_at=s.finished_at,
                                 finished=s.status == "finished", client=s.client, questions=len(s.plan),
                                 answered=sum(t.outcome == "answered" for t in turns),
                                 average_score=average(scores)))
    return lines


def weakest_keywords(history: History, learner: str, limit: int = 10) -> list[KeywordState]:
    """Least often covered first, then the most often asked, then the least stable."""
    states = history.keyword_progress(learner)
    states.sort(key=lambda k: (k.covered / k.asked, -k.asked, k.stability or 0.0, k.due_at))
    return states[:limit]


def history_data(history: History, learner: str, client: str | None = None) -> dict:
    """The `history --json` contract: {"sessions": [...], "weakest_keywords": [...]}."""
    return {"sessions": [asdict(line) for line in session_lines(history, client)],
            "weakest_keywords": [_keyword_entry(k) for k in weakest_keywords(history, learner)]}


def _keyword_entry(k: KeywordState) -> dict:
    return {"keyword": k.keyword, "card_id": k.card_id, "asked": k.asked, "covered": k.covered,
            "state": STATE_NAMES[State(k.state)], "stability": k.stability, "difficulty": k.difficulty,
            "last_verdict": k.last_verdict, "last_seen": k.last_seen, "due_at": k.due_at}
