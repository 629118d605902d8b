"""How close two members' tastes are, as one number, and what they share and where they differ.

The compatibility of two taste profiles (:class:`recommender.profile.TasteProfile`, each built from a
member's history in one server: their shares, listens and likes weighted by recency, dislikes and
skips pushing away) is the mean of two similarities, each in [0, 1]:

- **genres**: the Bhattacharyya coefficient of the two genre mixes, ``sum_k sqrt(a_k * b_k)``: 1 for
  the same mix, near 0 for mixes that share no genre;
- **sound**: the cosine similarity of the two profiles' sound directions (the recency-weighted
  centroids of the songs' embeddings), below 0 counted as 0.

Both are symmetric, so the score is; identical histories give identical profiles, so 100%; members
who like different genres of different sound score low on both. When either profile has no sound
direction (a history of dislikes only), the genres alone decide. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.profile import TasteProfile

# a genre both members give at least this share is one they share; one whose shares differ by at
# least this much is where they differ
_SHARED_SHARE = 0.1
_DIFFERENT_BY = 0.1


def genre_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The Bhattacharyya coefficient of two genre mixes (each summing to 1), in [0, 1]."""
    return float(np.clip(np.sqrt(np.clip(a, 0, None) * np.clip(b, 0, None)).sum(), 0.0, 1.0))


def sound_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The cosine similarity of two unit sound directions, negative counted as 0."""
    return float(np.clip(np.dot(a.astype(np.float64), b.astype(np.float64)), 0.0, 1.0))


def compatibility(a: TasteProfile, b: TasteProfile) -> float:
    """The compatibility of two non-empty profiles in [0, 1] (see the module)."""
    genres = genre_similarity(a.vector, b.vector)
    if a.embedding is None or b.embedding is None:
        return genres
    return 0.5 * genres + 0.5 * sound_similarity(a.embedding, b.embedding)


def shared_genres(a: np.ndarray, b: np.ndarray) -> list[int]:
    """Genre indices both mixes hold at least a tenth of, most shared first."""
    both = np.minimum(a, b)
    return [int(genre) for genre in np.argsort(-both, kind="stable") if both[genre] >= _SHARED_SHARE]


def different_genres(a: np.ndarray, b: np.ndarray) -> list[tuple[int, float]]:
    """(genre index, a's share minus b's) for the genres whose shares differ by at least a tenth,
    largest difference first."""
    difference = a - b
    order = np.argsort(-np.abs(difference), kind="stable")
    return [(int(genre), float(difference[genre])) for genre in order if abs(difference[genre]) >= _DIFFERENT_BY]


def suggestion_scores(taste: TasteProfile, probabilities: np.ndarray, embeddings: np.ndarray | None) -> np.ndarray:
    """How much a member of ``taste`` would probably like each song (rows of ``probabilities``
    ``[n, K]`` and ``embeddings`` ``[n, D]``), in [0, 1]: closeness to their sound, and to their
    genre mix when they have no sound direction."""
    if taste.embedding is not None and embeddings is not None and len(embeddings):
        return np.clip(0.5 * (1.0 + embeddings.astype(np.float64) @ taste.embedding), 0.0, 1.0)
    affinity = probabilities.astype(np.float64) @ taste.vector
    return affinity / max(float(taste.vector.max()), 1e-12)


def best_first(scores: np.ndarray, count: int) -> Sequence[int]:
    """Indices of the ``count`` highest scores, highest first (ties in the given order)."""
    return [int(index) for index in np.argsort(-scores, kind="stable")[:count]]
