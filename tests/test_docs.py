"""The docs agree with the code and with each other: docs/usage.md's usage block with `--help`,
docs/configuration.md with every setting, and every relative link in README.md and docs/ with a file
(and, for `page.md#anchor`, a heading) that exists."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from interviewer.settings import SOURCES, Settings
from interviewer.shells.cli import build_parser
from tests.conftest import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
USAGE_PAGE = DOCS / "usage.md"  # holds `## Usage` and its fenced block
CONFIGURATION_PAGE = DOCS / "configuration.md"  # documents every setting
USAGE_BLOCK = re.search(r"^## Usage\n\n```\n(.*?)\n```", USAGE_PAGE.read_text(encoding="utf-8"), re.S | re.M)
USAGE = USAGE_BLOCK.group(1).splitlines()
LLM_FLAGS = {"--llm", "--base-url", "--model", "--llm-judge"}  # what `[--llm ...]` stands for
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:


def commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def documented(line: str) -> tuple[str | None, set[str]]:
    """The command a usage line shows (None for the global flags alone) and the options it names."""
    code = line.split("  #", 1)[0]
    words = [w for w in code.split() if not w.startswith(("-", "[")) and w != "interviewer"]
    command = next((w for w in words if w in commands()), None)
    options = set(OPTION.findall(code))
    if "--llm ..." in code:
        options |= LLM_FLAGS
    return command, options


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    return {
        o for action in parser._actions for o in action.option_strings if o.startswith("--") and o != "--help"
    }


def test_every_command_and_option_of_help_is_in_the_usage_block():
    shown: dict[str | None, set[str]] = {}
    for line in USAGE:
        command, options = documented(line)
        shown.setdefault(command, set()).update(options)
    for name, parser in commands().items():
        assert name in shown, f"`interviewer {name}` is missing from docs/usage.md's usage block"
        assert options_of(parser) <= shown[name], (name, options_of(parser) - shown[name])
        for action in parser._actions:
            if not action.option_strings:  # a positional argument, shown by its metavar
                assert (action.metavar or action.dest.upper()) in " ".join(USAGE), (name, action.dest)
    everywhere = set().union(*shown.values())
    assert options_of(build_parser()) - {"--help"} <= everywhere


def test_the_usage_block_names_only_real_options_and_their_choices():
    globals_ = options_of(build_parser())
    for line in USAGE:
        command, options = documented(line)
        parser = commands()[command] if command else build_parser()
        assert options <= options_of(parser) | globals_, (line, options - options_of(parser) - globals_)
        for action in parser._actions:
            for option in action.option_strings:
                listed = re.search(rf"{re.escape(option)} ([\w.-]+(?:\|[\w.-]+)+)", line)
                if listed and action.choices:
                    assert listed.group(1).split("|") == list(action.choices), (line, option)


def test_every_setting_is_documented():
    """An environment variable in a table row of docs/configuration.md (as `NAME` or `NAME=…`); a global
    flag named there, and a real option of the command line (the usage block shows it too)."""
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert set(SOURCES) == fields
    text = CONFIGURATION_PAGE.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("|")]
    flags = {source for source in SOURCES.values() if source.startswith("--")}
    variables = set(SOURCES.values()) - flags
    missing = sorted(v for v in variables if not any(re.search(rf"`{re.escape(v)}[`=]", row) for row in rows))
    missing += sorted(f for f in flags if f"`{f}`" not in text)
    assert not missing, f"settings docs/configuration.md does not document: {missing}"
    assert flags <= options_of(build_parser())


def prose(text: str) -> str:
    """The page without its fenced blocks and code spans, where a `[x](y)` is not a link."""
    lines, fence = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        lines.append("" if fence else line)
    return CODE_SPAN.sub("", "\n".join(lines))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text lower-cased, punctuation dropped, spaces as `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in prose(page.read_text(encoding="utf-8")).splitlines():
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    """The relative link targets of a page (external URLs left out)."""
    targets = LINK.findall(prose(page.read_text(encoding="utf-8")))
    return [t for t in targets if not EXTERNAL.match(t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_and_heading_that_exist(page: Path):
    broken = []
    for target in links(page):
        path, _, anchor = unquote(target).partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading with that anchor in {file.relative_to(ROOT)}")
    assert not broken, broken


def test_the_readme_links_every_docs_page_and_the_benchmarks():
    linked = {(ROOT / unquote(t).partition("#")[0]).resolve() for t in links(ROOT / "README.md")}
    pages = set(DOCS.glob("*.md")) | {ROOT / "BENCHMARKS.md"}
    assert len(pages) > 2
    assert not pages - linked, sorted(str(p.relative_to(ROOT)) for p in pages - linked)


def test_the_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```\n(.*?)\n```", readme, re.S).group(1).splitlines()
    assert [line.split()[:2] for line in first_block] == [["make", "run"], ["make", "test"]]


def test_the_link_checker_sees_links_and_anchors():
    """The checks above are not vacuous: a known link, a known anchor and a code span's non-link."""
    assert "docs/usage.md" in links(ROOT / "README.md")
    assert {"usage", "the-interview"} <= anchors(USAGE_PAGE)
    assert slug("Deployment: several replicas on one history") == "deployment-several-replicas-on-one-history"
    assert slug("The grading model (issue 21)") == "the-grading-model-issue-21"
    assert prose("`[a](b)` and ```x``` [c](d)\n```\n[e](f)\n```") == " and  [c](d)\n"
