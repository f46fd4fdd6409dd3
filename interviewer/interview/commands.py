"""What the candidate types, read as events: chat commands, `/numpy CODE`, and "I don't know".

The same in the terminal and the app's answer box; anything else is an answer.
"""

from __future__ import annotations

import re

from interviewer.interview.events import Event
from interviewer.lang.text import squash
from interviewer.lang.words import DONT_KNOW_ANSWERS

# Stored as the answer of a '모르겠습니다' turn, and the button's label in the app.
DONT_KNOW = "모르겠습니다"
CHAT_COMMANDS = {"/hint": Event.HINT, "/힌트": Event.HINT, "/skip": Event.SKIP, "/건너뛰기": Event.SKIP,
                 "/모르겠습니다": Event.DONT_KNOW, "/dontknow": Event.DONT_KNOW, "/quit": Event.FINISH,
                 "/종료": Event.FINISH, "/finish": Event.FINISH, "/demo": Event.RUN_DEMO, "/예시": Event.RUN_DEMO}
NUMPY_COMMAND = re.compile(r"\s*/numpy(?=\s|$)[ \t]*\n?(.*)", re.S | re.I)


def chat_command(text: str) -> tuple[Event, str | None]:
    """The event a chat line asks for and its argument: `/numpy CODE` → ("run_code", CODE),
    `/hint` → ("hint", None), …; anything else is ("answer", text)."""
    numpy = NUMPY_COMMAND.fullmatch(text or "")
    if numpy:
        return Event.RUN_CODE, numpy.group(1)
    event = CHAT_COMMANDS.get((text or "").strip().lower())
    return (event, None) if event else (Event.ANSWER, text)


def is_dont_know(answer: str) -> bool:
    """The whole answer is "I don't know" (in any of its usual spellings)."""
    return squash(answer).rstrip(".!") in DONT_KNOW_ANSWERS
