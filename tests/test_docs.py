"""The README agrees with the code: its usage block with `--help`, its tables with every setting."""

from __future__ import annotations

import argparse
import dataclasses
import re

from interviewer.settings import SOURCES, Settings
from interviewer.shells.cli import build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
USAGE = re.search(r"^## Usage\n\n```\n(.*?)\n```", README, re.S | re.M).group(1).splitlines()
LLM_FLAGS = {"--llm", "--base-url", "--model", "--llm-judge"}  # what `[--llm ...]` stands for
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


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
    return {o for action in parser._actions for o in action.option_strings if o.startswith("--") and o != "--help"}


def test_every_command_and_option_of_help_is_in_the_usage_block():
    shown: dict[str | None, set[str]] = {}
    for line in USAGE:
        command, options = documented(line)
        shown.setdefault(command, set()).update(options)
    for name, parser in commands().items():
        assert name in shown, f"`interviewer {name}` is missing from the README's usage block"
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
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert set(SOURCES) == fields
    missing = sorted({source for source in SOURCES.values() if source not in README})
    assert not missing, f"settings the README does not document: {missing}"
