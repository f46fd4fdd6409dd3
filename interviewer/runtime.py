"""The composition root: builds each service once, lazily, from one Settings object.

The CLI and the Gradio app both hold a Runtime; nothing else reads the environment. It is also
where the index is built (`build_index`: by `ingest`, and by every command that grades before it
starts) and the grader's models are loaded ahead of the first answer (`warm_up`). Building one sets the
offline switches (`offline.enforce`) for the process: importing the package changes nothing.

May import: everything but the shells and training.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from interviewer import offline
from interviewer.bank.cards import Bank, load_bank
from interviewer.core.errors import UserError
from interviewer.grading.crossencoder import MODEL_DIR, GradingModel, load
from interviewer.grading.grader import Grader
from interviewer.history import progress
from interviewer.history.sqlite import History, SQLiteHistory
from interviewer.index.store import IngestResult, Store
from interviewer.interview.engine import Deps
from interviewer.interview.sessions import Sessions
from interviewer.interview.voice import TemplateVoice
from interviewer.lang.text import Glossary
from interviewer.sandbox.demos import Demos, load_demos
from interviewer.settings import Settings

if TYPE_CHECKING:
    from interviewer.grading.judging import JudgedGrader


class Runtime:
    def __init__(self, settings: Settings):
        offline.enforce()  # before any service imports chromadb, gradio or langchain
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
    def grading_model(self) -> GradingModel:
        """The grading model, checked against its manifest (a damaged one stops here)."""
        return load(self.settings.grading_model or MODEL_DIR, self.settings.cache)

    @cached_property
    def deterministic_grader(self) -> Grader:
        return Grader(self.bank, self.glossary, self.store, self.grading_model)

    @cached_property
    def grader(self) -> Grader | JudgedGrader:
        """The deterministic grader; with --llm-judge wrapped in an LLM second opinion."""
        grader = self.deterministic_grader
        if not self.settings.llm_judge:
            return grader
        if self.settings.llm == "none":
            raise UserError("--llm-judge needs an LLM: add --llm openai or --llm local")
        from interviewer.grading.judging import JudgedGrader
        from interviewer.interview.llm_voice import LLMVoice

        voice = self.voice
        assert isinstance(voice, LLMVoice)  # an LLM is configured (checked above)
        return JudgedGrader(grader, voice.client)  # the voice's client: one connection, one count

    @cached_property
    def history(self) -> History:
        """PostgreSQL at INTERVIEWER_DATABASE_URL (shared by replicas), else SQLite in INTERVIEWER_HOME."""
        if self.settings.database_url:
            from interviewer.history.postgres import PostgresHistory

            return PostgresHistory(self.settings.database_url)
        return SQLiteHistory(self.settings.db_path)

    @cached_property
    def voice(self) -> TemplateVoice:
        """How the interviewer words things: an LLM voice when one is configured, else templates."""
        if self.settings.llm == "none":
            return TemplateVoice()
        from interviewer.interview.llm_voice import build_voice

        return build_voice(self.settings)

    @cached_property
    def demos(self) -> Demos:
        """Curated numpy demos (knowledge/demos/), looked up by card with `demos.for_card(id)`."""
        return load_demos(self.settings.knowledge)

    def build_index(self, rebuild: bool = False) -> IngestResult:
        """Index the bank into the store, embedding only what changed; the grader only reads it."""
        return self.store.ingest(self.bank, self.glossary, rebuild=rebuild)

    def warm_up(self) -> None:
        """Load what a first answer would otherwise wait for (Kiwi, e5, the index) by grading one
        reference answer; nothing is recorded and no LLM is asked."""
        card = next((c for c in self.bank.cards if c.gradable), None)
        if card is not None:
            self.deterministic_grader.grade(card, card.answer or card.title)

    def interview_deps(self) -> Deps:
        """What an interview needs, from this runtime's services and settings."""
        return Deps(bank=self.bank, grader=self.grader, voice=self.voice, history=self.history,
                    glossary=self.glossary, demos=self.demos,
                    scheduler=progress.scheduler(self.settings.desired_retention),
                    learn_ahead=self.settings.learn_ahead, zone=self.settings.zone)

    def sessions(self) -> Sessions:
        """The session service both shells drive; interviews get their deps on the first start."""
        return Sessions(self.history, self.bank, self.interview_deps)
