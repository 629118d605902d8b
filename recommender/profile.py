"""A user's taste profile: what their history says they like, as a genre mix and a sound.

Pure functions over arrays; :mod:`recommender.service` reads the history from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recommender.config import RecommenderConfig
from recommender.genres import GENRES
from storage.base import EventKind

_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, eq=False)
class TasteProfile:
    """``vector``: genre mix over GENRES summing to 1 (uniform when nothing is known).
    ``embedding``: unit-length direction of the user's sound in embedding space, None without
    history. ``songs`` / ``events``: how much history the profile rests on."""

    vector: np.ndarray
    embedding: np.ndarray | None
    songs: int
    events: int

    @property
    def empty(self) -> bool:
        return self.songs == 0

    def top_genres(self, count: int = 3) -> list[tuple[str, float]]:
        """The ``count`` strongest genres with their shares, strongest first."""
        order = np.argsort(-self.vector, kind="stable")[:count]
        return [(GENRES[index], float(self.vector[index])) for index in order]


def event_weights(kinds: Sequence[EventKind], ages_days: np.ndarray, config: RecommenderConfig) -> np.ndarray:
    """Signed weight of each event: its kind's weight halved every ``half_life_days`` of age, so a
    like from last week counts more than one from last year. Future timestamps (clock skew) count
    as now."""
    base = np.array([config.event_weights[kind] for kind in kinds], dtype=np.float64)
    ages = np.maximum(np.asarray(ages_days, dtype=np.float64), 0.0)
    return base * 0.5 ** (ages / config.half_life_days)


def build_profile(
    song_ids: np.ndarray,
    probabilities: np.ndarray,
    embeddings: np.ndarray | None,
    weights: np.ndarray,
    config: RecommenderConfig,
) -> TasteProfile:
    """Weighted mean of the history's genre vectors, with dislikes and skips pushing away.

    Positive events (plus a uniform pseudo-song of weight ``taste_prior``) make a mix; the negative
    events' mix is subtracted from it in proportion to their share of all the weight, and the
    result is clipped at zero and renormalised. Subtracting in proportion (rather than summing
    signed weights) keeps one dislike from wiping out a thin history, while many dislikes of a genre
    do remove it. The embedding direction is built the same way from the songs' embeddings.
    """
    genre_count = len(GENRES)
    if len(song_ids) == 0:
        return TasteProfile(np.full(genre_count, 1.0 / genre_count), None, songs=0, events=0)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    positive = np.clip(weights, 0.0, None)
    negative = np.clip(-weights, 0.0, None)
    positive_total = config.taste_prior + positive.sum()
    negative_total = negative.sum()
    push = negative_total / (positive_total + negative_total)

    liked_mix = (config.taste_prior / genre_count + positive @ probabilities) / positive_total
    disliked_mix = negative @ probabilities / negative_total if negative_total > 0 else 0.0
    vector = np.clip(liked_mix - push * disliked_mix, 0.0, None)
    total = vector.sum()
    vector = vector / total if total > 0 else np.full(genre_count, 1.0 / genre_count)

    embedding = None
    if embeddings is not None:
        liked_sound = positive @ embeddings / positive_total
        disliked_sound = negative @ embeddings / negative_total if negative_total > 0 else 0.0
        direction = liked_sound - push * disliked_sound
        norm = float(np.linalg.norm(direction))
        embedding = (direction / norm).astype(np.float32) if norm > 1e-9 else None
    return TasteProfile(vector, embedding, songs=int(np.unique(song_ids).size), events=int(len(song_ids)))


def group_profile(profiles: Sequence[TasteProfile]) -> TasteProfile:
    """The taste of several listeners together (the radio's channel): the mean of their genre
    vectors and the normalised mean of their sound directions, over listeners with a history.
    Listeners without one have no taste to add and are left out; with nobody's history the group
    is empty (cold start: the server's typical songs)."""
    known = [profile for profile in profiles if not profile.empty]
    if not known:
        return TasteProfile(np.full(len(GENRES), 1.0 / len(GENRES)), None, songs=0, events=0)
    vector = np.mean([profile.vector for profile in known], axis=0)
    vector = vector / vector.sum()
    sounds = [profile.embedding for profile in known if profile.embedding is not None]
    embedding = None
    if sounds:
        direction = np.mean(sounds, axis=0)
        norm = float(np.linalg.norm(direction))
        embedding = (direction / norm).astype(np.float32) if norm > 1e-9 else None
    return TasteProfile(vector, embedding, songs=sum(p.songs for p in known), events=sum(p.events for p in known))
