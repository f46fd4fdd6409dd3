"""Sandbox round trip: a trivial program through a fresh worker, as run_program's caller sees it.

Goal (issue 7): p50 <= 400 ms on 2 cores. Also reports a numpy program and a plot, which pay for
importing matplotlib and building its font cache in the fresh scratch directory.
"""

from __future__ import annotations

import statistics
import time

from common import percentile

from interviewer.sandbox import run_program, sandbox_layers

PROGRAMS = {
    "trivial (1 + 1)": "1 + 1",
    "numpy (np.linalg.solve)": "import numpy as np\nnp.linalg.solve(np.eye(3) * 2, np.ones(3))",
    "plot (matplotlib Agg)": "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])",
}


def timed(code: str) -> float:
    started = time.perf_counter()
    result = run_program(code)
    if not result.ok:
        raise SystemExit(f"benchmark program failed: {result.error}")
    return (time.perf_counter() - started) * 1000


def main(repeats: int = 30) -> dict:
    layers = sandbox_layers()  # also warms the bwrap probe, which is cached per process
    print("active layers:", ", ".join(name for name, on in layers.items() if on is True))
    figures = {}
    for label, code in PROGRAMS.items():
        runs = repeats if label.startswith("trivial") else max(5, repeats // 3)
        samples = [timed(code) for _ in range(runs)]
        figures[label] = {"p50_ms": statistics.median(samples), "p95_ms": percentile(samples, 0.95)}
        print(f"{label:26s} p50 {figures[label]['p50_ms']:6.0f} ms   p95 {figures[label]['p95_ms']:6.0f} ms"
              f"   (n={runs})")
    print("goal: trivial p50 <= 400 ms")
    return figures


if __name__ == "__main__":
    main()
