"""What the benchmarks share to time things: percentiles, and a measurement taken on an otherwise idle
machine and again while another process keeps one core busy (shared machines are noisy, so both
are measured side by side in one run, with their ratio)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np


@contextmanager
def one_core_busy() -> Iterator[None]:
    """While inside, another process spins on one core (``python -c 'while True: pass'``)."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # let the scheduler see it
        yield
    finally:
        spinner.kill()
        spinner.wait()


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 to 1, linear interpolation) of ``values``; NaN when there are none."""
    return float(np.quantile(values, q)) if len(values) else float("nan")


def p50(values: Sequence[float]) -> float:
    """The median, rounded to 0.1 (of milliseconds, as the tables show them)."""
    return round(quantile(values, 0.5), 1)


def idle_and_busy(measure: Callable[[], list[float]], warm_up: Callable[[], object]) -> dict[str, float]:
    """``{"idle_ms", "busy_ms", "ratio"}``: the p50 of what ``measure`` returns (milliseconds), idle
    and with one core busy, after one ``warm_up`` (first-run allocations, lazy imports, start-up)."""
    warm_up()
    idle = p50(measure())
    with one_core_busy():
        busy = p50(measure())
    return {"idle_ms": idle, "busy_ms": busy, "ratio": round(busy / idle, 2)}
