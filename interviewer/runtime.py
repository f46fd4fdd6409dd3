"""The composition root: builds each service once, lazily, from one Settings object.

The CLI and the Gradio app both hold a Runtime; nothing else reads the environment.
"""

from __future__ import annotations

from functools import cached_property

from interviewer.bank import Bank, load_bank
from interviewer.errors import UserError
from interviewer.grading import Grader
from interviewer.history import History
from interviewer.sandbox.demos import Demos, load_demos
from interviewer.settings import Settings
from interviewer.store import Store
from interviewer.text import Glossary
from interviewer.voice import TemplateVoice


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def bank(self) -> Bank:
        return load_bank(self.settings.knowledge, list(self.settings.extra_banks),
                         include_bundled=self.settings.include_bundled,
                         curation_files=list(self.settings.curation_files), glossary=self.glossary)

    @cached_property
    def glossary(self) -> Glossary:
        return Glossary.load(self.settings.knowledge)

    @cached_property
    def store(self) -> Store:
        return Store(self.settings)

    @cached_property
    def grader(self) -> Grader:
        """The deterministic grader; with --llm-judge wrapped in an LLM second opinion."""
        grader = Grader(self.bank, self.glossary, self.store)
        if not self.settings.llm_judge:
            return grader
        if self.settings.llm == "none":
            raise UserError("--llm-judge needs an LLM: add --llm openai or --llm local")
        from interviewer.llm import JudgedGrader

        return JudgedGrader(grader, self.voice)  # type: ignore[return-value]

    @cached_property
    def history(self) -> History:
        return History(self.settings.db_path)

    @cached_property
    def voice(self) -> TemplateVoice:
        """How the interviewer words things: an LLM voice when one is configured, else templates."""
        if self.settings.llm == "none":
            return TemplateVoice()
        from interviewer.llm import build_voice

        return build_voice(self.settings)

    @cached_property
    def demos(self) -> Demos:
        """Curated numpy demos (knowledge/demos/), looked up by card with `demos.for_card(id)`."""
        return load_demos(self.settings.knowledge)
