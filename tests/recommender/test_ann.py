"""The HNSW index behind "more like this" in large pools (recommender.ann)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from benchmarks.synthetic import make_pool
from recommender.ann import AnnIndex, AnnIndexes
from recommender.config import RecommenderConfig
from recommender.service import more_like_this
from recommender.similarity import nearest
from storage import SQLiteStore
from tests.recommender.conftest import GUILD

SIZE = 3000


@pytest.fixture(scope="module")
def pool() -> tuple[np.ndarray, np.ndarray]:
    embeddings = make_pool(SIZE, 64, np.random.default_rng(7)).embeddings
    return np.arange(10, 10 + SIZE, dtype=np.int64), embeddings


def test_the_index_finds_what_exact_search_finds(pool) -> None:
    ids, embeddings = pool
    index = AnnIndex.build(ids, embeddings)
    recalls = []
    for row in range(0, SIZE, 150):
        excluded = np.zeros(SIZE, bool)
        excluded[row] = True
        truth, truth_similarity = nearest(embeddings, embeddings[row], 10, excluded=excluded)
        found, similarity = index.nearest(ids, embeddings, embeddings[row], 10, excluded=excluded)
        assert row not in found.tolist() and len(found) == 10
        assert np.all(np.diff(similarity) <= 0)  # best first, exact cosines
        assert similarity == pytest.approx(embeddings[found] @ embeddings[row], abs=1e-5)
        recalls.append(len(set(found.tolist()) & set(truth.tolist())) / 10)
    assert np.mean(recalls) >= 0.9


def test_near_duplicates_are_left_out_as_in_exact_search(pool) -> None:
    ids, embeddings = pool
    twin = embeddings.copy()
    twin[1] = twin[0]  # row 1 re-uploads row 0
    index = AnnIndex.build(ids, twin)
    excluded = np.zeros(SIZE, bool)
    excluded[2] = True
    found, similarity = index.nearest(ids, twin, twin[2], 10, excluded=excluded, dedup_threshold=0.98)
    assert not {0, 1} <= set(found.tolist()) and np.all(similarity <= 0.98)


def test_the_index_follows_songs_added_and_removed(pool) -> None:
    ids, embeddings = pool
    index = AnnIndex.build(ids[:-1], embeddings[:-1])
    kept = np.ones(SIZE, bool)
    kept[5] = False  # song ids[5] removed, ids[-1] added
    index.update(ids[kept], embeddings[kept])
    rows, _ = index.nearest(ids[kept], embeddings[kept], embeddings[-1], 1)
    assert ids[kept][rows].tolist() == [ids[-1]]
    rows, _ = index.nearest(ids[kept], embeddings[kept], embeddings[5], 50)
    assert ids[5] not in ids[kept][rows].tolist()


async def test_more_like_this_uses_the_index_once_built_and_exact_search_meanwhile(
    store: SQLiteStore, monkeypatch
) -> None:
    config = RecommenderConfig(ann_min_songs=10)
    matrix = await store.pool_matrix(GUILD)
    song_id = int(matrix.ids[0])
    ann = AnnIndexes()
    exact = await more_like_this(store, GUILD, song_id, 5, config=config, ann=ann)  # starts the build
    while await ann.nearest(GUILD, matrix.ids, matrix.embeddings, matrix.embeddings[0], 1) is None:
        await asyncio.sleep(0.05)

    def no_exact_search(*args, **kwargs):
        raise AssertionError("exact search used although the index is ready")

    monkeypatch.setattr("recommender.service.nearest", no_exact_search)
    indexed = await more_like_this(store, GUILD, song_id, 5, config=config, ann=ann)
    assert [item.song.id for item in indexed] == [item.song.id for item in exact]
