"""Markdown pieces that every writer of chat text shares (the presenter, the LLM voice's tool output)."""

from __future__ import annotations

import re


def code_block(text: str, language: str = "") -> str:
    """`text` fenced by more backticks than it contains in a row, so nothing in it closes the fence."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def quoted(text: str) -> str:
    """`text` as a Markdown block quote, every line of it."""
    return "> " + text.replace("\n", "\n> ")
