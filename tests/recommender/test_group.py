"""The radio's target: several listeners' tastes together."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.errors import InvalidCountError
from recommender.genres import GENRES
from recommender.profile import TasteProfile, group_profile
from recommender.service import (
    ALL_PLAYED_HINT,
    EMPTY_POOL_HINT,
    group_playlist_for,
    taste_of,
)
from storage import EventKind, SQLiteStore
from tests.recommender.conftest import (
    ALICE,
    BOB,
    EMPTY_GUILD,
    GUILD,
    NEWCOMER,
    POOL_SIZE,
)

JAZZ, METAL = GENRES.index("jazz"), GENRES.index("metal")


def profile(genre: int, embedding: list[float] | None, songs: int = 3) -> TasteProfile:
    vector = np.full(len(GENRES), 0.02)
    vector[genre] = 1.0 - 0.02 * (len(GENRES) - 1)
    sound = None if embedding is None else np.asarray(embedding, np.float32)
    return TasteProfile(vector, sound, songs=songs, events=songs * 2)


def test_the_group_taste_is_the_mean_of_the_listeners_tastes() -> None:
    group = group_profile([profile(JAZZ, [1.0, 0.0]), profile(METAL, [0.0, 1.0])])
    assert group.vector[JAZZ] == pytest.approx(group.vector[METAL]) == pytest.approx(0.42)
    assert group.vector.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(group.embedding, [2**-0.5, 2**-0.5], rtol=1e-6)
    assert (group.songs, group.events) == (6, 12)


def test_listeners_without_history_add_no_taste() -> None:
    newcomer = TasteProfile(np.full(len(GENRES), 0.1), None, songs=0, events=0)
    jazz = profile(JAZZ, [1.0, 0.0])
    np.testing.assert_allclose(group_profile([jazz, newcomer]).vector, jazz.vector)
    assert group_profile([newcomer, newcomer]).empty and group_profile([]).empty


async def like_top(store: SQLiteStore, user: int, genre: int, count: int = 6) -> list[int]:
    matrix = await store.pool_matrix(GUILD)
    rows = np.argsort(-matrix.probabilities[:, genre])[:count]
    ids = [int(song_id) for song_id in matrix.ids[rows]]
    for song_id in ids:
        await store.record_event(GUILD, user, song_id, EventKind.LIKED)
    return ids


async def test_the_group_playlist_blends_both_tastes_and_may_replay_known_songs(store: SQLiteStore) -> None:
    bob_likes = await like_top(store, BOB, JAZZ)
    await like_top(store, NEWCOMER, METAL)
    alone = await group_playlist_for(store, GUILD, [BOB], 10, variety=0.0, seed=1)
    together = await group_playlist_for(store, GUILD, [BOB, NEWCOMER], 10, variety=0.0, seed=1)
    assert int(np.argmax(alone.mix)) == JAZZ and alone.mix[METAL] < 0.2
    assert together.mix[METAL] > 0.2 and together.mix[JAZZ] > 0.2
    bob, newcomer = await taste_of(store, GUILD, BOB), await taste_of(store, GUILD, NEWCOMER)
    np.testing.assert_allclose(together.taste.vector, (bob.vector + newcomer.vector) / 2, rtol=1e-6)
    # unlike /playlist, songs the listeners know (liked, added) are fine on the radio
    everything = await group_playlist_for(store, GUILD, [ALICE, BOB], 50, variety=0.0, seed=1)
    assert set(bob_likes) & {entry.song.id for entry in everything.entries}


async def test_variety_defaults_to_the_mean_of_the_listeners_settings(store: SQLiteStore) -> None:
    await store.set_variety(BOB, 0.2)
    await store.set_variety(NEWCOMER, 0.6)
    assert (await group_playlist_for(store, GUILD, [BOB, NEWCOMER], 5, seed=0)).variety == pytest.approx(0.4)
    assert (await group_playlist_for(store, GUILD, [BOB, NEWCOMER], 5, variety=0.9, seed=0)).variety == 0.9
    with pytest.raises(ValueError):
        await group_playlist_for(store, GUILD, [BOB], 5, variety=1.5)
    with pytest.raises(InvalidCountError):
        await group_playlist_for(store, GUILD, [BOB], 0)


async def test_excluded_songs_are_left_out_until_none_is_left(store: SQLiteStore) -> None:
    matrix = await store.pool_matrix(GUILD)
    played = [int(song_id) for song_id in matrix.ids[:-3]]
    rest = await group_playlist_for(store, GUILD, [BOB], 10, exclude=played, seed=0)
    assert {entry.song.id for entry in rest.entries} == {int(song_id) for song_id in matrix.ids[-3:]}
    none_left = await group_playlist_for(store, GUILD, [BOB], 10, exclude=matrix.ids.tolist(), seed=0)
    assert none_left.entries == () and none_left.hint == ALL_PLAYED_HINT
    assert len(matrix) == POOL_SIZE


async def test_an_empty_pool_says_so(store: SQLiteStore) -> None:
    empty = await group_playlist_for(store, EMPTY_GUILD, [BOB], 5)
    assert empty.entries == () and empty.hint == EMPTY_POOL_HINT
