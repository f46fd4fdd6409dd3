"""One settings object: the environment is read here, once, and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from platformdirs import user_data_dir

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    knowledge: Path
    chroma_url: str | None = None
    chroma_token: str | None = field(default=None, repr=False)  # sent as `Authorization: Bearer` to the server
    extra_banks: tuple[Path, ...] = ()
    curation_files: tuple[Path, ...] = ()  # beside the `team.keypoints.yaml` found next to each bank
    include_bundled: bool = True
    llm: str = "none"
    llm_base_url: str | None = None
    llm_model: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    llm_judge: bool = False
    llm_tools: bool | None = None  # None: on for OpenAI, off for local servers (few support tools)
    llm_timeout: float = 30.0  # seconds for one whole LLM reply, streaming included

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        api_key = env.get("OPENAI_API_KEY") or None
        return cls(
            home=Path(env.get("INTERVIEWER_HOME") or user_data_dir("interviewer")),
            knowledge=Path(env.get("INTERVIEWER_KNOWLEDGE") or PACKAGE_ROOT / "knowledge"),
            chroma_url=env.get("INTERVIEWER_CHROMA_URL") or None,
            chroma_token=env.get("INTERVIEWER_CHROMA_TOKEN") or None,
            llm=env.get("INTERVIEWER_LLM") or ("openai" if api_key else "none"),
            llm_base_url=env.get("OPENAI_BASE_URL") or None,
            llm_model=env.get("INTERVIEWER_LLM_MODEL") or None,
            openai_api_key=api_key,
            llm_judge=_flag(env.get("INTERVIEWER_LLM_JUDGE")) or False,
            llm_tools=_flag(env.get("INTERVIEWER_LLM_TOOLS")),
            llm_timeout=_seconds(env.get("INTERVIEWER_LLM_TIMEOUT"), 30.0),
        )

    def with_(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def db_path(self) -> Path:
        return self.home / "interviewer.sqlite3"


def _flag(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def _seconds(value: str | None, default: float) -> float:
    try:
        seconds = float(value) if value else default
    except ValueError:
        return default
    return seconds if seconds > 0 else default
