"""Calibrated playlist selection (Steck, "Calibrated Recommendations", RecSys 2018), vectorised.

Greedy: at each step add the candidate that maximises

    (1 - lambda) * relevance(song) - lambda * KL(target || mix(playlist + song))

where mix is the mean genre vector of the playlist, smoothed towards the target so the divergence
stays finite. Steck shows the greedy choice is a (1 - 1/e) approximation of the best list.

Why a shortlist: the greedy step costs O(candidates x genres) per song, so running it over the whole
pool would make a 1M-song server cost 20 passes over 1M rows. Instead one O(pool x genres) pass keeps,
for every genre, the songs scoring highest on that genre times their (jittered) affinity to the
user, plus a few songs drawn uniformly at random (exploration, and a way out for tastes the genre
scores rank poorly). Every genre the target may ask for thus has its strongest, most relevant
candidates in the shortlist, the greedy step only ever sees a few hundred songs, and the whole
selection stays linear in the pool.
"""

from __future__ import annotations

import numpy as np

from recommender.config import RecommenderConfig
from recommender.similarity import near_duplicates_of


def shortlist(
    by_genre: np.ndarray,
    affinity: np.ndarray,
    excluded: np.ndarray,
    count: int,
    config: RecommenderConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """Candidate rows for a playlist of ``count`` songs (sorted, no excluded row).

    ``by_genre`` is the pool's probabilities transposed ([K, N]); ``affinity`` [N] already carries
    the random jitter, so a fresh seed gives a different shortlist.
    """
    size = by_genre.shape[1]
    available = size - int(excluded.sum())
    if available == 0:
        return np.zeros(0, np.int64)
    per_genre = min(config.shortlist_per_genre * count, available)
    scores = by_genre * affinity
    scores[:, np.flatnonzero(excluded)] = -np.inf
    # each genre's per_genre-th best score, then every song reaching it in some genre: partitioning
    # values and comparing is twice as fast as argpartition on [K, N]
    thresholds = np.partition(scores, size - per_genre, axis=1)[:, size - per_genre]
    top = np.flatnonzero((scores >= thresholds[:, None]).any(axis=0))
    explore = rng.integers(0, size, config.random_candidates * count)
    candidates = np.union1d(top, explore)
    return candidates[~excluded[candidates]]


def select(
    probabilities: np.ndarray,
    embeddings: np.ndarray,
    relevance: np.ndarray,
    target: np.ndarray,
    count: int,
    config: RecommenderConfig,
) -> np.ndarray:
    """Indices into the candidates, in playlist order, of at most ``count`` songs (fewer when the
    candidates run out once near-duplicates are set aside).

    KL(t || q) = sum t log t - sum t log q, and the first sum does not depend on the candidate, so
    each step ranks candidates by (1 - lambda) relevance + lambda sum t log q: one log over the
    candidates' smoothed mixes, no divisions.
    """
    weight, smoothing = config.calibration_weight, config.kl_smoothing
    present = target > 0
    wanted = target[present]
    shares = probabilities[:, present].astype(np.float64)
    mix_sum = np.zeros(wanted.shape[0])
    blocked = np.zeros(probabilities.shape[0], dtype=bool)
    chosen: list[int] = []
    for step in range(min(count, probabilities.shape[0])):
        smoothed = (mix_sum + shares) * ((1.0 - smoothing) / (step + 1)) + smoothing * wanted
        gain = (1.0 - weight) * relevance + weight * np.einsum("ck,k->c", np.log(smoothed), wanted)
        gain[blocked] = -np.inf
        best = int(np.argmax(gain))
        if blocked[best]:  # everything left is chosen or a near-duplicate of a chosen song
            break
        chosen.append(best)
        mix_sum += shares[best]
        blocked |= near_duplicates_of(embeddings, best, config.dedup_threshold)
        blocked[best] = True
    return np.array(chosen, dtype=np.int64)
