"""The use cases the bot calls, against a real SQLite store with a synthetic pool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommender.config import RecommenderConfig
from recommender.errors import InvalidCountError
from recommender.genres import GENRES
from recommender.metrics import normalised_entropy
from recommender.service import (
    ALL_HEARD_HINT,
    COLD_START_HINT,
    EMPTY_POOL_HINT,
    more_like_this,
    playlist_for,
    taste_of,
)
from storage import EventKind, NewSong, SQLiteStore
from storage.errors import InvalidIdError, UnknownSongError
from tests.recommender.conftest import (
    ALICE,
    BOB,
    EMPTY_GUILD,
    GUILD,
    NEWCOMER,
    POOL_SIZE,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
JAZZ = GENRES.index("jazz")


async def give_bob_a_jazz_history(store: SQLiteStore, songs: int = 8) -> list[int]:
    matrix = await store.pool_matrix(GUILD)
    jazz_rows = np.argsort(-matrix.probabilities[:, JAZZ])[:songs]
    ids = [int(song_id) for song_id in matrix.ids[jazz_rows]]
    for day, song_id in enumerate(ids):
        kind = EventKind.LIKED if day % 2 else EventKind.LISTENED
        await store.record_event(GUILD, BOB, song_id, kind, at=NOW - timedelta(days=day))
    return ids


async def test_playlist_matches_taste_and_skips_what_the_user_has(store: SQLiteStore) -> None:
    heard = await give_bob_a_jazz_history(store)
    playlist = await playlist_for(store, GUILD, BOB, 10, seed=1, now=NOW)
    ids = [entry.song.id for entry in playlist.entries]
    assert len(ids) == 10 == len(set(ids))
    assert not set(ids) & set(heard)
    assert playlist.cold_start is False and playlist.hint is None
    assert playlist.taste.top_genres(1)[0][0] == "jazz" and playlist.taste.songs == 8
    assert int(np.argmax(playlist.mix)) == JAZZ
    assert all(0.0 <= entry.score <= 1.0 for entry in playlist.entries)
    assert any(entry.reason.endswith("— your top genre") for entry in playlist.entries)
    assert all("% " in entry.reason for entry in playlist.entries)


async def test_songs_a_user_added_are_not_recommended_back(store: SQLiteStore) -> None:
    await give_bob_a_jazz_history(store, 2)
    playlist = await playlist_for(store, GUILD, ALICE, 10, seed=0)
    assert playlist.entries == () and playlist.hint == ALL_HEARD_HINT


async def test_variety_loosens_the_playlist(store: SQLiteStore) -> None:
    await give_bob_a_jazz_history(store)
    entropy = {}
    for variety in (0.0, 1.0):
        await store.set_variety(BOB, variety)
        playlist = await playlist_for(store, GUILD, BOB, 10, seed=3, now=NOW)
        assert playlist.variety == variety
        entropy[variety] = normalised_entropy(playlist.mix)
    assert entropy[1.0] > entropy[0.0]


async def test_a_seed_pins_the_list_and_no_seed_gives_fresh_ones(store: SQLiteStore) -> None:
    await give_bob_a_jazz_history(store)

    async def ids(seed: int | None) -> list[int]:
        playlist = await playlist_for(store, GUILD, BOB, 10, seed=seed, now=NOW)
        return [entry.song.id for entry in playlist.entries]

    assert await ids(5) == await ids(5)
    assert len({tuple(await ids(None)) for _ in range(10)}) > 1


async def test_cold_start_gets_representative_songs_and_a_hint(store: SQLiteStore) -> None:
    playlist = await playlist_for(store, GUILD, NEWCOMER, 10, seed=0)
    assert playlist.cold_start and playlist.hint == COLD_START_HINT
    assert len(playlist) == 10
    assert all(entry.reason.endswith("typical of this server's pool") for entry in playlist.entries)
    assert playlist.taste.empty


async def test_an_unknown_or_empty_server_gets_a_message_not_an_exception(store: SQLiteStore) -> None:
    playlist = await playlist_for(store, EMPTY_GUILD, BOB, 10)
    assert playlist.entries == () and playlist.hint == EMPTY_POOL_HINT


async def test_a_tiny_pool_gives_a_short_playlist_with_a_hint(tmp_path) -> None:
    async with SQLiteStore(tmp_path / "tiny.db") as store:
        for number in range(3):
            vector = np.eye(10, dtype=np.float32)[number] * 0.9 + 0.01
            await store.add_song(
                NewSong(
                    guild_id=GUILD,
                    title=f"Only {number}",
                    content_hash=f"tiny-{number}",
                    probabilities=vector,
                    embedding=np.eye(4, dtype=np.float32)[number],
                )
            )
        playlist = await playlist_for(store, GUILD, BOB, 10, seed=0)
    assert len(playlist) == 3
    assert playlist.hint.startswith("Only 3 song(s)")


@pytest.mark.parametrize("bad", [0, -1, 51, 10**9, True, 2.5, "10", None])
async def test_bad_playlist_sizes_are_refused(store: SQLiteStore, bad: object) -> None:
    with pytest.raises(InvalidCountError) as caught:
        await playlist_for(store, GUILD, BOB, bad)  # type: ignore[arg-type]
    assert str(caught.value).startswith("A playlist can have from 1 to 50 songs")


async def test_the_largest_allowed_playlist_is_served(store: SQLiteStore) -> None:
    playlist = await playlist_for(store, GUILD, NEWCOMER, 50, seed=0)
    assert len(playlist) == 50 and playlist.hint == COLD_START_HINT
    big = RecommenderConfig(max_playlist=500)
    whole = await playlist_for(store, GUILD, NEWCOMER, 500, seed=0, config=big)
    assert len(whole) <= POOL_SIZE and whole.hint.startswith(f"Only {POOL_SIZE} song(s)")


@pytest.mark.parametrize(("guild", "user"), [(0, BOB), (GUILD, -4), ("x", BOB)])
async def test_bad_ids_are_refused(store: SQLiteStore, guild: object, user: object) -> None:
    with pytest.raises(InvalidIdError):
        await playlist_for(store, guild, user)  # type: ignore[arg-type]


async def test_forgetting_the_user_mid_request_does_not_break_the_playlist(store: SQLiteStore) -> None:
    await give_bob_a_jazz_history(store)
    bob_song = (
        await store.add_song(
            NewSong(
                guild_id=GUILD,
                title="Bob's upload",
                content_hash="bob-upload",
                probabilities=np.full(10, 0.1),
                embedding=np.ones(16),
                added_by=BOB,
            )
        )
    ).song

    class ForgetsDuringTheRequest:
        """The real store, except that Bob asks to be forgotten right after his history is read."""

        def __getattr__(self, name: str):
            return getattr(store, name)

        async def listen_events(self, guild_id: int, user_id: int):
            events = await store.listen_events(guild_id, user_id)
            await store.forget_user(BOB, remove_shared_songs=True)
            return events

    playlist = await playlist_for(ForgetsDuringTheRequest(), GUILD, NEWCOMER, 10, seed=0)  # type: ignore[arg-type]
    assert bob_song.id not in [entry.song.id for entry in playlist.entries]
    after = await playlist_for(store, GUILD, BOB, 10, seed=0)
    assert after.cold_start and len(after) == 10


async def test_songs_removed_mid_request_are_left_out(store: SQLiteStore) -> None:
    class RemovesChosenSongs:
        def __getattr__(self, name: str):
            return getattr(store, name)

        async def get_songs(self, guild_id: int, song_ids):
            await store.remove_song(guild_id, song_ids[0])
            return await store.get_songs(guild_id, song_ids)

    playlist = await playlist_for(RemovesChosenSongs(), GUILD, NEWCOMER, 10, seed=0)  # type: ignore[arg-type]
    assert len(playlist) == 9


async def test_history_only_songs_count_in_the_taste(store: SQLiteStore) -> None:
    private = (
        await store.add_song(
            NewSong(
                guild_id=GUILD,
                title="Kept out of the pool",
                content_hash="private",
                probabilities=np.eye(10)[GENRES.index("metal")] * 0.9 + 0.01,
                embedding=np.ones(16),
                in_pool=False,
            )
        )
    ).song
    await store.record_event(GUILD, BOB, private.id, EventKind.LIKED)
    profile = await taste_of(store, GUILD, BOB)
    assert profile.songs == 1 and profile.top_genres(1)[0][0] == "metal"


async def test_taste_of_says_how_many_songs_it_rests_on(store: SQLiteStore) -> None:
    await give_bob_a_jazz_history(store, 5)
    profile = await taste_of(store, GUILD, BOB, now=NOW)
    assert (profile.songs, profile.events) == (5, 5)
    assert profile.top_genres(1)[0][0] == "jazz"
    unknown = await taste_of(store, GUILD, NEWCOMER)
    assert unknown.empty and unknown.vector.sum() == pytest.approx(1.0)


async def test_more_like_this_returns_the_nearest_songs(store: SQLiteStore) -> None:
    matrix = await store.pool_matrix(GUILD)
    song_id = int(matrix.ids[0])
    similar = await more_like_this(store, GUILD, song_id, 5)
    assert len(similar) == 5 and song_id not in [item.song.id for item in similar]
    expected = np.argsort(-(matrix.embeddings[1:] @ matrix.embeddings[0]))[:5] + 1
    assert [item.song.id for item in similar] == matrix.ids[expected].tolist()
    assert all(a.similarity >= b.similarity for a, b in zip(similar, similar[1:]))


async def test_more_like_this_refuses_unknown_songs_and_bad_sizes(store: SQLiteStore) -> None:
    with pytest.raises(UnknownSongError):
        await more_like_this(store, GUILD, 999_999, 5)
    with pytest.raises(UnknownSongError):
        await more_like_this(store, EMPTY_GUILD, 1, 5)
    song_id = int((await store.pool_matrix(GUILD)).ids[0])
    for bad in (0, 26, -3, "5"):
        with pytest.raises(InvalidCountError, match="1 to 25"):
            await more_like_this(store, GUILD, song_id, bad)  # type: ignore[arg-type]
