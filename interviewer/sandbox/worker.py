"""The child side of the sandbox: one process, one program, then exit.

Protocol: the parent writes one JSON request on stdin and closes it; user output goes to fd 1
(stderr is merged into it by the parent); the result is one JSON object written to the fd named in
the request. Never pickle: the parent must not trust anything this process says beyond plain JSON.

Order matters: read the request, cap resources, import what user code may use, drop privileges,
install seccomp, and only then run user code.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import sys
import traceback

from interviewer.sandbox import layers, policy

MAX_RESULT_REPR = 4000


def main() -> None:
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    _close_stdin()
    result_fd = int(request["result_fd"])
    limits = layers.Limits(**request["limits"])
    layers.apply_rlimits(limits)
    sys.stdout = sys.stderr = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), encoding="utf-8",
                                               errors="replace", write_through=True)
    response: dict[str, object] = {"layers": ["rlimits"]}
    try:
        namespace = _prepare(request, response)
        response.update(_run(request["code"], namespace, enforce_ast=request["ast"]))
        if request["pyplot"]:
            response["figures"] = _collect_figures(limits.max_figures)
    except BaseException as exc:  # noqa: BLE001 - everything user code raises must become a message
        response.update(ok=False, error=_describe_error(exc))
    _send(result_fd, response)


def _close_stdin() -> None:
    """User code gets no standard input: fd 0 becomes /dev/null."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def _prepare(request: dict, response: dict) -> dict:
    """Import what user code may use, then lock the process down; returns the globals for exec."""
    uses_pyplot = bool(request["pyplot"])
    if uses_pyplot:
        _load_pyplot()
    facades = policy.build_facades(with_pyplot=uses_pyplot)
    if request["ast"]:
        namespace: dict[str, object] = {"__builtins__": policy.restricted_builtins(facades), "__name__": "sandbox"}
        response["layers"].append("ast")
    else:
        namespace = {"__builtins__": __builtins__, "__name__": "sandbox"}
    seccomp = layers.load_seccomp(request.get("libraries", {}))
    if layers.drop_privileges():
        response["layers"].append("nobody")
    reason = layers.install_seccomp(seccomp)
    if reason is None:
        response["layers"].append("seccomp")
    else:
        response["seccomp_error"] = reason
    return namespace


def _load_pyplot() -> None:
    """Load pyplot (and build its font cache) before seccomp; Korean labels fall back to Nanum."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    matplotlib.rcParams["font.family"] = ["DejaVu Sans", "NanumGothic"]  # per-glyph fallback
    warnings.filterwarnings("ignore", message=r".*(Glyph|findfont).*")


def _run(code: str, namespace: dict, *, enforce_ast: bool) -> dict:
    """Execute like a REPL cell: the value of a trailing expression becomes `result`."""
    if enforce_ast:
        blocked = policy.check_program(code)
        if blocked:
            return {"ok": False, "error": blocked.describe(), "blocked": blocked.rule}
    tree = policy.parse_program(code)
    if isinstance(tree, policy.Blocked):
        return {"ok": False, "error": tree.describe(), "blocked": tree.rule}
    tail = tree.body[-1] if tree.body else None
    last = tail if isinstance(tail, ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, "<sandbox>", "exec"), namespace)
    result = None
    if last is not None:
        value = eval(compile(ast.Expression(last.value), "<sandbox>", "eval"), namespace)
        if value is not None and not _is_plot_object(value):
            result = repr(value)
            if len(result) > MAX_RESULT_REPR:
                result = result[:MAX_RESULT_REPR] + " …(잘림)"
    return {"ok": True, "result": result}


def _is_plot_object(value) -> bool:
    """`plt.plot(...)` as the last line returns artists; the figure is the result, not their repr."""
    items = value if isinstance(value, list | tuple) and value else [value]
    return all(type(item).__module__.startswith("matplotlib") for item in items)


def _describe_error(exc: BaseException) -> str:
    """`Type: message (N번째 줄)`, the line taken from the innermost frame of the user's code."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == "<sandbox>":
            line = lineno
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, MemoryError):
        text += " — 메모리 제한을 넘었습니다"
    if isinstance(exc, RecursionError):
        text += " — 재귀가 너무 깊습니다"
    return text + (f" ({line}번째 줄)" if line else "")


def _collect_figures(max_figures: int) -> list[str]:
    import matplotlib.pyplot as plt

    figures = []
    for number in plt.get_fignums()[:max_figures]:
        buffer = io.BytesIO()
        plt.figure(number).savefig(buffer, format="png", dpi=80)
        figures.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    plt.close("all")
    return figures


def _send(fd: int, response: dict) -> None:
    data = json.dumps(response, ensure_ascii=False, default=str).encode("utf-8")
    with os.fdopen(fd, "wb") as channel:
        channel.write(data)
    # Skip interpreter shutdown: no user __del__ or atexit hook runs after the result is sent.
    os._exit(0)


if __name__ == "__main__":
    main()
