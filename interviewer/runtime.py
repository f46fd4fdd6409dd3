"""The composition root: builds each service once, lazily, from one Settings object.

The CLI and the Gradio app both hold a Runtime; nothing else reads the environment.
"""

from __future__ import annotations

from functools import cached_property

from interviewer.bank import Bank, load_bank
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
                         include_bundled=self.settings.include_bundled)

    @cached_property
    def glossary(self) -> Glossary:
        return Glossary.load(self.settings.knowledge)

    @cached_property
    def store(self) -> Store:
        return Store(self.settings)

    @cached_property
    def history(self) -> History:
        return History(self.settings.db_path)

    @cached_property
    def voice(self) -> TemplateVoice:
        """How the interviewer words things; templates until an LLM voice is configured."""
        return TemplateVoice()

    @cached_property
    def demos(self) -> Demos:
        """Curated numpy demos (knowledge/demos/), looked up by card with `demos.for_card(id)`."""
        return load_demos(self.settings.knowledge)
