"""The server's map as a PNG: every song a point placed by sound, coloured by its genre, the asking
member's songs marked, a few titles to find one's way, a legend. Both front ends show it (Discord
posts it, the console writes it to a file).

Readable from a handful of songs to 100,000: points shrink and fade as the pool grows, so where
songs crowd the colour deepens (the density shows) instead of one blot; the member's songs are drawn
last, ringed; only a few titles are written, those of songs that stand for the pool's main sounds
(``recommender.starter``), so labels never cover the map. Drawn with matplotlib's object API on an
Agg canvas (no pyplot state, safe in worker threads); every text (a title a member chose, a genre a
server taught) is drawn as itself, never parsed as mathematics (``parse_math=False``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

# matplotlib's tab10 with a dark indigo for its grey (grey is for songs outside the genre shown),
# given out to the genres by their song counts, so the largest genre is always blue
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#393b79",
    "#bcbd22",
    "#17becf",
)
OTHER = "#c8c8c8"
MINE = "#111111"
TITLE_CHARS = 28


def point_style(songs: int) -> tuple[float, float]:
    """(marker area in points², opacity) for a map of ``songs``: large and solid for a few songs,
    tiny and faint for a hundred thousand, so crowded places read as deeper colour."""
    size = float(np.clip(12_000 / max(songs, 1), 2.0, 40.0))
    alpha = float(np.clip(3_000 / max(songs, 1), 0.3, 0.9))
    return size, alpha


def draw_map(
    points: np.ndarray,
    groups: np.ndarray,
    names: Sequence[str],
    mine: np.ndarray,
    labelled: Sequence[tuple[int, str]],
    title: str,
) -> bytes:
    """The PNG of a map. ``points``: float ``[N, 2]``; ``groups``: int ``[N]``, an index into
    ``names`` (at most ten) or -1 for songs shown in grey; ``mine``: bool ``[N]``, the asking
    member's songs; ``labelled``: (row, title) of the songs whose titles are written."""
    figure = Figure(figsize=(9, 7.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    size, alpha = point_style(len(points))
    counts = np.bincount(groups + 1, minlength=len(names) + 1)
    order = np.argsort(counts[groups + 1], kind="stable")[::-1]  # the largest groups first, the small on top
    colours = np.array([OTHER, *_colours(counts)])[groups[order] + 1]
    axes.scatter(points[order, 0], points[order, 1], s=size, c=colours, alpha=alpha, linewidths=0, rasterized=True)
    if mine.any():
        axes.scatter(
            points[mine, 0], points[mine, 1], s=max(size * 3, 30), facecolors="none", edgecolors=MINE, linewidths=1.2
        )
    middle = float(points[:, 0].min() + points[:, 0].max()) / 2
    for row, text in labelled:
        right_half = bool(points[row, 0] > middle)  # written towards the middle, so it stays on the map
        axes.annotate(
            _short(text),
            points[row],
            xytext=(-4 if right_half else 4, 4),
            textcoords="offset points",
            ha="right" if right_half else "left",
            fontsize=8,
            parse_math=False,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.75},
        )
    legend = axes.legend(handles=_legend(groups, names, mine), loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    for text in legend.get_texts():
        text.set_parse_math(False)
    axes.set_title(title[:100], fontsize=11, parse_math=False)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_xlabel("closer together = sounds more alike", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _colours(counts: np.ndarray) -> list[str]:
    """Each group's colour (``counts``: songs per group, after the grey ones'): the palette in order of
    the groups' sizes, largest first."""
    ranks = np.empty(len(counts) - 1, np.int64)
    ranks[np.argsort(-counts[1:], kind="stable")] = np.arange(len(counts) - 1)
    return [PALETTE[rank % len(PALETTE)] for rank in ranks]


def _legend(groups: np.ndarray, names: Sequence[str], mine: np.ndarray) -> list[Line2D]:
    """One entry per group present (most songs first), grey for the rest, then the member's songs."""
    counts = np.bincount(groups + 1, minlength=len(names) + 1)
    colours = _colours(counts)
    entries = [
        _entry(colours[group], f"{names[group]} ({counts[group + 1]:,})")
        for group in np.argsort(-counts[1:], kind="stable")
        if counts[group + 1]
    ]
    if counts[0]:
        entries.append(_entry(OTHER, f"other songs ({counts[0]:,})"))
    if mine.any():
        entries.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="none",
                markeredgecolor=MINE,
                label=f"yours ({int(mine.sum()):,})",
            )
        )
    return entries


def _entry(colour: str, label: str) -> Line2D:
    return Line2D([], [], marker="o", linestyle="", color=colour, label=label)


def _short(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"
