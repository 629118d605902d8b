"""The selection itself: calibration against relevance, the near-duplicate guard, the shortlist."""

from __future__ import annotations

import numpy as np

from benchmarks.synthetic import make_pool
from recommender.calibrated import select, shortlist, top_rows, top_rows_of_product
from recommender.config import RecommenderConfig
from recommender.metrics import kl_divergence, playlist_mix
from recommender.pool import PoolArrays

CONFIG = RecommenderConfig()


def genre_pool(size: int = 400, seed: int = 1) -> PoolArrays:
    pool = make_pool(size, 16, np.random.default_rng(seed))
    return PoolArrays.of(pool.probabilities, pool.embeddings)


def test_calibration_trades_relevance_for_the_target_mix() -> None:
    pool = genre_pool()
    relevance = pool.probabilities[:, 5].astype(np.float64)  # a relevance that only loves jazz
    target = np.full(10, 0.1)

    def kl_at(weight: float) -> float:
        config = RecommenderConfig(calibration_weight=weight)
        chosen = select(pool.probabilities, pool.embeddings, relevance, target, 10, config)
        assert len(set(chosen.tolist())) == 10
        return kl_divergence(target, playlist_mix(pool.probabilities[chosen]))

    relevance_only, default, calibration_only = kl_at(0.0), kl_at(CONFIG.calibration_weight), kl_at(1.0)
    assert calibration_only < 0.02 < default < 0.25 * relevance_only
    assert relevance_only > 1.0


def test_near_duplicates_never_share_a_playlist() -> None:
    pool = genre_pool(40)
    embeddings = pool.embeddings.copy()
    embeddings[1:6] = embeddings[0]  # five re-uploads of the same recording
    relevance = np.zeros(40)
    relevance[:6] = 1.0
    chosen = select(pool.probabilities, embeddings, relevance, pool.mix, 10, CONFIG)
    assert len(set(chosen.tolist()) & set(range(6))) == 1


def test_selection_stops_when_only_near_duplicates_are_left() -> None:
    pool = genre_pool(8)
    same = np.tile(pool.embeddings[:1], (8, 1))
    chosen = select(pool.probabilities, same, np.ones(8), pool.mix, 5, CONFIG)
    assert len(chosen) == 1


def test_shortlist_holds_each_genres_strongest_songs_and_never_excluded_ones() -> None:
    pool = genre_pool(2_000)
    excluded = np.zeros(len(pool), bool)
    excluded[::3] = True
    affinity = np.ones(len(pool), np.float32)
    candidates = shortlist(pool.by_genre, affinity, excluded, 10, CONFIG, np.random.default_rng(0))
    assert not excluded[candidates].any()
    assert np.all(np.diff(candidates) > 0)
    for genre in range(10):
        scores = np.where(excluded, -1.0, pool.by_genre[genre])
        assert int(np.argmax(scores)) in candidates
    assert len(candidates) <= 10 * CONFIG.shortlist_per_genre * 10 + CONFIG.random_candidates * 10


def test_shortlist_of_a_fully_excluded_pool_is_empty() -> None:
    pool = genre_pool(30)
    candidates = shortlist(
        pool.by_genre, np.ones(30, np.float32), np.ones(30, bool), 5, CONFIG, np.random.default_rng(0)
    )
    assert candidates.size == 0


def test_shortlisttop_rows_are_exactly_each_genres_best() -> None:
    rng = np.random.default_rng(7)
    scores = rng.random((10, 50_000)).astype(np.float32)
    scores[:, rng.integers(0, 50_000, 5_000)] = -np.inf  # excluded songs
    scores[3, :40_000] = 0.0  # a genre whose scores are mostly tied at zero
    rows = top_rows(scores, 60)
    expected = set()
    for genre_scores in scores:
        expected.update(np.argsort(-genre_scores, kind="stable")[:60].tolist())
    assert set(rows.tolist()) >= expected
    assert len(rows) <= len(expected) + 10  # only exact ties at a genre's threshold may add rows


def test_top_rows_of_the_product_equal_top_rows_of_the_product_matrix() -> None:
    rng = np.random.default_rng(3)
    by_genre = rng.dirichlet(np.ones(10), 5_000).astype(np.float32).T.copy()
    affinity = rng.random(5_000, dtype=np.float32)
    excluded = np.array([0, 17, 4_999])
    scores = by_genre * affinity
    scores[:, excluded] = -np.inf
    rows = top_rows_of_product(by_genre, affinity, excluded, 40)
    np.testing.assert_array_equal(rows, top_rows(scores, 40))
    assert not np.isin(excluded, rows).any()
