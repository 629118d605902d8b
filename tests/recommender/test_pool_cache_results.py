"""Playlists and "more like this" are the same whatever the pool cache holds: a pool read afresh from
the database, one kept in a cache too small for every server (so it was evicted and read again), and
one grown song by song in the cache (appends in place) give the same songs, scores and reasons."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.synthetic import make_listener, make_pool
from recommender.service import more_like_this, playlist_for
from storage import NewSong, Store, store_for
from storage.base import EventKind

GUILDS = (7, 8, 9)
LISTENER = 501
DIM = 16
SONGS = 60
LATE_SONGS = 25  # added one by one after the pools were read (the cache's appends)


def songs(guild_id: int, start: int, stop: int) -> list[NewSong]:
    pool = make_pool(stop, DIM, np.random.default_rng(guild_id))
    return [
        NewSong(
            guild_id=guild_id,
            title=f"Track {index}",
            content_hash=f"{guild_id}-{index:060x}",
            probabilities=pool.probabilities[index],
            embedding=pool.embeddings[index],
            added_by=900 + index % 4,
            tags=np.random.default_rng(index).random(5, dtype=np.float32),
        )
        for index in range(start, stop)
    ]


async def answers(store: Store) -> list[tuple]:
    """Every server's playlist for the listener and the songs like its first three songs."""
    found = []
    for guild_id in GUILDS:
        playlist = await playlist_for(store, guild_id, LISTENER, 12, seed=3)
        found.append([(entry.song.id, round(entry.score, 6), entry.reason) for entry in playlist.entries])
        matrix = await store.pool_matrix(guild_id)
        for song_id in matrix.ids[:3]:
            similar = await more_like_this(store, guild_id, int(song_id), 5)
            found.append([(item.song.id, round(item.similarity, 6)) for item in similar])
    return found


async def test_results_do_not_depend_on_the_cache(databases: Callable[[], str]) -> None:
    location = databases()
    small = 2 * SONGS * (DIM + 10 + 5 + 2) * 4 / 2**20  # MiB: about two of the three pools
    async with store_for(location, pool_cache_mb=small) as bounded, store_for(location, pool_cache_mb=None) as writer:
        for guild_id in GUILDS:
            await writer.add_songs(songs(guild_id, 0, SONGS))
            matrix = await writer.pool_matrix(guild_id)
            synthetic = make_pool(SONGS, DIM, np.random.default_rng(guild_id))
            listener = make_listener(synthetic, 15, np.random.default_rng(1))
            for row, kind in zip(listener.rows, listener.kinds):
                await writer.record_event(guild_id, LISTENER, int(matrix.ids[row]), EventKind(kind))
        await answers(bounded)  # warm: every pool read, the first evicted by the last
        for guild_id in GUILDS:
            for new in songs(guild_id, SONGS, SONGS + LATE_SONGS):
                await writer.add_song(new)  # grows the writer's cached pools in place
        assert bounded.pool_cache_stats().evictions > 0
        misses = writer.pool_cache_stats().misses
        grown_in_place = await answers(writer)
        assert writer.pool_cache_stats().misses == misses  # every pool came from the cache, grown
        from_a_small_cache = await answers(bounded)
    async with store_for(location, pool_cache_mb=None) as fresh:
        read_afresh = await answers(fresh)
    assert grown_in_place == read_afresh == from_a_small_cache
    assert all(len(pool) > 0 for pool in read_afresh)
