"""What every chart shares (matplotlib, Agg, no pyplot: figures are built per call, safe across
threads): the Korean font when installed, the score colours, inline SVG, and loading it all early."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties


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
