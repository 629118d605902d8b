"""Markdown for the measurement pages the benchmarks' and studies' ``render`` functions write."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table: ``header`` cells, then one line per row (cells already formatted, or
    anything ``str`` shows well)."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def percent(share: float, digits: int = 1) -> str:
    """``0.912`` -> ``91.2%``."""
    return f"{100 * share:.{digits}f}%"
