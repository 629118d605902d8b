"""Measures of a playlist against a genre mix and of a set of playlists against the pool.

All genre mixes are vectors over GENRES summing to 1. KL divergences use Steck's smoothing (the
second distribution is mixed with a little of the first) so they stay finite when a playlist lacks
a genre; the same smoothing drives the selection in :mod:`recommender.calibrated`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def playlist_mix(probabilities: np.ndarray) -> np.ndarray:
    """Genre mix of a playlist: the mean of its songs' probability vectors ([n, K] -> [K])."""
    return np.asarray(probabilities, dtype=np.float64).mean(axis=0)


def kl_divergence(p: np.ndarray, q: np.ndarray, smoothing: float = 0.01) -> float:
    """KL(p || q~) in nats with q~ = (1 - smoothing) q + smoothing p (Steck 2018, eq. 2)."""
    p = np.asarray(p, dtype=np.float64)
    q_smooth = (1.0 - smoothing) * np.asarray(q, dtype=np.float64) + smoothing * p
    present = p > 0
    return float(np.sum(p[present] * np.log(p[present] / q_smooth[present])))


def normalised_entropy(mix: np.ndarray) -> float:
    """Shannon entropy of a genre mix divided by its maximum: 0 = one genre, 1 = all equally."""
    mix = np.asarray(mix, dtype=np.float64)
    present = mix > 0
    return float(-np.sum(mix[present] * np.log(mix[present])) / np.log(mix.shape[0]))


def intra_list_diversity(embeddings: np.ndarray) -> float:
    """Mean cosine distance (1 - similarity) over all pairs of songs of a list (unit embeddings);
    0 for a list of fewer than two songs."""
    count = embeddings.shape[0]
    if count < 2:
        return 0.0
    similarity = embeddings @ embeddings.T
    pairs = similarity[np.triu_indices(count, k=1)]
    return float(np.mean(1.0 - pairs))


def coverage(playlists: Iterable[Iterable[int]], pool_size: int) -> float:
    """Share of the pool that appears in at least one playlist (song ids or row numbers)."""
    if pool_size == 0:
        return 0.0
    seen: set[int] = set()
    for playlist in playlists:
        seen.update(int(item) for item in playlist)
    return len(seen) / pool_size
