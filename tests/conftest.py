"""Shared fixtures: every test gets its own INTERVIEWER_HOME; real objects, never mocks of our code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.pgserver import PostgresServer, Unavailable, postgres_server
from interviewer import offline
from interviewer.runtime import Runtime
from interviewer.settings import Settings

offline.enforce()  # the test process builds no Runtime before test modules import gradio

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CLI = [sys.executable, "-m", "interviewer.shells.cli"]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory per test, and no LLM configured unless a test asks for one."""
    path = tmp_path / "home"
    monkeypatch.setenv("INTERVIEWER_HOME", str(path))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INTERVIEWER_LLM", "INTERVIEWER_LLM_MODEL",
                 "INTERVIEWER_CHROMA_URL", "INTERVIEWER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def runtime(home: Path) -> Runtime:
    return Runtime(Settings.from_env())


@pytest.fixture(scope="session")
def indexed_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the bundled bank already ingested, built once per test run."""
    path = tmp_path_factory.mktemp("indexed") / "home"
    rt = Runtime(Settings.from_env({"INTERVIEWER_HOME": str(path)}))
    rt.store.ingest(rt.bank, rt.glossary)
    return path


@pytest.fixture
def indexed_runtime(indexed_home: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """A runtime whose home is a private copy of the pre-built index."""
    shutil.copytree(indexed_home, home)
    return Runtime(Settings.from_env())


def run_cli(*args: str, input: str | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `interviewer ARGS` in a subprocess, as a user or a script would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*CLI, *args], input=input, capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=ROOT)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server (Debian's `postgresql`) for the whole run, in a temp directory,
    loopback only; skipped, with the reason, where none can run."""
    try:
        server = postgres_server()
        pg = server.__enter__()
    except Unavailable as exc:
        pytest.skip(f"no PostgreSQL server here: {exc}")
    try:
        yield pg
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on that server, per test."""
    return postgres.create_database()
