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
from recommender.similarity import cosine


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
    top = top_rows_of_product(by_genre, affinity, np.flatnonzero(excluded), per_genre)
    explore = rng.integers(0, size, config.random_candidates * count)
    candidates = np.union1d(top, explore)
    return candidates[~excluded[candidates]]


def top_rows(scores: np.ndarray, count: int) -> np.ndarray:
    """Rows within the ``count`` best scores of at least one genre (a row of ``scores``), exactly.

    Partitioning all N scores of every genre dominated a request. Instead: the count-th best score
    of a strided sample is a lower bound of the count-th best overall, so only the scores reaching
    that bound (about count x stride of them) need an exact partition. A sample of about
    sqrt(count x N) columns balances the two steps; small pools are partitioned directly.
    """
    stride = _stride(scores.shape[1], count)
    return np.unique(np.concatenate([_top_of(genre_scores, count, stride) for genre_scores in scores]))


def top_rows_of_product(
    by_genre: np.ndarray, affinity: np.ndarray, excluded_rows: np.ndarray, count: int
) -> np.ndarray:
    """``top_rows(by_genre * affinity, count)`` with the ``excluded_rows`` columns at -inf, one genre
    at a time in one reused buffer: the [K, N] product is 40 MB at 1M songs, and writing it, then
    reading it back, cost more than the selection (same rows)."""
    size = by_genre.shape[1]
    stride = _stride(size, count)
    genre_scores = np.empty(size, dtype=np.result_type(by_genre, affinity))
    rows = []
    for genre in by_genre:
        np.multiply(genre, affinity, out=genre_scores)
        genre_scores[excluded_rows] = -np.inf
        rows.append(_top_of(genre_scores, count, stride))
    return np.unique(np.concatenate(rows))


def _stride(size: int, count: int) -> int:
    return int(np.sqrt(size / count))


def _top_of(genre_scores: np.ndarray, count: int, stride: int) -> np.ndarray:
    """Indices of the scores within the ``count`` best of one genre (ties at the bound included)."""
    if stride >= 4:
        sample = genre_scores[::stride]
        bound = np.partition(sample, sample.size - count)[sample.size - count]
        passing = np.flatnonzero(genre_scores >= bound)
    else:
        passing = np.arange(genre_scores.size)
    values = genre_scores[passing]
    kth = np.partition(values, values.size - count)[values.size - count]
    return passing[values >= kth]


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
    wanted = target[present].astype(np.float32)
    # float32 is plenty to rank candidates and makes the per-step log twice as fast
    shares = probabilities[:, present].astype(np.float32)
    base = ((1.0 - weight) * relevance).astype(np.float32)
    mix_sum = np.zeros(wanted.shape[0], np.float32)
    blocked = np.zeros(probabilities.shape[0], dtype=bool)
    chosen: list[int] = []
    while len(chosen) < min(count, probabilities.shape[0]):
        # the smoothed mix if each candidate joined: shares * scale + (what is already in + alpha t)
        scale = np.float32((1.0 - smoothing) / (len(chosen) + 1))
        smoothed = shares * scale + (mix_sum * scale + np.float32(smoothing) * wanted)
        gain = base + np.float32(weight) * (np.log(smoothed) @ wanted)
        gain[blocked] = -np.inf
        best = _best_distinct(gain, embeddings, chosen, blocked, config.dedup_threshold)
        if best is None:  # everything left is chosen or a near-duplicate of a chosen song
            break
        chosen.append(best)
        mix_sum += shares[best]
        blocked[best] = True
    return np.array(chosen, dtype=np.int64)


def _best_distinct(
    gain: np.ndarray,
    embeddings: np.ndarray,
    chosen: list[int],
    blocked: np.ndarray,
    threshold: float,
) -> int | None:
    """The highest-gain candidate that is no near-duplicate of a chosen song, or None.

    Checking only the winner against the few chosen songs (and blocking it for good when it is a
    near-duplicate) costs a handful of dot products per step, where screening every candidate
    after each pick would cost a pass over all their embeddings.
    """
    while True:
        best = int(np.argmax(gain))
        if blocked[best]:
            return None
        if not chosen or cosine(embeddings[chosen], embeddings[best]).max() <= threshold:
            return best
        blocked[best] = True
        gain[best] = -np.inf
