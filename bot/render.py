"""Small text renderings shared by the Discord embeds and the console, so both say the same thing."""

from __future__ import annotations

from collections.abc import Mapping

_BLOCKS = " ▏▎▍▌▋▊▉█"


def duration(seconds: float | None) -> str:
    """``4:05``, ``1:02:09``, or ``?`` when unknown."""
    if seconds is None:
        return "?"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def ranked(mix: Mapping[str, float], top: int | None = None) -> list[tuple[str, float]]:
    """Genres by decreasing probability."""
    return sorted(mix.items(), key=lambda item: -item[1])[:top]


def bar(fraction: float, width: int) -> str:
    """A bar of eighth-blocks, ``width`` characters long when ``fraction`` is 1."""
    eighths = int(round(max(0.0, min(1.0, fraction)) * width * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + (_BLOCKS[part] if part else "")).ljust(width)


def bars(mix: Mapping[str, float], top: int | None = None, width: int = 20) -> list[str]:
    """``metal      ██████████████▏      71%`` lines, most likely genre first."""
    return [f"{genre:<10} {bar(p, width)} {100 * p:3.0f}%" for genre, p in ranked(mix, top)]


def mix_summary(mix: Mapping[str, float], top: int = 3) -> str:
    """``metal 71% · rock 18% · pop 4%``"""
    return " · ".join(f"{genre} {100 * p:.0f}%" for genre, p in ranked(mix, top))


def pair_bars(
    mix: Mapping[str, float], other: Mapping[str, float], names: tuple[str, str], top: int = 5, width: int = 10
) -> list[str]:
    """Two genre mixes side by side, the genres either holds most first:
    ``metal      you ████▌      45%  alice █▏         12%``."""
    genres = sorted(mix, key=lambda genre: -max(mix[genre], other.get(genre, 0.0)))[:top]
    first, second = names
    return [
        f"{genre:<10} {first} {bar(mix[genre], width)} {100 * mix[genre]:3.0f}%  "
        f"{second} {bar(other.get(genre, 0.0), width)} {100 * other.get(genre, 0.0):3.0f}%"
        for genre in genres
    ]
