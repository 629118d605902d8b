"""Genre distribution charts as PNG bytes, for Discord embeds (only Discord shows images).

Drawn with matplotlib's object API on an Agg canvas: no pyplot state machine, no display, so charts
can be drawn from worker threads at the same time. Every text on a chart (a title a member chose,
genre names a server taught) is drawn as itself: matplotlib reads ``$...$`` as mathematics, where a
title like ``$$$ money $$$`` fails to parse, so no text here is parsed (``parse_math=False``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_BAR = "#5865F2"  # Discord blurple
_TOP = "#EB459E"
_OTHER = "#57F287"  # Discord green: the other member's bars


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
    return _png(figure)


def comparison_png(mine: Mapping[str, float], theirs: Mapping[str, float], names: tuple[str, str], title: str) -> bytes:
    """Two members' genre mixes side by side: a pair of horizontal bars per genre, the genres either
    holds most on top, each bar labelled with its percent; ``names`` go in the legend."""
    genres = sorted(mine, key=lambda genre: max(mine[genre], theirs.get(genre, 0.0)))
    figure = Figure(figsize=(6, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = np.arange(len(genres))
    for offset, mix, colour, name in ((0.2, mine, _BAR, names[0]), (-0.2, theirs, _OTHER, names[1])):
        values = [100 * mix.get(genre, 0.0) for genre in genres]
        bars = axes.barh(positions + offset, values, height=0.4, color=colour, label=name)
        axes.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=2, fontsize=7)
    axes.set_yticks(positions, genres, parse_math=False)
    axes.set_xlim(0, 110)
    axes.set_xlabel("share of the taste (%)")
    legend = axes.legend(loc="lower right", fontsize=8)
    for text in legend.get_texts():
        text.set_parse_math(False)
    axes.set_title(title[:80], fontsize=10, parse_math=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
