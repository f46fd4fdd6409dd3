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


# Characters Markdown would read as markup inside a line ("0~1 … -1~1" would be struck through).
INLINE_MARKUP = re.compile(r"([\\`*_~\[\]<>|#])")
# Line starts Markdown would read as a block: a heading, a quote, a list item, a rule.
BLOCK_START = re.compile(r"^(\s*)(?:([-+=>])|(\d+)([.)]))(?=\s|$)", re.M)


def literal(text: str) -> str:
    """The candidate's text as Markdown that shows exactly those characters, never markup."""
    def block(m: re.Match[str]) -> str:
        return f"{m.group(1)}\\{m.group(2)}" if m.group(2) else f"{m.group(1)}{m.group(3)}\\{m.group(4)}"

    return BLOCK_START.sub(block, INLINE_MARKUP.sub(r"\\\1", text))
