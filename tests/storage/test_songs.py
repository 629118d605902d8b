"""Songs and pools: de-duplication, validation, removal, bulk indexing, the cached pool matrix."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from storage import EventKind, Store, open_store
from storage.errors import (
    IncompatibleEmbeddingError,
    InvalidIdError,
    InvalidSongError,
    UnknownSongError,
)
from tests.support.stores import ALICE, BOB, DIM, GUILD, OTHER_GUILD, make_song, one_hot


async def test_add_song_returns_a_stored_copy_with_normalised_vectors(store: Store) -> None:
    new = make_song(1, embedding=np.full(DIM, 3.0), probabilities=one_hot(5) * 1.0005)
    added = await store.add_song(new)
    assert added.created
    song = added.song
    assert (song.guild_id, song.title, song.added_by, song.in_pool) == (GUILD, "Song 1", ALICE, True)
    assert song.probabilities.dtype == np.float32 and song.embedding.dtype == np.float32
    assert math.isclose(float(song.probabilities.sum()), 1.0, rel_tol=1e-6)
    assert math.isclose(float(np.linalg.norm(song.embedding)), 1.0, rel_tol=1e-6)
    assert song.added_at.tzinfo is not None
    assert await store.get_song(GUILD, song.id) == song


async def test_same_audio_twice_in_a_server_returns_the_existing_song(store: Store) -> None:
    first = await store.add_song(make_song(1))
    again = await store.add_song(make_song(1, title="Renamed upload", added_by=BOB))
    assert again.created is False
    assert again.song.id == first.song.id and again.song.title == "Song 1"
    assert await store.pool_size(GUILD) == 1


async def test_same_audio_in_another_server_is_a_separate_song(store: Store) -> None:
    here = await store.add_song(make_song(1))
    there = await store.add_song(make_song(1, guild_id=OTHER_GUILD))
    assert there.created and there.song.id != here.song.id
    with pytest.raises(UnknownSongError):
        await store.get_song(OTHER_GUILD, here.song.id)


async def test_history_only_song_joins_the_pool_when_added_again(store: Store) -> None:
    kept = await store.add_song(make_song(1, in_pool=False))
    assert await store.pool_size(GUILD) == 0
    assert len(await store.pool_matrix(GUILD)) == 0
    again = await store.add_song(make_song(1))
    assert again.created is False and again.song.in_pool
    assert (await store.pool_matrix(GUILD)).ids.tolist() == [kept.song.id]


async def test_set_in_pool_moves_a_song_in_and_out(store: Store) -> None:
    song = (await store.add_song(make_song(1))).song
    assert (await store.set_in_pool(GUILD, song.id, False)).in_pool is False
    assert await store.pool_size(GUILD) == 0
    assert (await store.set_in_pool(GUILD, song.id, True)).in_pool
    assert await store.pool_size(GUILD) == 1


async def test_get_songs_keeps_the_order_asked_and_skips_missing(store: Store) -> None:
    ids = [(await store.add_song(make_song(number))).song.id for number in range(3)]
    other = (await store.add_song(make_song(9, guild_id=OTHER_GUILD))).song.id
    songs = await store.get_songs(GUILD, [ids[2], 999_999, ids[0], other])
    assert [song.id for song in songs] == [ids[2], ids[0]]
    assert await store.get_songs(GUILD, []) == []


async def test_find_song_by_content_hash(store: Store) -> None:
    song = (await store.add_song(make_song(4))).song
    assert await store.find_song(GUILD, song.content_hash) == song
    assert await store.find_song(GUILD, "f" * 64) is None
    assert await store.find_song(OTHER_GUILD, song.content_hash) is None


async def test_removing_a_song_takes_its_events_with_it(store: Store) -> None:
    keep = (await store.add_song(make_song(1))).song
    gone = (await store.add_song(make_song(2))).song
    for song in (keep, gone):
        await store.record_event(GUILD, BOB, song.id, EventKind.LIKED)
    removed = await store.remove_song(GUILD, gone.id)
    assert removed == gone
    assert [event.song_id for event in await store.listen_events(GUILD, BOB)] == [keep.id]
    assert (await store.pool_matrix(GUILD)).ids.tolist() == [keep.id]
    with pytest.raises(UnknownSongError) as caught:
        await store.remove_song(GUILD, gone.id)
    assert "not in this server's pool" in str(caught.value)


async def test_an_admin_cannot_remove_another_servers_song(store: Store) -> None:
    song = (await store.add_song(make_song(1, guild_id=OTHER_GUILD))).song
    with pytest.raises(UnknownSongError):
        await store.remove_song(GUILD, song.id)
    assert await store.pool_size(OTHER_GUILD) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"probabilities": np.ones(9) / 9}, "has 9 values"),
        ({"probabilities": np.full(10, 0.2)}, "sum to 1"),
        ({"probabilities": np.r_[1.1, -0.1, np.zeros(8)]}, "non-negative"),
        ({"probabilities": np.r_[np.nan, np.zeros(9)]}, "finite"),
        ({"probabilities": "jazz"}, "not a vector"),
        ({"embedding": np.zeros(DIM)}, "all zeros"),
        ({"embedding": np.r_[np.inf, np.ones(DIM - 1)]}, "finite"),
        ({"embedding": np.ones((2, 4))}, "one row"),
        ({"title": "   "}, "title is missing"),
        ({"content_hash": ""}, "content hash is missing"),
        ({"content_hash": "a" * 129}, "longer than 128"),
        ({"duration_s": -1.0}, "negative"),
        ({"source_url": "x" * 3000}, "longer than"),
    ],
)
async def test_bad_songs_are_refused_and_nothing_is_stored(store: Store, fields: dict, message: str) -> None:
    with pytest.raises(InvalidSongError) as caught:
        await store.add_song(make_song(1, **fields))
    assert message in str(caught.value)
    assert str(caught.value).startswith("This song could not be saved")
    assert await store.pool_size(GUILD) == 0


@pytest.mark.parametrize("bad_id", [0, -5, 2**63, True, "111", 1.0, None])
async def test_bad_ids_are_refused(store: Store, bad_id: object) -> None:
    with pytest.raises(InvalidIdError) as caught:
        await store.get_song(bad_id, 1)  # type: ignore[arg-type]
    assert "not a valid server id" in str(caught.value)
    with pytest.raises(InvalidIdError):
        await store.add_song(make_song(1, guild_id=bad_id))
    with pytest.raises(InvalidIdError):
        await store.pool_matrix(bad_id)  # type: ignore[arg-type]


async def test_a_different_embedding_size_is_refused_for_the_same_server(store: Store) -> None:
    await store.add_song(make_song(1))
    with pytest.raises(IncompatibleEmbeddingError) as caught:
        await store.add_song(make_song(2, dim=DIM * 2))
    assert (caught.value.expected, caught.value.got) == (DIM, DIM * 2)
    assert "different model version" in str(caught.value)
    assert (await store.add_song(make_song(3, dim=DIM * 2, guild_id=OTHER_GUILD))).created


async def test_bulk_add_skips_duplicates_and_reports_progress(store: Store) -> None:
    await store.add_song(make_song(0, in_pool=False))
    seen: list[int] = []
    songs = [make_song(number) for number in range(12)] + [make_song(3), make_song(0)]
    report = await store.add_songs(iter(songs), progress=seen.append)
    assert (report.added, report.duplicates) == (11, 3)
    assert seen and seen[-1] == len(songs)
    assert await store.pool_size(GUILD) == 12  # the history-only song 0 joined the pool


async def test_bulk_add_uses_the_vectorised_checks_with_the_same_result(store: Store) -> None:
    await store.add_songs([make_song(1, embedding=np.full(DIM, 2.0))])
    single = (await store.add_song(make_song(2, embedding=np.full(DIM, 2.0)))).song
    bulk = await store.find_song(GUILD, f"{1:064x}")
    np.testing.assert_allclose(bulk.embedding, single.embedding, rtol=1e-6)
    np.testing.assert_allclose(bulk.probabilities, make_song(1).probabilities, rtol=1e-6)


async def test_bulk_add_refuses_a_bad_song_with_its_reason(store: Store) -> None:
    songs = [make_song(1), make_song(2, probabilities=np.ones(10))]
    with pytest.raises(InvalidSongError, match="sum to 1"):
        await store.add_songs(songs)
    with pytest.raises(IncompatibleEmbeddingError):
        await store.add_songs([make_song(3), make_song(4, dim=DIM + 1)])
    assert await store.pool_size(GUILD) == 0


async def test_pool_matrix_is_cached_and_follows_writes(store: Store) -> None:
    first = (await store.add_song(make_song(1, added_by=None))).song
    matrix = await store.pool_matrix(GUILD)
    assert await store.pool_matrix(GUILD) is matrix
    assert matrix.added_by.tolist() == [0]
    np.testing.assert_array_equal(matrix.probabilities[0], first.probabilities)

    second = (await store.add_song(make_song(2))).song
    grown = await store.pool_matrix(GUILD)
    assert grown.ids.tolist() == [first.id, second.id]
    assert grown.added_by.tolist() == [0, ALICE]
    np.testing.assert_array_equal(grown.embeddings[1], second.embedding)

    await store.remove_song(GUILD, first.id)
    assert (await store.pool_matrix(GUILD)).ids.tolist() == [second.id]
    await store.add_songs([make_song(3)])
    assert len(await store.pool_matrix(GUILD)) == 2


async def test_pool_matrix_sees_writes_from_another_process(store: Store, make_store) -> None:
    await store.add_song(make_song(1))
    await store.add_song(make_song(9, guild_id=OTHER_GUILD))
    assert len(await store.pool_matrix(GUILD)) == 1
    cached_elsewhere = await store.pool_matrix(OTHER_GUILD)
    async with make_store() as indexer:  # `python -m bot index` beside the bot, or another machine
        first = (await indexer.add_song(make_song(2))).song
        assert len(await store.pool_matrix(GUILD)) == 2
        await indexer.set_in_pool(GUILD, first.id, False)
        assert len(await store.pool_matrix(GUILD)) == 1
        await indexer.add_songs([make_song(3), make_song(4)])
        assert len(await store.pool_matrix(GUILD)) == 3
        await indexer.forget_user(ALICE)
        assert (await store.pool_matrix(GUILD)).added_by.tolist() == [0, 0, 0]
    assert (await store.pool_matrix(OTHER_GUILD)).ids.tolist() == cached_elsewhere.ids.tolist()


async def test_the_pool_cache_keeps_to_its_budget(databases) -> None:
    pool_bytes = 5 * (4 * DIM + 4 * 10 + 8 + 8 + 1)  # five songs: embeddings, probabilities, ids, sharers, verdicts
    async with open_store(databases(), pool_cache_mb=2.5 * pool_bytes / 2**20) as store:
        for guild_id in range(1, 7):
            await store.add_songs([make_song(10 * guild_id + number, guild_id=guild_id) for number in range(5)])
        first = (await store.pool_matrix(1)).ids.tolist()
        for guild_id in range(2, 7):
            await store.pool_matrix(guild_id)
        stats = store.pool_cache_stats()
        assert (stats.pools, stats.bytes, stats.evictions, stats.misses) == (2, 2 * pool_bytes, 4, 6)
        assert (await store.pool_matrix(1)).ids.tolist() == first  # evicted: read again, the same
        assert (await store.pool_matrix(1)).ids.tolist() == first  # and now from the cache
        assert (store.pool_cache_stats().misses, store.pool_cache_stats().hits) == (7, 1)


async def test_reads_that_miss_the_same_pool_at_once_share_one_read(make_store) -> None:
    async with make_store() as writer:
        await writer.add_songs([make_song(number) for number in range(30)])
    async with make_store() as store:
        impatient = asyncio.ensure_future(store.pool_matrix(GUILD))
        readers = [asyncio.ensure_future(store.pool_matrix(GUILD)) for _ in range(5)]
        await asyncio.sleep(0)
        impatient.cancel()  # one caller giving up does not stop the read the others wait for
        matrices = await asyncio.gather(*readers)
        assert len({id(matrix) for matrix in matrices}) == 1 and len(matrices[0]) == 30
        assert store.pool_cache_stats().pools == 1


async def test_concurrent_writes_do_not_interleave_transactions(store: Store) -> None:
    songs = await asyncio.gather(*(store.add_song(make_song(number)) for number in range(20)))
    await asyncio.gather(
        *(store.record_event(GUILD, BOB, added.song.id, "liked") for added in songs),
        *(store.set_variety(BOB, value / 20) for value in range(20)),
        store.add_songs([make_song(number) for number in range(15, 40)]),
    )
    assert await store.pool_size(GUILD) == 40
    assert len(await store.listen_events(GUILD, BOB)) == 20
    assert len(await store.pool_matrix(GUILD)) == 40


async def test_the_same_song_shared_at_once_is_stored_once(store: Store) -> None:
    added = await asyncio.gather(*(store.add_song(make_song(7)) for _ in range(8)))
    assert [result.created for result in added].count(True) == 1
    assert len({result.song.id for result in added}) == 1
    assert await store.pool_size(GUILD) == 1 and len(await store.pool_matrix(GUILD)) == 1


async def test_pool_matrix_rows_of_and_locate(store: Store) -> None:
    ids = [(await store.add_song(make_song(number))).song.id for number in range(4)]
    matrix = await store.pool_matrix(GUILD)
    assert matrix.rows_of([ids[3], 424242, ids[1]]).tolist() == [3, 1]
    rows, found = matrix.locate([ids[2], 424242])
    assert found.tolist() == [True, False] and rows[0] == 2
    empty = await store.pool_matrix(OTHER_GUILD)
    assert len(empty) == 0 and empty.rows_of([1]).size == 0


async def test_pool_stats_counts_genres_and_contributors(store: Store) -> None:
    await store.add_songs(
        [make_song(1, genre=5), make_song(2, genre=5), make_song(3, genre=6, added_by=BOB)]
        + [make_song(4, genre=6, added_by=None), make_song(5, genre=1, in_pool=False)]
    )
    stats = await store.pool_stats(GUILD)
    assert (stats.songs, stats.contributors) == (4, 2)
    assert stats.top_contributors == ((ALICE, 2), (BOB, 1))
    assert stats.total_duration_s == pytest.approx(4 * 180.0)
    assert stats.top_genre_counts.tolist() == [0, 0, 0, 0, 0, 2, 2, 0, 0, 0]
    assert stats.genre_mix.sum() == pytest.approx(1.0)
    assert stats.genre_mix[5] == pytest.approx(stats.genre_mix[6])

    empty = await store.pool_stats(OTHER_GUILD)
    assert (empty.songs, empty.contributors, empty.total_duration_s) == (0, 0, 0.0)
    assert empty.genre_mix.tolist() == [0.0] * 10


async def test_a_store_checks_vectors_against_the_genre_count_it_was_given(database):
    four = np.array([0.7, 0.1, 0.1, 0.1], dtype=np.float32)
    async with open_store(database, genre_count=4) as store:
        added = await store.add_song(make_song(1, probabilities=four))
        report = await store.add_songs([make_song(2, probabilities=four), make_song(3, probabilities=four)])
        with pytest.raises(InvalidSongError, match="has 10 values, expected 4"):
            await store.add_song(make_song(4))
        with pytest.raises(InvalidSongError, match="has 10 values, expected 4"):
            await store.add_songs([make_song(5)])
        stats = await store.pool_stats(GUILD)
        empty = await store.pool_matrix(OTHER_GUILD)

    assert added.created and report.added == 2
    assert stats.genre_mix.shape == (4,) and stats.top_genre_counts.tolist() == [3, 0, 0, 0]
    assert empty.probabilities.shape == (0, 4)
