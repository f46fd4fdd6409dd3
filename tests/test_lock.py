"""Locked dependencies: uv.lock matches pyproject.toml, every direct dependency has an upper bound, and
a lock that does not match stops `make` before it installs anything."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
STALE_LOCK = "uv.lock does not match pyproject.toml: run `make lock`"


def uv_binary() -> Path:
    """The uv that `make` installs into .tools (CI builds it before the tests run)."""
    tool = ROOT / ".tools" / "bin" / "uv"
    if not tool.exists():
        pytest.skip("no .tools/bin/uv: run the tests through `make test`")
    return tool


def direct_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def test_the_lock_matches_pyproject():
    result = subprocess.run([uv_binary(), "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_direct_dependency_stops_below_its_next_major_version():
    for requirement in direct_requirements():
        upper = [spec for spec in requirement.specifier if spec.operator == "<"]
        assert upper, f"{requirement.name} has no upper bound"
        lower = [spec for spec in requirement.specifier if spec.operator == ">="]
        assert lower, f"{requirement.name} has no lower bound"
        # "<2" for ">=1.0", "<1.6" for ">=1.5", "<1" for ">=0.6": never a whole major version beyond
        low_major, high = int(lower[0].version.split(".")[0]), upper[0].version.split(".")
        assert int(high[0]) <= low_major + 1, f"{requirement} allows more than the next major version"


def make_in_copy(tmp_path: Path, target: str, edit: str | None = None) -> subprocess.CompletedProcess:
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".tools").symlink_to(uv_binary().parent.parent)
    if edit:
        pyproject = tmp_path / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"rich>=15,<16"', edit))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(["make", "--no-print-directory", target], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=120)


def test_a_matching_lock_passes_the_check_in_a_copy(tmp_path):
    result = make_in_copy(tmp_path, "lock-check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("target", ["run", "test"])
def test_a_pyproject_edited_without_make_lock_stops_before_installing(tmp_path, target):
    result = make_in_copy(tmp_path, target, edit='"rich>=14,<15"')
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == STALE_LOCK
    assert not (tmp_path / ".venv").exists()
