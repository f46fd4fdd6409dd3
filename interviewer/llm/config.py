"""Which LLM to talk to, and how long to wait for it: one frozen value built from `Settings`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from interviewer.core.errors import UserError
from interviewer.settings import Settings

BACKENDS = ("none", "openai", "local")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_LOCAL_MODEL = "local"  # llama.cpp and LM Studio ignore the name; Ollama and vLLM need --model


@dataclass(frozen=True)
class LLMConfig:
    backend: str
    model: str
    base_url: str | None
    api_key: str
    timeout: float
    tools: bool
    judge: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMConfig:
        backend = settings.llm
        if backend not in BACKENDS or backend == "none":
            raise UserError(f"unknown LLM backend {backend!r}: choose one of openai, local")
        if backend == "openai" and not settings.openai_api_key:
            raise UserError("--llm openai needs OPENAI_API_KEY in the environment")
        if backend == "local" and not settings.llm_base_url:
            raise UserError("--llm local needs --base-url (e.g. http://127.0.0.1:11434/v1 for Ollama)")
        if settings.llm_base_url and not re.match(r"^https?://[^/\s]+", settings.llm_base_url):
            raise UserError(f"--base-url is not an http(s) URL: {settings.llm_base_url}")
        default_model = DEFAULT_OPENAI_MODEL if backend == "openai" else DEFAULT_LOCAL_MODEL
        tools = settings.llm_tools if settings.llm_tools is not None else backend == "openai"
        return cls(backend=backend, model=settings.llm_model or default_model,
                   base_url=settings.llm_base_url, api_key=settings.openai_api_key or "not-needed",
                   timeout=settings.llm_timeout, tools=tools, judge=settings.llm_judge)
