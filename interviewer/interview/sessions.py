"""The session service: the rules the terminal and the app share, so both shells stay thin.

Starting an interview (with the planning limits), acting on one by session id, resuming one —
only the owner's, when a login is in force — listing unfinished ones, and the history a client may
see. Interviews live durably in the history store; the bounded in-memory cache only keeps their
objects and locks. Every event reads the session from the store first (`History.event`), so any
process (a restarted one, another replica on the same PostgreSQL history) serves any session.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from interviewer.bank.cards import Bank
from interviewer.core.errors import UserError
from interviewer.core.records import KeywordState, SessionRecord
from interviewer.history import progress
from interviewer.history.sqlite import History
from interviewer.interview import steps
from interviewer.interview.engine import Deps, Interview
from interviewer.interview.events import Event
from interviewer.interview.planning import DEFAULT_QUESTIONS, Options

LIVE_CAPACITY = 512  # interviews kept in memory; older ones are resumed from the store when needed
UNFINISHED_SHOWN = 30


class LiveSessions:
    """Interviews in memory by session id, bounded; a miss is resumed from the history store."""

    def __init__(self, deps: Callable[[], Deps], capacity: int = LIVE_CAPACITY):
        self._deps = deps
        self._capacity = capacity
        self._items: OrderedDict[str, Interview] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, interview: Interview) -> None:
        with self._lock:
            self._items[interview.session.id] = interview
            self._trim(interview.session.id)

    def get(self, session_id: str) -> Interview:
        # Resuming under the lock: two events for one evicted session must share one Interview.
        with self._lock:
            interview = self._items.get(session_id)
            if interview is None:
                interview = self._items[session_id] = Interview.resume(self._deps(), session_id)
            self._trim(session_id)
            return interview

    def _trim(self, newest: str) -> None:
        self._items.move_to_end(newest)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)


@dataclass
class PastSessions:
    """What a client may see of the past: its sessions and its learner's weakest key points."""

    sessions: list[progress.SessionLine]
    keywords: list[KeywordState]
    reviews: list[progress.ReviewItem]
    learner: str


def may_see(session: SessionRecord, client: str) -> bool:
    """Behind a login each user sees and resumes only their own sessions; the local user, all."""
    learner = progress.learner_of(client)
    return not learner or progress.learner_of(session.client) == learner


class Sessions:
    """Start, act on, resume and list interviews by session id, for any shell."""

    def __init__(self, history: History, bank: Bank, build_deps: Callable[[], Deps]):
        self.history_store = history
        self.bank = bank
        self._build_deps = build_deps  # loading the grader takes seconds: built on the first interview
        self._deps: Deps | None = None
        self._deps_lock = threading.Lock()
        self.live = LiveSessions(self.deps)

    def deps(self) -> Deps:
        with self._deps_lock:
            if self._deps is None:
                self._deps = self._build_deps()
            return self._deps

    def start(self, options: Options) -> tuple[Interview, steps.Step]:
        interview, step = Interview.start(self.deps(), options)
        self.live.add(interview)
        return interview, step

    def start_from_form(self, n_questions: float | None, topics: str | list[str], seed: float | None,
                        feedback_mode: str = "immediate", client: str = "app", review: bool = True) -> steps.Step:
        """A start from a form or the API, whose numbers may come as floats or be left empty."""
        n = int(n_questions) if n_questions is not None else DEFAULT_QUESTIONS
        options = Options(n_questions=n, topics=topics, seed=None if seed is None else int(seed),
                          feedback_mode=feedback_mode, client=client, review=review)
        return self.start(options)[1]

    def act(self, session_id: str | None, event: Event, text: str = "") -> steps.Step:
        """One event (`answer`, `message`, `hint`, `skip`, …) of the session, under its lock."""
        if not session_id:
            return steps.Step(None, [steps.NoInterview()])
        interview = self.live.get(session_id)
        with self._handling(interview):
            return interview.on(event, text)

    def resume(self, session_id: str, client: str) -> tuple[Interview, steps.Step]:
        if not may_see(self.history_store.session(session_id), client):
            raise UserError("다른 사용자의 면접은 이어할 수 없습니다.")
        interview = self.live.get(session_id)
        with self._handling(interview):
            return interview, interview.resumed()

    @contextmanager
    def _handling(self, interview: Interview) -> Iterator[None]:
        """One event at a time per session: in this process under the interview's lock, across
        processes by the store's `event` scope; the event starts from what the store holds."""
        with interview.lock, self.history_store.event(interview.session.id) as scope, interview.handling(scope):
            yield

    def interview(self, session_id: str) -> Interview:
        return self.live.get(session_id)

    def unfinished(self, client: str) -> list[SessionRecord]:
        """Unfinished sessions the client may resume, most recently active first."""
        running = self.history_store.sessions(status="running", limit=100)
        return [s for s in running if may_see(s, client)][:UNFINISHED_SHOWN]

    def history(self, client: str) -> PastSessions:
        """Past sessions (behind a login only the user's own), the user's weakest key points and
        their review schedule."""
        learner = progress.learner_of(client)
        lines = progress.session_lines(self.history_store, client=client if learner else None)
        return PastSessions(lines, progress.weakest_keywords(self.history_store, learner),
                            progress.review_items(self.history_store, self.bank, learner), learner)
