"""A playlist computed from arrays: taste and variety in, pool rows out. No I/O, so the service, the
sweep and the tests all run the very same selection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.calibrated import select, shortlist
from recommender.config import RecommenderConfig
from recommender.pool import PoolArrays
from recommender.profile import TasteProfile
from recommender.similarity import cosine
from recommender.target import target_mix

# songs sampled to estimate the pool's centroid for cold start: enough for a stable mean, and it
# keeps cold start from reading every embedding of a big pool
_CENTROID_SAMPLE = 2048


@dataclass(frozen=True, eq=False)
class Plan:
    """``rows``: pool rows in playlist order. ``relevance``: per chosen song, in [0, 1], without the
    random jitter. ``available``: how many pool songs the user could have been offered."""

    rows: np.ndarray
    relevance: np.ndarray
    target: np.ndarray
    cold_start: bool
    available: int


def excluded_rows(pool_size: int, history_rows: np.ndarray, added_by: np.ndarray, user_id: int) -> np.ndarray:
    """Mask of the songs a user already has: everything in their history and what they added."""
    excluded = added_by == user_id
    excluded[history_rows] = True
    return excluded


def plan_playlist(
    pool: PoolArrays,
    excluded: np.ndarray,
    profile: TasteProfile,
    variety: float,
    count: int,
    config: RecommenderConfig,
    rng: np.random.Generator,
) -> Plan:
    """Choose up to ``count`` songs.

    A user with a history gets the target mix between their taste and the pool's mix, and relevance
    by closeness to their sound. Cold start (no history) aims at the pool's own mix with relevance
    by closeness to the pool's centroid: the server's most representative songs.
    """
    if profile.empty:
        target, anchor_mix = pool.mix, pool.mix
        sample = rng.choice(len(pool), min(len(pool), _CENTROID_SAMPLE), replace=False)
        centroid = pool.embeddings[sample].mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        anchor_sound = centroid / norm if norm > 1e-9 else None
    else:
        target = target_mix(profile.vector, pool.mix, variety)
        anchor_mix, anchor_sound = profile.vector, profile.embedding

    # uniform jitter: as good as Gaussian for shuffling near-ties, and half the cost on 1M songs
    jitter = rng.random(len(pool), dtype=np.float32)
    jitter -= np.float32(0.5)  # in place: each 1M-float temporary costs a millisecond
    jitter *= np.float32(2.0 * config.exploration)
    # einsum, not @: OpenBLAS's gemv on this [1, K] x [K, N] shape is 50x slower on a busy machine
    weights = (anchor_mix / anchor_mix.max()).astype(np.float32)
    affinity = np.einsum("k,kn->n", weights, pool.by_genre)
    candidates = shortlist(pool.by_genre, affinity + jitter, excluded, count, config, rng)
    if anchor_sound is not None:
        relevance = 0.5 * (1.0 + cosine(pool.embeddings[candidates], anchor_sound))
    else:
        relevance = affinity[candidates]
    relevance = np.clip(relevance, 0.0, 1.0).astype(np.float64)
    picked = select(
        pool.probabilities[candidates],
        pool.embeddings[candidates],
        relevance + jitter[candidates],
        target,
        count,
        config,
    )
    return Plan(
        rows=candidates[picked],
        relevance=relevance[picked],
        target=target,
        cold_start=profile.empty,
        available=len(pool) - int(excluded.sum()),
    )
