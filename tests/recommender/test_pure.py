"""The pure pieces: profile, target, metrics, reasons, similarity, config."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.config import RecommenderConfig
from recommender.genres import GENRES
from recommender.metrics import (
    coverage,
    intra_list_diversity,
    kl_divergence,
    normalised_entropy,
    playlist_mix,
)
from recommender.profile import build_profile, event_weights
from recommender.reasons import genre_summary, reason
from recommender.similarity import nearest
from recommender.target import target_mix
from storage import EventKind
from tests.support.stores import one_hot

CONFIG = RecommenderConfig()
JAZZ, METAL, ROCK = GENRES.index("jazz"), GENRES.index("metal"), GENRES.index("rock")


def test_genres_mirror_the_engine_order() -> None:
    assert GENRES == (
        "blues",
        "classical",
        "country",
        "disco",
        "hiphop",
        "jazz",
        "metal",
        "pop",
        "reggae",
        "rock",
    )


def profile_of(genres: list[int], kinds: list[EventKind], ages: list[float] | None = None):
    weights = event_weights(kinds, np.array(ages or [0.0] * len(kinds)), CONFIG)
    probabilities = np.stack([one_hot(genre) for genre in genres])
    embeddings = np.eye(len(GENRES), dtype=np.float32)[genres]
    return build_profile(np.array(genres), probabilities, embeddings, weights, CONFIG)  # a song per genre


def test_no_history_gives_a_uniform_profile_resting_on_nothing() -> None:
    profile = build_profile(np.zeros(0), np.zeros((0, 10)), None, np.zeros(0), CONFIG)
    assert profile.empty and profile.songs == 0 and profile.embedding is None
    np.testing.assert_allclose(profile.vector, np.full(10, 0.1))


def test_liked_outweighs_listened_outweighs_shared() -> None:
    liked_vs_listened = profile_of([JAZZ, ROCK], [EventKind.LIKED, EventKind.LISTENED])
    listened_vs_shared = profile_of([JAZZ, ROCK], [EventKind.LISTENED, EventKind.SHARED])
    assert liked_vs_listened.vector[JAZZ] > liked_vs_listened.vector[ROCK]
    assert listened_vs_shared.vector[JAZZ] > listened_vs_shared.vector[ROCK]
    assert liked_vs_listened.top_genres(1) == [("jazz", pytest.approx(liked_vs_listened.vector[JAZZ]))]


def test_an_event_counts_half_after_one_half_life() -> None:
    weights = event_weights(
        [EventKind.LIKED, EventKind.LIKED, EventKind.DISLIKED],
        np.array([0.0, CONFIG.half_life_days, -3.0]),
        CONFIG,
    )
    like = CONFIG.event_weights[EventKind.LIKED]
    assert weights.tolist() == pytest.approx([like, like / 2, CONFIG.event_weights[EventKind.DISLIKED]])
    recent_jazz = profile_of([JAZZ, ROCK], [EventKind.LIKED] * 2, ages=[0.0, 90.0])
    assert recent_jazz.vector[JAZZ] > recent_jazz.vector[ROCK]


def test_dislikes_and_skips_push_the_taste_away() -> None:
    base = profile_of([JAZZ, METAL], [EventKind.LIKED, EventKind.LISTENED])
    pushed = profile_of([JAZZ, METAL, METAL], [EventKind.LIKED, EventKind.LISTENED, EventKind.DISLIKED])
    skipped = profile_of([JAZZ, METAL, METAL], [EventKind.LIKED, EventKind.LISTENED, EventKind.SKIPPED])
    assert pushed.vector[METAL] < skipped.vector[METAL] < base.vector[METAL]
    assert pushed.vector.sum() == pytest.approx(1.0) and (pushed.vector >= 0).all()
    assert pushed.songs == 2 and pushed.events == 3


def test_a_history_of_only_dislikes_is_still_a_profile() -> None:
    profile = profile_of([METAL], [EventKind.DISLIKED])
    assert profile.vector[METAL] == 0.0
    assert profile.vector.sum() == pytest.approx(1.0)
    assert profile.embedding is not None and profile.embedding[METAL] < 0


def test_profile_embedding_points_to_the_liked_sound() -> None:
    profile = profile_of([JAZZ, JAZZ, ROCK], [EventKind.LIKED, EventKind.LIKED, EventKind.SHARED])
    assert int(np.argmax(profile.embedding)) == JAZZ
    assert float(np.linalg.norm(profile.embedding)) == pytest.approx(1.0)


def test_target_blends_taste_into_the_pool_mix() -> None:
    taste, pool = one_hot(JAZZ).astype(np.float64), np.full(10, 0.1)
    np.testing.assert_allclose(target_mix(taste, pool, 0.0), taste, rtol=1e-6)
    np.testing.assert_allclose(target_mix(taste, pool, 1.0), pool)
    np.testing.assert_allclose(target_mix(taste, pool, 0.5), (taste + pool) / 2, rtol=1e-6)
    for bad in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError):
            target_mix(taste, pool, bad)


def test_kl_entropy_diversity_and_coverage() -> None:
    uniform, jazz = np.full(10, 0.1), one_hot(JAZZ, 1.0)
    assert kl_divergence(uniform, uniform) == pytest.approx(0.0)
    assert kl_divergence(uniform, jazz) > 1.0 and math.isfinite(kl_divergence(uniform, jazz))
    assert kl_divergence(jazz, uniform) == pytest.approx(-math.log(0.99 * 0.1 + 0.01), rel=1e-6)
    assert normalised_entropy(uniform) == pytest.approx(1.0)
    assert normalised_entropy(jazz) == pytest.approx(0.0)
    np.testing.assert_allclose(playlist_mix(np.stack([jazz, uniform])), (jazz + uniform) / 2)
    same = np.tile(np.eye(4)[:1], (3, 1))
    assert intra_list_diversity(same) == pytest.approx(0.0)
    assert intra_list_diversity(np.eye(4)) == pytest.approx(1.0)
    assert intra_list_diversity(np.eye(4)[:1]) == 0.0
    assert coverage([[1, 2], [2, 3]], 6) == pytest.approx(0.5)
    assert coverage([], 0) == 0.0


def test_reasons_place_the_song_against_the_taste() -> None:
    taste = np.array([0.05, 0, 0, 0, 0, 0.62, 0, 0, 0.03, 0.30])
    target = np.array([0.1, 0.05, 0, 0.05, 0, 0.45, 0.1, 0, 0.05, 0.2])
    jazz = np.array([0, 0, 0, 0.1, 0, 0.62, 0, 0.28, 0, 0])
    assert reason(jazz, taste, target, cold_start=False) == "62% jazz — your top genre"
    assert reason(one_hot(ROCK), taste, target, cold_start=False) == "91% rock — one of your favourite genres"
    assert reason(one_hot(METAL), taste, target, cold_start=False).endswith("from your variety setting")
    assert reason(one_hot(GENRES.index("pop")), taste, target, cold_start=False).endswith("sound you like")
    assert reason(jazz, taste, target, cold_start=True) == "62% jazz — typical of this server's pool"
    mixed = np.array([0.3, 0, 0, 0, 0, 0.45, 0, 0.25, 0, 0])
    assert genre_summary(mixed) == "45% jazz, 30% blues"


def test_nearest_skips_the_query_excluded_rows_and_near_duplicates() -> None:
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(50, 16)).astype(np.float32)
    embeddings[1] = embeddings[0] + 0.01 * embeddings[2]  # a near-duplicate of the query
    embeddings[3] = embeddings[0] + 0.6 * embeddings[4]
    embeddings[5] = embeddings[3]  # a near-duplicate of a result
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    excluded = np.zeros(50, bool)
    excluded[0] = True
    rows, similarities = nearest(embeddings, embeddings[0], 4, excluded=excluded, dedup_threshold=0.98)
    assert rows[0] == 3 and 0 not in rows and 1 not in rows and 5 not in rows
    assert len(rows) == 4 and (np.diff(similarities) <= 0).all()
    none, _ = nearest(embeddings, embeddings[0], 3, excluded=np.ones(50, bool))
    assert none.size == 0


def test_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="liked > listened > shared"):
        RecommenderConfig(event_weights={**CONFIG.event_weights, EventKind.SHARED: 5.0})
    with pytest.raises(ValueError, match="negative"):
        RecommenderConfig(event_weights={**CONFIG.event_weights, EventKind.SKIPPED: 0.1})
    with pytest.raises(ValueError, match="lacks"):
        RecommenderConfig(event_weights={EventKind.LIKED: 1.0})
    with pytest.raises(ValueError, match="half_life_days"):
        RecommenderConfig(half_life_days=0)
    with pytest.raises(ValueError, match="calibration_weight"):
        RecommenderConfig(calibration_weight=1.5)
