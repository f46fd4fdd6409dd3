"""Ingest of the bundled bank: first run into an empty home, then an unchanged re-run.

Each run is a whole `interviewer ingest` process, as a user would see it. Goals (issue 2):
first ingest <= 30 s, unchanged re-ingest <= 3 s on 2 cores.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed_ingest(home: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "interviewer.shells.cli", "ingest", *args], check=True,
                   env={**os.environ, "INTERVIEWER_HOME": home}, capture_output=True)
    return time.perf_counter() - started


def main(repeats: int = 3) -> dict:
    first, unchanged = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as home:
            first.append(timed_ingest(home))
            unchanged.append(timed_ingest(home))
    figures = {"first_ingest_s": statistics.median(first), "unchanged_ingest_s": statistics.median(unchanged)}
    print(f"first ingest (bundled bank):  {figures['first_ingest_s']:.2f} s  (goal <= 30 s)")
    print(f"unchanged re-ingest:          {figures['unchanged_ingest_s']:.2f} s  (goal <= 3 s)")
    return figures


if __name__ == "__main__":
    main()
