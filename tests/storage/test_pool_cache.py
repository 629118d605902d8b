"""The pool cache on its own: least recently read pools leave first past the byte budget, and a new
song joins a cached pool in place without changing what earlier readers hold."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import pytest

from storage.base import PoolMatrix, Song
from storage.common import matrix_from_rows
from storage.pool_cache import LOG_EVERY_S, CachedPool, PoolCache, budget_bytes

DIM = 8


def row(song_id: int, *, tags: int | None = None) -> tuple:
    rng = np.random.default_rng(song_id)
    vector = rng.random(10, dtype=np.float32)
    tag_blob = None if tags is None else rng.random(tags, dtype=np.float32).tobytes()
    return (song_id, 7, (vector / vector.sum()).tobytes(), rng.random(DIM, dtype=np.float32).tobytes(), tag_blob, None)


def matrix(ids: range, guild_id: int = 1, *, tags: int | None = None) -> PoolMatrix:
    return matrix_from_rows(guild_id, [row(song_id, tags=tags) for song_id in ids], 10)


def song(song_id: int, guild_id: int = 1, *, tags: int | None = None, confident: bool | None = None) -> Song:
    _, added_by, probabilities, embedding, tag_blob, _ = row(song_id, tags=tags)
    return Song(
        id=song_id,
        guild_id=guild_id,
        title=f"Song {song_id}",
        content_hash=f"{song_id:064x}",
        probabilities=np.frombuffer(probabilities, np.float32),
        embedding=np.frombuffer(embedding, np.float32),
        added_by=added_by,
        duration_s=None,
        source_url=None,
        message_url=None,
        added_at=datetime.now(UTC),
        in_pool=True,
        tags=None if tag_blob is None else np.frombuffer(tag_blob, np.float32),
        confident=confident,
    )


def assert_same(left: PoolMatrix, right: PoolMatrix) -> None:
    for name in ("ids", "probabilities", "embeddings", "added_by", "tags", "confident"):
        a, b = getattr(left, name), getattr(right, name)
        assert (a is None and b is None) or np.array_equal(a, b, equal_nan=True), name


def test_appending_gives_the_matrix_a_reload_would() -> None:
    entry = CachedPool(matrix(range(1, 4), tags=5))
    for song_id in range(4, 40):
        entry = entry.with_song(song(song_id, tags=5, confident=song_id % 3 != 0))
    expected = matrix_from_rows(1, [(*row(i, tags=5)[:5], i % 3 != 0 if i >= 4 else None) for i in range(1, 40)], 10)
    assert_same(entry.matrix, expected)


def test_appends_write_in_place_and_reallocate_only_geometrically() -> None:
    entry = CachedPool(matrix(range(1, 101)))
    copies = 0
    for song_id in range(101, 10_101):
        grown = entry.with_song(song(song_id))
        copies += grown.buffer is not entry.buffer
        entry = grown
    assert len(entry.matrix) == 10_100
    assert copies <= 21  # 100 -> 10,100 songs at 1.25x growth: log(101) / log(1.25) copies, not 10,000


def test_earlier_readers_keep_the_pool_they_read() -> None:
    first = CachedPool(matrix(range(1, 4))).with_song(song(4))
    held = first.matrix
    before = held.embeddings.copy()
    second = first.with_song(song(5))
    assert second.buffer is first.buffer  # written in place
    assert len(held) == 4 and np.array_equal(held.embeddings, before)
    with pytest.raises(ValueError):
        held.embeddings[0, 0] = 1.0  # read-only, as every PoolMatrix


def test_an_append_onto_a_stale_view_copies_instead_of_overwriting() -> None:
    first = CachedPool(matrix(range(1, 4))).with_song(song(4))
    newer = first.with_song(song(5))
    stale = first.with_song(song(6))  # a writer that started from the older entry
    assert stale.buffer is not newer.buffer
    assert newer.matrix.ids.tolist() == [1, 2, 3, 4, 5] and stale.matrix.ids.tolist() == [1, 2, 3, 4, 6]


@pytest.mark.parametrize(
    ("start", "new"),
    [
        (range(0), song(1)),  # an empty pool has no embedding width yet
        (range(1, 4), song(2)),  # not the largest id: another writer's song came in between
        (range(1, 4), song(4, tags=5)),  # tags appear
    ],
)
def test_appends_that_need_a_reload(start: range, new: Song) -> None:
    assert CachedPool(matrix(start)).with_song(new) is None


def test_least_recently_read_pools_leave_first_past_the_budget() -> None:
    size = CachedPool(matrix(range(1, 11))).nbytes
    cache = PoolCache(3 * size)
    for guild_id in (1, 2, 3):
        cache.put(guild_id, CachedPool(matrix(range(1, 11), guild_id)))
    assert cache.lookup(1) is not None  # 1 is now the most recent: 2 goes next
    cache.put(4, CachedPool(matrix(range(1, 11), 4)))
    assert [guild_id for guild_id in (1, 2, 3, 4) if cache.get(guild_id)] == [1, 3, 4]
    stats = cache.stats()
    assert (stats.pools, stats.bytes, stats.evictions, stats.hits, stats.misses) == (3, 3 * size, 1, 1, 0)


def test_a_pool_growing_past_the_budget_pushes_others_out() -> None:
    size = CachedPool(matrix(range(1, 11))).nbytes
    cache = PoolCache(2 * size + size // 2)
    cache.put(1, CachedPool(matrix(range(1, 11), 1)))
    cache.put(2, CachedPool(matrix(range(1, 11), 2)))
    grown = cache.get(2).with_song(song(11, 2))  # spare capacity counts: more than half a pool again
    cache.put(2, grown)
    assert cache.get(1) is None and cache.stats().bytes == grown.nbytes == grown.buffer.nbytes


def test_a_pool_larger_than_the_budget_is_held_alone(caplog: pytest.LogCaptureFixture) -> None:
    cache = PoolCache(100)
    cache.put(1, CachedPool(matrix(range(1, 2))))
    with caplog.at_level(logging.WARNING, "genrebot.storage"):
        cache.put(2, CachedPool(matrix(range(1, 50), 2)))
    assert cache.get(1) is None and cache.lookup(2) is not None
    assert "raise pool_cache_mb" in caplog.text


def test_a_read_at_another_version_is_a_miss() -> None:
    cache = PoolCache(None)
    cache.put(1, CachedPool(matrix(range(1, 4)), version=3))
    assert cache.lookup(1, version=4) is None and cache.lookup(1, version=3) is not None
    assert cache.stats().as_dict() | {"bytes": 0} == {
        "budget_bytes": None,
        "bytes": 0,
        "pools": 1,
        "hits": 1,
        "misses": 1,
        "evictions": 0,
        "hit_rate": 0.5,
    }


def test_the_figures_are_logged_now_and_then(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    cache = PoolCache(None, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, "genrebot.storage"):
        cache.lookup(1)
        now[0] = LOG_EVERY_S
        cache.lookup(1)
        cache.lookup(1)
    (logged,) = [record for record in caplog.records if record.getMessage() == "pool cache"]
    assert (logged.misses, logged.hits, logged.budget_bytes) == (2, 0, None)


@pytest.mark.parametrize("typed", [0, -1.0, float("nan")])
def test_the_budget_must_be_positive(typed: float) -> None:
    with pytest.raises(ValueError, match="pool cache"):
        budget_bytes(typed)
    assert budget_bytes(1.5) == 1_572_864 and budget_bytes(None) is None
