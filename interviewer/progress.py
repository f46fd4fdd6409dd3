"""Progress across sessions: each key point in a Leitner box, and which cards are due for review.

A key point graded covered moves up one box (at most 5); missed or contradicted goes back to box 1;
partial stays where it was. It is due again `INTERVAL_DAYS[box]` after it was last graded, so a
missed key point is due at once and a well-known one in two weeks. `record` runs inside the
transaction that stores the graded turn. Within one session only a card's final verdict counts: a
probe that re-grades the card revises the step the main answer made instead of taking a second one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from interviewer.bank import Bank
from interviewer.charts import korean_font, score_colour
from interviewer.history import History, KeywordState, Tx, now, stamp
from interviewer.models import Grade
from interviewer.scores import average, final_results
from interviewer.verdicts import MISSED

INTERVAL_DAYS = {1: 0, 2: 1, 3: 3, 4: 7, 5: 14}
MAX_BOX = max(INTERVAL_DAYS)


def learner_of(client: str) -> str:
    """Whose progress a session moves: the login behind --auth, else the one local user ('')."""
    kind, _, login = client.partition(":")
    return login if kind == "app" else ""


def next_box(box: int, verdict: str) -> int:
    if verdict == "covered":
        return min(box + 1, MAX_BOX)
    return 1 if verdict in MISSED else box


def schedule(old: KeywordState | None, learner: str, card_id: str, keyword: str, verdict: str,
             session_id: str, at: str) -> KeywordState:
    """The key point's state after being graded `verdict` at `at` in `session_id`."""
    if old is None:
        asked, covered, box = 0, 0, 1
    elif old.session_id == session_id:  # graded again in the same session: replace that step
        asked, covered, box = old.asked - 1, old.covered - (old.last_verdict == "covered"), old.prev_box
    else:
        asked, covered, box = old.asked, old.covered, old.box
    new_box = next_box(box, verdict)
    due = stamp(datetime.fromisoformat(at) + timedelta(days=INTERVAL_DAYS[new_box]))
    return KeywordState(learner=learner, card_id=card_id, keyword=keyword, asked=asked + 1,
                        covered=covered + (verdict == "covered"), box=new_box, last_verdict=verdict,
                        last_seen=at, due_at=due, session_id=session_id, prev_box=box)


def record(tx: Tx, learner: str, session_id: str, grade: Grade, at: str) -> None:
    """Move every key point of the graded card; part of the turn's transaction."""
    old = tx.keyword_states(learner, grade.card_id)
    for kp in grade.keypoints:
        tx.save_keyword_state(schedule(old.get(kp.keyword), learner, grade.card_id, kp.keyword, kp.verdict,
                                       session_id, at))


def review_cards(history: History, bank: Bank, learner: str, eligible: set[str],
                 at: str | None = None) -> list[str]:
    """Eligible cards with a key point due: cards with a missed key point first, then the most overdue."""
    rank: dict[str, tuple[bool, str]] = {}
    for k in history.keyword_progress(learner, due_by=at or now()):
        card = bank.by_id.get(k.card_id)
        if k.card_id not in eligible or card is None or k.keyword not in {kp.keyword for kp in card.keypoints}:
            continue  # out of the topic filter, or curation changed since
        mine = (k.last_verdict not in MISSED, k.due_at)
        rank[k.card_id] = min(rank.get(k.card_id, mine), mine)
    return sorted(rank, key=lambda card_id: (*rank[card_id], card_id))


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
    """Least often covered first, then the most often asked, then the lowest box."""
    states = history.keyword_progress(learner)
    states.sort(key=lambda k: (k.covered / k.asked, -k.asked, k.box, k.due_at))
    return states[:limit]


def history_data(history: History, learner: str, client: str | None = None) -> dict:
    """The `history --json` contract: {"sessions": [...], "weakest_keywords": [...]}."""
    return {"sessions": [asdict(line) for line in session_lines(history, client)],
            "weakest_keywords": [_keyword_entry(k) for k in weakest_keywords(history, learner)]}


def _keyword_entry(k: KeywordState) -> dict:
    return {"keyword": k.keyword, "card_id": k.card_id, "asked": k.asked, "covered": k.covered, "box": k.box,
            "last_verdict": k.last_verdict, "last_seen": k.last_seen, "due_at": k.due_at}


def progress_figure(lines: list[SessionLine]):
    """Average score per session over time (oldest left), or None before the first graded session."""
    from matplotlib.figure import Figure

    points = sorted((line.started_at, line.average_score) for line in lines if line.average_score is not None)
    if not points:
        return None
    font = korean_font()
    xs = list(range(len(points)))
    scores = [score for _, score in points]
    fig = Figure(figsize=(6.4, 3.2), dpi=100)
    ax = fig.add_subplot()
    ax.plot(xs, scores, color="#57606a", zorder=1)
    ax.scatter(xs, scores, c=[score_colour(s) for s in scores], zorder=2)
    ax.set_xticks(xs, [started[5:16].replace("T", "\n") for started, _ in points], fontsize="small")
    ax.set_ylim(0, 105)
    ax.set_ylabel("평균 점수" if font else "average score", fontproperties=font)
    ax.set_title("면접별 평균 점수" if font else "Average score per interview", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
