"""What every benchmark here shares: percentiles, a fresh runtime on a bank, the machine's load,
memory figures of a process, a Chroma server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from interviewer.runtime import Runtime
from interviewer.settings import Settings


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sample."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def runtime_for(home: Path, bank: Path | None = None) -> Runtime:
    """A runtime on a fresh home: the bundled bank, or only `bank` (as `--bank FILE --no-bundled`)."""
    settings = Settings.from_env({**os.environ, "INTERVIEWER_HOME": str(home)})
    if bank is not None:
        settings = settings.with_(extra_banks=(bank,), include_bundled=False)
    return Runtime(settings)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def status_mb(field: str, pid: int | str = "self") -> float:
    """A memory figure of a live process from /proc/PID/status (VmRSS now, VmHWM its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


@contextlib.contextmanager
def chroma_server(path: Path):
    """`chroma run` on a free loopback port over `path`; yields (url, pid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = str(Path(sys.executable).with_name("chroma"))
    proc = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("chroma run did not start listening within 60 s") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)
