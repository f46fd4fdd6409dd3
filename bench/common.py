"""What every benchmark here shares: percentiles, a fresh runtime on a bank, the machine's load."""

from __future__ import annotations

import os
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
