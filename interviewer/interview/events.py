"""The events a candidate sends an interview: the app's buttons, the chat's commands, an answer.

One definition of their names; the engine handles each through its table (`engine.HANDLERS`).
"""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    ANSWER = "answer"
    MESSAGE = "message"      # a chat line: a command or an answer
    HINT = "hint"
    SKIP = "skip"
    DONT_KNOW = "dont_know"
    RUN_CODE = "run_code"    # `/numpy CODE`
    RUN_DEMO = "run_demo"
    FINISH = "finish"


# The events whose handler takes the candidate's text.
TAKES_TEXT = frozenset({Event.ANSWER, Event.MESSAGE, Event.RUN_CODE})
