"""The numpy sandbox as a LangChain tool: code the LLM writes runs only in the sandbox."""

from __future__ import annotations

from typing import Any

from interviewer.llm.failures import LLMFailure

TOOL_OUTPUT_CHARS = 1500  # what the model reads back of a run


def numpy_tool() -> Any:
    """`run_numpy(code)`: the program's printed output (or its error), from a fresh sandbox worker."""
    from langchain_core.tools import tool

    from interviewer.sandbox import run_program

    @tool("run_numpy")
    def run_numpy(code: str) -> str:
        """Run a short numpy program in an isolated sandbox and return its printed output.
        Use it only to show a small numeric example (e.g. softmax of a vector)."""
        return run_program(code).as_text()[:TOOL_OUTPUT_CHARS]

    return run_numpy


def tool_code(call: dict) -> str:
    """The program of a run_numpy call; anything else the model asked for is not run."""
    args = call.get("args") or {}
    if call.get("name") != "run_numpy" or not isinstance(args.get("code"), str) or not args["code"].strip():
        raise LLMFailure("tool_call", f"{call.get('name')}({str(args)[:60]})")
    return args["code"]
