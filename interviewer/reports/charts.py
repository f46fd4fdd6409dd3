"""What every chart shares (matplotlib, Agg, no pyplot: figures are built per call, safe across
threads): the Korean font when installed, the score colours, inline SVG, and loading it all early."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from interviewer.core.clock import local_zone, minutes

if TYPE_CHECKING:
    from datetime import tzinfo

    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    from interviewer.history.progress import SessionLine


@lru_cache(maxsize=1)
def korean_font() -> FontProperties | None:
    """NanumGothic when installed (Debian fonts-nanum); None otherwise, and labels fall back to ASCII."""
    from matplotlib import font_manager

    try:
        path: str | None = str(font_manager.findfont(font_manager.FontProperties(family="NanumGothic"),
                                                     fallback_to_default=False))
    except ValueError:
        # matplotlib's font cache predates a font installed later (apt-get install fonts-nanum):
        # look at the font files themselves.
        path = next((p for p in font_manager.findSystemFonts() if Path(p).name == "NanumGothic.ttf"), None)
    return font_manager.FontProperties(fname=path) if path else None


def score_colour(score: float) -> str:
    return "#cf222e" if score < 40 else "#d4a72c" if score < 70 else "#2da44e"


def svg_of(fig: Figure) -> str:
    """The figure as an inline <svg> element: text drawn as paths, so no font is needed to view it."""
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = out.getvalue()
    return text[text.index("<svg"):]


def warm_up_charts() -> None:
    """Import matplotlib and find the font ahead of time, so the first report does not wait for it."""
    from matplotlib.figure import Figure

    korean_font()
    svg_of(Figure(figsize=(1, 1)))


def progress_figure(lines: list[SessionLine], zone: tzinfo | None = None) -> Figure | None:
    """Average score per session over time (oldest left, in `zone`), or None before the first graded session."""
    from matplotlib.figure import Figure

    points = sorted((line.started_at, line.average_score) for line in lines if line.average_score is not None)
    if not points:
        return None
    font = korean_font()
    xs = list(range(len(points)))
    scores = [score for _, score in points]
    fig = Figure(figsize=(6.4, 3.2), dpi=100)
    ax = fig.add_subplot()
    ax.plot(xs, scores, color="#57606a", zorder=1)
    ax.scatter(xs, scores, c=[score_colour(s) for s in scores], zorder=2)
    ax.set_xticks(xs, [minutes(started, zone or local_zone())[5:].replace(" ", "\n") for started, _ in points],
                  fontsize="small")
    ax.set_ylim(0, 105)
    ax.set_ylabel("평균 점수" if font else "average score", fontproperties=font)
    ax.set_title("면접별 평균 점수" if font else "Average score per interview", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
