"""Which segments of an input the network analyses, and when it may stop early.

Pure functions over segment indices and per-segment outputs, shared by the engine and the study
that chose their defaults (``python -m studies.segments``; the docs' measurements/segments page):

- ``spread(n, k)``: ``k`` of ``n`` segments evenly spread over the input;
- ``predict_staged``: run ``min_segments`` spread segments first and stop there when their mean
  distribution is already decided (top-1 minus top-2 probability above ``margin``), else run the rest.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# What the engine analyses by default (chosen by studies.segments, see the docs' measurements/segments page):
DEFAULT_MAX_SEGMENTS = 10
DEFAULT_MIN_SEGMENTS = 3
DEFAULT_STOP_MARGIN: float | None = 0.5

Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # segment indices -> probs [k, c], embeddings [k, d]


def spread(n: int, k: int | None) -> np.ndarray:
    """Indices of ``k`` of ``n`` segments evenly spread from the first to the last, ascending
    (all ``n`` when ``k`` is None or at least ``n``)."""
    if k is None or k >= n:
        return np.arange(n)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))


def margin(probabilities: np.ndarray) -> float:
    """Top-1 minus top-2 of a distribution ``[classes]`` (1.0 with a single class)."""
    if probabilities.size < 2:
        return 1.0
    top = np.partition(probabilities, -2)[-2:]
    return float(top[1] - top[0])


def predict_staged(
    predict: Predict, n: int, *, min_segments: int, stop_margin: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Analyse ``n`` segments, stopping after ``min_segments`` of them when the answer is decided.

    ``predict(indices)`` returns the probabilities ``[k, classes]`` and embeddings ``[k, dim]`` of
    those segments. With ``stop_margin`` None, or ``n <= min_segments``, every segment runs in one
    call. Otherwise ``spread(n, min_segments)`` runs first; if the margin of their mean distribution
    exceeds ``stop_margin`` the rest never runs. Returns ``(indices used ascending, probs, embeddings)``.
    """
    if min_segments < 1:
        raise ValueError(f"min_segments must be at least 1, got {min_segments}")
    everything = np.arange(n)
    if stop_margin is None or n <= min_segments:
        probs, embeddings = predict(everything)
        return everything, probs, embeddings
    first = spread(n, min_segments)
    probs, embeddings = predict(first)
    if margin(probs.mean(axis=0)) > stop_margin:
        return first, probs, embeddings
    rest = np.setdiff1d(everything, first)
    more_probs, more_embeddings = predict(rest)
    order = np.argsort(np.concatenate([first, rest]), kind="stable")
    return (
        everything,
        np.concatenate([probs, more_probs])[order],
        np.concatenate([embeddings, more_embeddings])[order],
    )
