"""Prompt files (`prompts/ROLE.md`, Korean), one per kind of call, rendered into chat messages.

Every call starts with the same system message (`common.md`), and the calls about one answer
(judge, feedback, probe) with the same context block, so a local server that reuses its KV cache
for a repeated prefix (llama.cpp, vLLM, Ollama) evaluates only each call's own task. The answer is
always quoted as data between `<answer>` tags; it can never close its quote or fill a slot.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from interviewer.core.errors import UserError
from interviewer.core.models import Card
from interviewer.settings import PACKAGE_ROOT

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

PROMPTS_DIR = PACKAGE_ROOT / "prompts"
COMMON = "common"  # the shared system message and answer context, not a role
# The sections each file must have, by what the file drives.
PROMPT_ROLES = {COMMON: ("system", "context"), "transition": ("task",), "probe": ("task",),
                "feedback": ("answer", "closing"), "judge": ("task",), "curate": ("task",)}
SECTION = re.compile(r"^=== (\w+) ===\s*$", re.MULTILINE)
DELIMITER = re.compile(r"</?\s*(answer|summary)\s*>", re.IGNORECASE)


@cache
def load_prompt(role: str, directory: Path = PROMPTS_DIR) -> dict[str, str]:
    """The sections of prompts/ROLE.md (`=== name ===` headers), stripped."""
    path = directory / f"{role}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read prompt file {path}: {exc}") from None
    parts = SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    missing = [name for name in PROMPT_ROLES.get(role, ()) if name not in sections]
    if missing:
        raise UserError(f"prompt file {path} lacks section(s): {', '.join(missing)}")
    return sections


@cache
def prompt_template(role: str, section: str) -> ChatPromptTemplate:
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("system", load_prompt(COMMON)["system"]),
                                             ("human", load_prompt(role)[section])])


@cache
def context_template() -> PromptTemplate:
    from langchain_core.prompts import PromptTemplate

    return PromptTemplate.from_template(load_prompt(COMMON)["context"])


def render(role: str, section: str, **values: object) -> list[BaseMessage]:
    """Chat messages for one call. Free text (the answer) goes in as delimited data only; a task
    with a `{context}` slot gets the shared question/reference/answer block there."""
    safe = {key: quote_data(value) if isinstance(value, str) else value for key, value in values.items()}
    template = prompt_template(role, section)
    if "context" in template.input_variables:
        context = context_template()
        safe["context"] = context.format(**{name: safe[name] for name in context.input_variables})
    return template.format_messages(**safe)


def quote_data(text: str) -> str:
    """Neutralise our own delimiters inside user text, so an answer cannot close its quote."""
    return DELIMITER.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


def answer_context(card: Card, answer: str) -> dict[str, str]:
    """The values of the shared context block: identical for every call about one answer."""
    return {"title": card.title, "reference": card.answer or "(없음)", "answer": answer or "(답변 없음)"}
