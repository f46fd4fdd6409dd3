"""The numpy sandbox: untrusted code (from a user or an LLM) runs here and nowhere else.

`run_program(code)` runs it in a fresh, isolated worker; `sandbox_layers()` says which defences are
active on this machine; `demos_for(card_id)` finds the curated demo programs of a card.

May import: core, settings.
"""

from __future__ import annotations

import functools

from interviewer.sandbox.demos import Demo, Demos, demos_for, load_demos
from interviewer.sandbox.layers import Limits
from interviewer.sandbox.runner import Policy, SandboxResult, run_program

__all__ = ["Demo", "Demos", "Limits", "Policy", "SandboxResult", "demos_for", "load_demos", "run_program",
           "sandbox_layers"]

LAYER_NAMES = ("bwrap", "seccomp", "rlimits", "ast")


@functools.lru_cache(maxsize=1)
def sandbox_layers() -> dict:
    """Which layers are active here, measured by running a trivial program once (cached per process).

    `{"bwrap": bool, "seccomp": bool, "rlimits": bool, "ast": bool, "nobody": bool, "notes": [...]}`;
    `nobody` means the worker dropped root to uid 65534 itself (only outside bwrap).
    """
    probe = run_program("1 + 1")
    active = set(probe.layers)
    report: dict[str, bool | list[str]] = {name: name in active for name in (*LAYER_NAMES, "nobody")}
    report["notes"] = list(probe.notes) + ([] if probe.ok else [f"probe failed: {probe.error}"])
    return report
