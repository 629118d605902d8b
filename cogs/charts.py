"""Genre distribution charts as PNG bytes, for Discord embeds (only Discord shows images).

Drawn with matplotlib's object API on an Agg canvas: no pyplot state machine, no display, so charts
can be drawn from worker threads at the same time. Every text on a chart (a title a member chose,
genre names a server taught) is drawn as itself: matplotlib reads ``$...$`` as mathematics, where a
title like ``$$$ money $$$`` fails to parse, so no text here is parsed (``parse_math=False``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_BAR = "#5865F2"  # Discord blurple
_TOP = "#EB459E"


def distribution_png(probabilities: Mapping[str, float], title: str) -> bytes:
    """Horizontal bars, most likely genre on top and highlighted, each labelled with its percent."""
    ranked = sorted(probabilities.items(), key=lambda item: item[1])
    labels = [genre for genre, _ in ranked]
    values = [100 * p for _, p in ranked]
    figure = Figure(figsize=(6, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(values))
    bars = axes.barh(positions, values, color=[_BAR] * (len(values) - 1) + [_TOP])
    axes.set_yticks(positions, labels, parse_math=False)
    axes.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=3, fontsize=8)
    axes.set_xlim(0, max(100.0, max(values, default=0) * 1.15))
    axes.set_xlabel("probability (%)")
    axes.set_title(title[:80], fontsize=10, parse_math=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
