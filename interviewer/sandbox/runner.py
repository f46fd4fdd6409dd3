"""The parent side of the sandbox: start a fresh worker, feed it the program, watch it, collect JSON."""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from interviewer.sandbox import layers
from interviewer.sandbox import policy as ast_policy
from interviewer.sandbox.layers import Limits

TRUNCATION_NOTICE = "\n…[출력이 {limit}바이트를 넘어 잘렸습니다. 실행을 중단했습니다]\n"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Policy:
    """Which layers to use. `ast=False` exists so the escape suite can prove the OS layers hold alone."""

    ast: bool = True
    bwrap: bool = True
    limits: Limits = field(default_factory=Limits)


@dataclass
class SandboxResult:
    ok: bool
    stdout: str = ""
    result: str | None = None
    error: str | None = None
    timed_out: bool = False
    figures: list[str] = field(default_factory=list)
    truncated: bool = False
    blocked: str | None = None
    layers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # a layer that was asked for but is missing, and why
    duration_ms: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def as_text(self) -> str:
        """What the program printed, the value of its last expression and the error, as plain text."""
        parts = [self.stdout.rstrip("\n")] if self.stdout.strip() else []
        if self.result is not None:
            parts.append(f"결과: {self.result}")
        if self.error:
            parts.append(f"오류: {self.error}")
        return "\n".join(parts) or "(출력 없음)"

    def save_figures(self, folder: Path, prefix: str) -> list[Path]:
        """Write the figures as `prefix-N.png` files. The worker ran untrusted code, so only real
        PNG data is written: these files may be served to a browser."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for number, figure in enumerate(self.figures, start=1):
            try:
                data = base64.b64decode(figure, validate=True)
            except binascii.Error:
                continue
            if data.startswith(PNG_SIGNATURE):
                path = folder / f"{prefix}-{number}.png"
                path.write_bytes(data)
                paths.append(path)
        return paths


def run_program(code: str, *, policy: Policy | None = None) -> SandboxResult:
    """Run untrusted numpy code in a fresh, isolated worker process. Never raises for bad code."""
    pol = policy or Policy()
    started = time.monotonic()
    if pol.ast:
        blocked = ast_policy.check_program(code)
        if blocked:
            return SandboxResult(ok=False, error=blocked.describe(), blocked=blocked.rule, layers=["ast"])
    result = _run_worker(code, pol)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _run_worker(code: str, pol: Policy) -> SandboxResult:
    bwrap, why_not = layers.bwrap_status() if pol.bwrap else (None, "꺼짐")
    scratch = tempfile.mkdtemp(prefix="interviewer-sandbox-")
    try:
        inner_scratch = layers.SCRATCH_IN_BWRAP if bwrap else scratch
        if not bwrap and os.geteuid() == 0:
            os.chown(scratch, layers.NOBODY, layers.NOBODY)  # the worker drops to nobody
        argv = [sys.executable, "-I", "-B", "-X", "utf8", "-m", "interviewer.sandbox.worker"]
        if bwrap:
            argv = layers.bwrap_argv(bwrap) + argv
        result = _supervise(argv, code, pol, scratch=scratch, env=_worker_env(inner_scratch))
        if bwrap:
            result.layers.insert(0, "bwrap")
        elif pol.bwrap:
            result.notes.append(f"bwrap 없이 나머지 계층으로 실행했습니다: {why_not}")
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _worker_env(scratch: str) -> dict[str, str]:
    """An empty environment but for what numpy and matplotlib need: no keys, no tokens, no PATH."""
    env = {name: "1" for name in THREAD_ENV}
    env.update(HOME=scratch, TMPDIR=scratch, MPLCONFIGDIR=f"{scratch}/mpl", MPLBACKEND="Agg",
               LANG="C.UTF-8")
    return env


def _supervise(argv: list[str], code: str, pol: Policy, *, scratch: str, env: dict) -> SandboxResult:
    result_r, result_w = os.pipe()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env, cwd=scratch, pass_fds=(result_w,), start_new_session=True)
    except OSError as exc:
        os.close(result_r)
        os.close(result_w)
        return SandboxResult(ok=False, error=f"샌드박스 작업 프로세스를 시작할 수 없습니다: {exc}")
    os.close(result_w)
    request = {"code": code, "ast": pol.ast, "pyplot": ast_policy.uses_pyplot(code), "result_fd": result_w,
               "limits": dataclasses.asdict(pol.limits), "libraries": layers.native_libraries()}
    try:
        _send_request(proc, request)
        output, raw_result, reason = _collect(proc, result_r, pol.limits)
    finally:
        _kill(proc)
        os.close(result_r)
    return _interpret(proc.returncode, output, raw_result, reason, pol.limits)


def _send_request(proc: subprocess.Popen, request: dict) -> None:
    assert proc.stdin is not None  # started with stdin=PIPE
    try:
        proc.stdin.write(json.dumps(request).encode("utf-8"))
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the worker died at start; its exit status tells the story


def _collect(proc: subprocess.Popen, result_fd: int, limits: Limits) -> tuple[bytes, bytes, str | None]:
    """Read output and result until both close, the wall clock runs out, or a cap is hit."""
    deadline = time.monotonic() + limits.wall_seconds
    output, result = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None  # started with stdout=PIPE
    sel.register(proc.stdout, selectors.EVENT_READ, output)
    sel.register(result_fd, selectors.EVENT_READ, result)
    reason = None
    while sel.get_map() and reason is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reason = "wall"
            break
        for key, _ in sel.select(timeout=min(remaining, 0.5)):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            key.data.extend(chunk)
            if len(output) > limits.output_bytes:
                reason = "output"
            elif len(result) > limits.result_bytes:
                reason = "result"
    sel.close()
    if reason is None:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            reason = "wall"
    return bytes(output), bytes(result), reason


def _kill(proc: subprocess.Popen) -> None:
    """Kill the worker's whole process group (bwrap's pid namespace takes everything inside with it)."""
    for target in (lambda: os.killpg(proc.pid, signal.SIGKILL), lambda: proc.kill()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            target()
    proc.wait()
    if proc.stdout:
        proc.stdout.close()


def _interpret(returncode: int, output: bytes, raw_result: bytes, reason: str | None,
               limits: Limits) -> SandboxResult:
    stdout = output[: limits.output_bytes].decode("utf-8", errors="replace")
    if reason == "output":
        stdout += TRUNCATION_NOTICE.format(limit=f"{limits.output_bytes:,}")
        return SandboxResult(ok=False, stdout=stdout, truncated=True,
                             error=f"출력이 너무 깁니다 ({limits.output_bytes:,}바이트 초과) — 실행을 중단했습니다.")
    if reason == "wall":
        return SandboxResult(ok=False, stdout=stdout, timed_out=True,
                             error=f"실행 시간이 제한({limits.wall_seconds:g}초)을 넘어 중단했습니다.")
    if reason == "result":
        return SandboxResult(ok=False, stdout=stdout, error="결과(그림 포함)가 너무 커서 버렸습니다.")
    parsed = _parse_result(raw_result)
    if parsed is None:
        return SandboxResult(ok=False, stdout=stdout, timed_out=_cpu_killed(returncode),
                             error=_death_message(returncode, limits))
    return SandboxResult(ok=bool(parsed.get("ok")), stdout=stdout, result=_str_or_none(parsed.get("result")),
                         error=_str_or_none(parsed.get("error")), blocked=_str_or_none(parsed.get("blocked")),
                         figures=[f for f in parsed.get("figures", []) if isinstance(f, str)],
                         layers=[x for x in parsed.get("layers", []) if isinstance(x, str)],
                         notes=[x for x in [parsed.get("seccomp_error")] if isinstance(x, str)])


def _parse_result(raw: bytes) -> dict | None:
    """Plain JSON only, and only a dict: whatever else the worker wrote is ignored."""
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _str_or_none(value) -> str | None:
    return value if isinstance(value, str) else None


def _cpu_killed(returncode: int) -> bool:
    return returncode in (-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL)


def _death_message(returncode: int, limits: Limits) -> str:
    if _cpu_killed(returncode):
        return f"CPU 시간 제한({limits.cpu_seconds}초)을 넘어 중단했습니다."
    if returncode < 0:
        return f"작업 프로세스가 신호 {signal.Signals(-returncode).name}로 종료되었습니다."
    if returncode > 128:
        return f"작업 프로세스가 신호 {returncode - 128}로 종료되었습니다."
    return f"작업 프로세스가 결과 없이 종료되었습니다 (종료 코드 {returncode})."
