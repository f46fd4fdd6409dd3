"""One settings object: the environment is read here, once, and passed down.

May import: core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_cache_dir, user_data_dir

from interviewer.core.clock import local_zone
from interviewer.core.errors import UserError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Where each setting comes from: an environment variable, or a global flag of the command line.
# docs/configuration.md documents every one (tests/test_docs.py holds it to that).
SOURCES = {
    "home": "INTERVIEWER_HOME", "knowledge": "INTERVIEWER_KNOWLEDGE", "chroma_url": "INTERVIEWER_CHROMA_URL",
    "chroma_token": "INTERVIEWER_CHROMA_TOKEN", "extra_banks": "--bank", "curation_files": "--curation",
    "include_bundled": "--no-bundled",
    "llm_choice": "INTERVIEWER_LLM", "llm": "INTERVIEWER_LLM", "llm_base_url": "OPENAI_BASE_URL",
    "llm_model": "INTERVIEWER_LLM_MODEL", "openai_api_key": "OPENAI_API_KEY", "llm_judge": "INTERVIEWER_LLM_JUDGE",
    "llm_tools": "INTERVIEWER_LLM_TOOLS", "llm_timeout": "INTERVIEWER_LLM_TIMEOUT",
    "desired_retention": "INTERVIEWER_DESIRED_RETENTION", "database_url": "INTERVIEWER_DATABASE_URL",
    "learn_ahead": "INTERVIEWER_LEARN_AHEAD", "zone": "INTERVIEWER_TZ", "grading_model": "INTERVIEWER_GRADING_MODEL",
    "cache": "INTERVIEWER_CACHE",
}
DEFAULT_LEARN_AHEAD = 20.0  # minutes, Anki's default
DATABASE_SCHEMES = ("postgresql://", "postgres://")


def default_backend(api_key: str | None, base_url: str | None) -> str:
    """The LLM backend when none is chosen: OpenAI with a key, else the server at a base URL, else none."""
    if api_key:
        return "openai"
    return "local" if base_url else "none"


def default_cache() -> Path:
    return Path(user_cache_dir("interviewer"))


@dataclass(frozen=True)
class Settings:
    home: Path
    knowledge: Path
    cache: Path = field(default_factory=default_cache)  # derived files: the grading model's
    grading_model: Path | None = None  # a folder `make train` writes; None: the one the package ships
    chroma_url: str | None = None
    chroma_token: str | None = field(default=None, repr=False)  # sent as `Authorization: Bearer` to the server
    extra_banks: tuple[Path, ...] = ()
    curation_files: tuple[Path, ...] = ()  # beside the `team.keypoints.yaml` found next to each bank
    include_bundled: bool = True
    llm_choice: str | None = None  # the backend asked for (INTERVIEWER_LLM or --llm); None: `default_backend`
    llm: str = "none"  # the backend in force
    llm_base_url: str | None = None
    llm_model: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    llm_judge: bool = False
    llm_tools: bool | None = None  # None: on for OpenAI, off for local servers (few support tools)
    llm_timeout: float = 30.0  # seconds for one whole LLM reply, streaming included
    desired_retention: float = 0.9  # FSRS: the chance of recalling a key point when it comes due
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL history; None: SQLite in home
    # Minutes: a key point still learning (or relearning) that falls due this soon counts as due
    # when an interview starts, as Anki's learn-ahead limit does.
    learn_ahead: float = DEFAULT_LEARN_AHEAD
    zone: tzinfo = field(default_factory=local_zone)  # times as people read them

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if env is None else env)

        def get(name: str) -> str | None:
            return environ.get(SOURCES[name]) or None

        settings = cls(
            home=Path(get("home") or user_data_dir("interviewer")),
            knowledge=Path(get("knowledge") or PACKAGE_ROOT / "knowledge"),
            chroma_url=get("chroma_url"),
            chroma_token=get("chroma_token"),
            llm_model=get("llm_model"),
            openai_api_key=get("openai_api_key"),
            llm_judge=_flag(get("llm_judge")) or False,
            llm_tools=_flag(get("llm_tools")),
            llm_timeout=_seconds(get("llm_timeout"), 30.0),
            desired_retention=_retention(get("desired_retention")),
            database_url=_database_url(get("database_url")),
            learn_ahead=_minutes(get("learn_ahead")),
            zone=_zone(get("zone")),
            grading_model=Path(model) if (model := get("grading_model")) else None,
            cache=Path(get("cache") or default_cache()),
        )
        return settings.with_llm(backend=get("llm_choice"), base_url=get("llm_base_url"))

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def with_llm(self, backend: str | None = None, base_url: str | None = None, model: str | None = None,
                 judge: bool | None = None) -> Settings:
        """The LLM settings changed by flags or variables, the backend chosen by one rule for both:
        the one asked for, else `default_backend` (so a base URL alone means the local server)."""
        choice = backend or self.llm_choice
        base_url = base_url or self.llm_base_url
        return replace(self, llm_choice=choice, llm=choice or default_backend(self.openai_api_key, base_url),
                       llm_base_url=base_url, llm_model=model or self.llm_model,
                       llm_judge=self.llm_judge if judge is None else judge)

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


def _retention(value: str | None) -> float:
    """A desired retention strictly between 0 and 1; anything else is a one-line error."""
    if not value:
        return 0.9
    try:
        retention = float(value)
    except ValueError:
        retention = -1.0
    if not 0 < retention < 1:
        raise UserError(f"{SOURCES['desired_retention']} must be a number between 0 and 1, e.g. 0.9 (got {value!r})")
    return retention


def _zone(value: str | None) -> tzinfo:
    """An IANA zone name (`Asia/Seoul`), else the machine's zone; an unknown name is a one-line error."""
    if not value:
        return local_zone()
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"{SOURCES['zone']} must be a time zone name such as Asia/Seoul or UTC (got {value!r})") from None


def _minutes(value: str | None) -> float:
    """Learn-ahead minutes, 0 or more; anything else is a one-line error."""
    if not value:
        return DEFAULT_LEARN_AHEAD
    try:
        minutes = float(value)
    except ValueError:
        minutes = -1.0
    if not minutes >= 0:
        raise UserError(f"{SOURCES['learn_ahead']} must be a number of minutes, 0 or more (got {value!r})")
    return minutes


def _database_url(value: str | None) -> str | None:
    """A PostgreSQL URL, or None for the embedded SQLite history; the URL itself is never echoed (it
    may hold a password)."""
    if value is None or value.strip().startswith(DATABASE_SCHEMES):
        return value.strip() if value else None
    scheme = value.split("://", 1)[0] + "://" if "://" in value else "no scheme"
    raise UserError(f"{SOURCES['database_url']} must be a postgresql://USER:PASSWORD@HOST:PORT/DB URL "
                    f"(got {scheme}); leave it unset for the SQLite history in INTERVIEWER_HOME")
