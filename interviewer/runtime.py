"""The composition root: builds each service once, lazily, from one Settings object.

The CLI and the Gradio app both hold a Runtime; nothing else reads the environment.
"""

from __future__ import annotations

from functools import cached_property

from interviewer.bank import Bank, load_bank
from interviewer.settings import Settings
from interviewer.store import Store
from interviewer.text import Glossary


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
