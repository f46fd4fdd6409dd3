"""The layout holds: each part of the package imports only what its docstring allows, the table in
docs/architecture.md says the same, and importing the package changes nothing in the environment."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "interviewer"
RULE = re.compile(r"^May import: (.+?)\.?$", re.M)


def parts() -> dict[str, Path]:
    """Every part of the package: a sub-package (its `__init__.py`) or a top-level module."""
    found = {p.parent.name: p for p in PACKAGE.glob("*/__init__.py")}
    found |= {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return found


def allowed(name: str) -> set[str]:
    """The parts `name` may import, read from its docstring's `May import:` line."""
    doc = ast.get_docstring(ast.parse(parts()[name].read_text(encoding="utf-8"))) or ""
    rule = RULE.search(doc)
    assert rule, f"interviewer/{name}: its docstring has no `May import:` line"
    text = rule.group(1)
    if text == "everything":
        return set(parts())
    if text == "nothing else of interviewer":
        return set()
    if text == "everything but the shells and training":
        return set(parts()) - {"shells", "training"}
    return {word.strip() for word in text.split(",")}


def imports_of(path: Path) -> set[str]:
    """The parts of interviewer a module imports, at the top, inside functions and for types alike."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "interviewer":
            names = node.module.split(".")[1:]
            found |= {names[0]} if names else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("interviewer.")}
    return found


def modules_of(name: str) -> list[Path]:
    path = parts()[name]
    return sorted(path.parent.rglob("*.py")) if path.name == "__init__.py" else [path]


@pytest.mark.parametrize("name", sorted(parts()))
def test_each_part_imports_only_what_its_docstring_allows(name):
    may = allowed(name) | {name, "__version__"}
    unknown = may - set(parts()) - {"__version__"}
    assert not unknown, f"interviewer/{name}: its `May import:` names parts that do not exist: {unknown}"
    wrong = {f"{path.relative_to(PACKAGE)} imports {target}"
             for path in modules_of(name) for target in imports_of(path) - may}
    assert not wrong, f"imports that interviewer/{name}'s docstring does not allow: {sorted(wrong)}"


def test_the_checker_sees_imports_inside_functions_and_for_types(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from interviewer.shells.cli import main\n"
                      "def f():\n    import interviewer.history.sqlite\n    from interviewer import offline\n")
    assert imports_of(module) == {"shells", "history", "offline"}


def test_the_architecture_page_shows_the_same_rules():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \|[^|]*\| ([^|]*) \|$", page, re.M))
    assert set(rows) == set(parts()), "docs/architecture.md's table has one row per part of the package"
    for name, cell in rows.items():
        shown = set(re.findall(r"`(\w+)`", cell))
        if cell.strip() in {"everything", "—"} or cell.startswith("everything but"):
            shown = {"everything": set(parts()), "—": set()}.get(cell.strip(), set(parts()) - shown)
        assert shown == allowed(name), f"docs/architecture.md's row for `{name}` differs from its docstring"


def test_importing_the_package_changes_no_environment_variable():
    probe = ("import os, json; before = dict(os.environ); import interviewer, interviewer.runtime, "
             "interviewer.shells.cli; print(json.dumps(dict(os.environ) == before))")
    env = {k: v for k, v in os.environ.items() if k not in {"GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE"}}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert out.stdout.strip() == "true"


def test_building_a_runtime_sets_the_offline_switches(tmp_path):
    probe = ("import os; from interviewer.runtime import Runtime; from interviewer.settings import Settings; "
             "Runtime(Settings.from_env()); print(os.environ['GRADIO_ANALYTICS_ENABLED'], os.environ['HF_HUB_OFFLINE'])")
    env = {k: v for k, v in os.environ.items() if k not in {"GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE"}}
    env["INTERVIEWER_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "1"]
