"""The radio session without Discord: feedback rules, planning for who is listening, missing audio,
leaving an empty channel, and the offline render."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
import pytest

from bot.media_store import MediaStore
from bot.radio.errors import (
    EmptyPoolError,
    InvalidSongCountError,
    NothingPlayableError,
    RenderWriteError,
)
from bot.radio.loudness import TARGET_LUFS, measure_segments
from bot.radio.render import render_radio
from bot.radio.session import (
    EARLY_SKIP_S,
    LISTEN_CAP_S,
    RadioSession,
    end_of_song_events,
    listen_threshold_s,
    should_leave,
    upcoming,
)
from bot.radio.stream import decode_48k
from genre_engine.engine import content_hash
from recommender.genres import GENRES
from storage import EventKind, NewSong, SQLiteStore
from tests.support.radio_audio import embedding_for, genre_vector, noise_song

GUILD = 1
ANN, BEN, CAT = 11, 12, 13
JAZZ, METAL = GENRES.index("jazz"), GENRES.index("metal")

# -- the rules ----------------------------------------------------------------------------------


def test_a_song_counts_as_listened_after_half_its_length_or_four_minutes() -> None:
    assert listen_threshold_s(200.0) == 100.0
    assert listen_threshold_s(600.0) == LISTEN_CAP_S == 240.0
    assert listen_threshold_s(None) == 240.0


def test_played_to_its_end_is_listened_for_everyone_present() -> None:
    events = end_of_song_events(20.0, 20.0, finished=True, skipped_by=None, listeners=[BEN, ANN])
    assert events == [(ANN, EventKind.LISTENED), (BEN, EventKind.LISTENED)]


def test_half_played_then_skipped_still_counts_as_listened() -> None:
    assert end_of_song_events(100.0, 200.0, finished=False, skipped_by=ANN, listeners=[ANN, BEN]) == [
        (ANN, EventKind.LISTENED),
        (BEN, EventKind.LISTENED),
    ]
    assert end_of_song_events(99.0, 200.0, finished=False, skipped_by=ANN, listeners=[ANN, BEN]) == []


def test_four_minutes_of_a_long_song_count_as_listened() -> None:
    assert end_of_song_events(240.0, 900.0, finished=False, skipped_by=BEN, listeners=[ANN]) == [
        (ANN, EventKind.LISTENED)
    ]
    assert end_of_song_events(239.0, 900.0, finished=False, skipped_by=BEN, listeners=[ANN]) == []


def test_an_early_skip_is_recorded_only_for_who_skipped() -> None:
    early = EARLY_SKIP_S - 0.1
    assert end_of_song_events(early, 200.0, finished=False, skipped_by=BEN, listeners=[ANN, BEN, CAT]) == [
        (BEN, EventKind.SKIPPED)
    ]
    assert end_of_song_events(EARLY_SKIP_S, 200.0, finished=False, skipped_by=BEN, listeners=[ANN, BEN]) == []


def test_the_radio_leaves_after_two_minutes_without_a_human() -> None:
    assert not should_leave(None, 1_000.0)
    assert not should_leave(100.0, 219.0)
    assert should_leave(100.0, 220.0)


# -- a pool with real (synthesised) audio --------------------------------------------------------


async def add_song(
    store: SQLiteStore, media: MediaStore | None, path: Path | None, genre: int, index: int, *, duration_s: float = 2.0
) -> int:
    digest = content_hash(path) if path is not None else f"{index:064x}"
    if media is not None and path is not None:
        media.put_reference(digest, path)
    added = await store.add_song(
        NewSong(
            guild_id=GUILD,
            title=f"{GENRES[genre]} {index}",
            content_hash=digest,
            probabilities=genre_vector(genre),
            embedding=embedding_for(genre, index),
            duration_s=duration_s,
        )
    )
    return added.song.id


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "radio.db") as opened:
        yield opened


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", cap_bytes=10 * 2**20)


@pytest.fixture
async def pool(tmp_path: Path, store: SQLiteStore, media: MediaStore) -> list[int]:
    """Three jazz and three metal songs, 2 s each, at different levels, playable from their paths."""
    ids = []
    for index in range(6):
        genre = JAZZ if index < 3 else METAL
        path = noise_song(tmp_path / f"song {index}.wav", 2.0, -30.0 + 4 * index, seed=index)
        ids.append(await add_song(store, media, path, genre, index))
    return ids


def top_genre(song) -> int:
    return int(np.argmax(song.probabilities))


async def test_the_radio_plays_every_song_once_before_repeating(store, media, pool) -> None:
    session = RadioSession(store, media, GUILD, seed=1)
    await session.join(ANN)
    first_round = [(await session.next_track()).song.id for _ in range(6)]
    assert sorted(first_round) == sorted(pool)
    again = (await session.next_track()).song.id
    assert again != first_round[-1]  # starting over, but not with the song just played


async def test_loudness_is_measured_once_and_stored(store, media, pool) -> None:
    session = RadioSession(store, media, GUILD, seed=1)
    await session.join(ANN)
    played = await session.next_track()
    stored = await store.get_song(GUILD, played.song.id)
    assert stored.loudness_lufs is not None and stored.loudness_lufs == played.song.loudness_lufs
    assert played.track.gain_db == pytest.approx(TARGET_LUFS - stored.loudness_lufs)
    played.track.close()


async def test_the_next_song_is_made_ready_while_one_plays(store, media, pool) -> None:
    session = RadioSession(store, media, GUILD, seed=1)
    await session.join(ANN)
    (await session.next_track()).track.close()
    following = (await session.queue())[0].song
    assert following.loudness_lufs is None

    await session.prepare()

    assert (await store.get_song(GUILD, following.id)).loudness_lufs is not None
    assert (await session.queue())[0].song.loudness_lufs is not None
    played = await session.next_track()
    played.track.close()
    assert played.song.id == following.id


async def test_bots_are_not_listeners_and_the_empty_channel_is_left(store, media, pool) -> None:
    now = [0.0]
    session = RadioSession(store, media, GUILD, clock=lambda: now[0])
    await session.join(99, is_bot=True)
    assert session.listeners == set()
    await session.join(ANN)
    now[0] = 500.0
    assert not session.should_leave()
    await session.leave(ANN)
    now[0] = 619.0
    assert not session.should_leave()
    now[0] = 620.0
    assert session.should_leave()
    await session.join(BEN)
    assert not session.should_leave()


async def give(store: SQLiteStore, user: int, song_ids: list[int], kind=EventKind.LIKED) -> None:
    for song_id in song_ids:
        await store.record_event(GUILD, user, song_id, kind)


async def test_the_plan_follows_who_joins_and_leaves(store, media) -> None:
    jazz = [await add_song(store, None, None, JAZZ, index) for index in range(8)]
    metal = [await add_song(store, None, None, METAL, index) for index in range(8, 16)]
    await give(store, ANN, jazz[:2])
    await give(store, BEN, metal[:2])
    session = RadioSession(store, media, GUILD, variety=0.0, seed=3)

    async def planned_genres() -> list[int]:
        return [top_genre(entry.song) for entry in await session.queue()]

    await session.join(ANN)
    assert (await planned_genres()).count(JAZZ) >= 4
    await session.join(BEN)
    together = await planned_genres()
    assert together.count(METAL) >= 2 and together.count(JAZZ) >= 2
    await session.leave(ANN)
    assert (await planned_genres()).count(METAL) >= 4


async def test_feedback_is_recorded_and_the_next_pick_follows(store, media, pool) -> None:
    session = RadioSession(store, media, GUILD, seed=5)
    await session.join(ANN)
    await session.join(BEN)
    played = await session.next_track()
    played.track.frames = 100  # played to its end (2 s)
    played.track.close()
    events = await session.song_ended(played)
    assert events == [(ANN, EventKind.LISTENED), (BEN, EventKind.LISTENED)]
    assert [event.kind for event in await store.listen_events(GUILD, BEN)] == [EventKind.LISTENED]

    skipped = await session.next_track()
    skipped.track.frames, skipped.track.skipped = 10, True  # 0.2 s, then BEN pressed Skip
    skipped.track.close()
    assert await session.song_ended(skipped, skipped_by=BEN) == [(BEN, EventKind.SKIPPED)]
    assert [event.kind for event in await store.listen_events(GUILD, ANN)] == [EventKind.LISTENED]

    before = [entry.song.id for entry in await session.queue()]
    for song_id in [song for song in pool if top_genre(await store.get_song(GUILD, song)) == METAL]:
        await session.press(ANN, song_id, "like")
    await session.press(BEN, pool[0], "dislike")
    kinds = [event.kind for event in await store.listen_events(GUILD, ANN)]
    assert kinds.count(EventKind.LIKED) == 3
    assert (await store.listen_events(GUILD, BEN))[-1].kind == EventKind.DISLIKED
    after = await session.queue()
    assert top_genre(after[0].song) == METAL and [entry.song.id for entry in after] != before


async def test_a_song_without_audio_is_skipped_with_a_note_and_marked(tmp_path, store, media, pool) -> None:
    orphan = await add_song(store, None, None, JAZZ, 99)  # indexed, but no audio anywhere
    notes: list[str] = []
    session = RadioSession(store, media, GUILD, on_note=lambda note: notes.append(str(note)), seed=0)
    await session.join(ANN)
    played = []
    for _ in range(6):
        track = await session.next_track()
        track.track.close()
        played.append(track.song.id)
    assert orphan not in played and sorted(played) == sorted(pool)
    assert notes == ["Skipped “jazz 99”: its audio is no longer available. Share it again to bring it back."]
    assert (await store.get_song(GUILD, orphan)).audio_missing
    assert orphan not in [entry.song.id for entry in (await upcoming(store, GUILD, [ANN], 6)).entries]


async def test_a_link_whose_copy_was_evicted_is_fetched_again(tmp_path, store, media) -> None:
    path = noise_song(tmp_path / "linked.wav", 2.0, -20.0)
    added = await store.add_song(
        NewSong(
            guild_id=GUILD,
            title="linked",
            content_hash=content_hash(path),
            probabilities=genre_vector(JAZZ),
            embedding=embedding_for(JAZZ, 1),
            source_url="https://example.org/song",
        )
    )
    fetched = []

    async def refetch(song):
        fetched.append(song.source_url)
        return path.read_bytes()

    session = RadioSession(store, media, GUILD, refetch=refetch)
    await session.join(ANN)
    track = await session.next_track()
    track.track.close()
    assert track.song.id == added.song.id and fetched == ["https://example.org/song"]
    assert media.has(added.song.content_hash)  # kept again, under the cap


async def test_a_link_whose_audio_changed_is_not_stored_under_the_songs_hash(tmp_path, store, media) -> None:
    """The site now serves other audio at the link: another song, kept nowhere; this one is missing."""
    path = noise_song(tmp_path / "linked.wav", 2.0, -20.0)
    other = noise_song(tmp_path / "replaced.wav", 2.0, -20.0, seed=9)
    digest = content_hash(path)
    added = await store.add_song(
        NewSong(
            guild_id=GUILD,
            title="linked",
            content_hash=digest,
            probabilities=genre_vector(JAZZ),
            embedding=embedding_for(JAZZ, 1),
            source_url="https://example.org/song",
        )
    )
    notes: list[str] = []

    async def refetch(song):
        return other.read_bytes()

    session = RadioSession(store, media, GUILD, refetch=refetch, on_note=lambda note: notes.append(str(note)))
    await session.join(ANN)
    with pytest.raises(NothingPlayableError):
        await session.next_track()

    assert not media.has(digest) and media.copies_bytes == 0
    assert (await store.get_song(GUILD, added.song.id)).audio_missing and "Skipped “linked”" in notes[0]


async def test_sharing_a_song_again_makes_it_playable_again(store, media, pool) -> None:
    song = await store.set_audio_missing(GUILD, pool[0], True)
    assert await store.audio_missing_ids(GUILD) == [pool[0]]
    again = await store.add_song(
        NewSong(
            guild_id=GUILD,
            title="again",
            content_hash=song.content_hash,
            probabilities=song.probabilities,
            embedding=song.embedding,
        )
    )
    assert not again.created and not again.song.audio_missing
    assert await store.audio_missing_ids(GUILD) == []


async def test_an_empty_pool_and_a_pool_without_audio_are_clear_errors(store, media) -> None:
    session = RadioSession(store, media, GUILD)
    await session.join(ANN)
    with pytest.raises(EmptyPoolError, match="pool is empty"):
        await session.next_track()
    await add_song(store, None, None, JAZZ, 1)
    await add_song(store, None, None, METAL, 2)
    with pytest.raises(NothingPlayableError, match="None of the 2 song"):
        await session.next_track()


# -- the offline render --------------------------------------------------------------------------


async def test_render_writes_the_stream_and_says_where_each_song_starts(tmp_path, store, media, pool) -> None:
    out = tmp_path / "mix.ogg"
    render = await render_radio(store, media, GUILD, ANN, 3, out, seed=2)
    listing = render.as_json()
    assert set(listing) == {"songs", "duration_s"}
    assert [set(song) for song in listing["songs"]] == [{"id", "title", "start_s", "duration_s", "loudness_lufs"}] * 3
    assert [song["start_s"] for song in listing["songs"]] == pytest.approx([0.0, 2.0, 4.0])
    assert listing["duration_s"] == pytest.approx(6.0)
    assert len({song["id"] for song in listing["songs"]}) == 3
    json.dumps(listing)
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name in {"opus", "libopus"}
        assert container.streams.audio[0].sample_rate == 48_000
    sources = [song["loudness_lufs"] for song in listing["songs"]]
    assert max(sources) - min(sources) > 3  # the songs differ in level...
    for loudness in measure_segments(decode_48k(out), [song["start_s"] for song in listing["songs"]]):
        assert loudness.integrated_lufs == pytest.approx(TARGET_LUFS, abs=1.5)  # ...but not in the file
    assert await store.listen_events(GUILD, ANN) == []  # nobody heard it


async def test_render_refuses_absurd_counts_and_unwritable_files(tmp_path, store, media, pool) -> None:
    for count in (0, 51):
        with pytest.raises(InvalidSongCountError):
            await render_radio(store, media, GUILD, ANN, count, tmp_path / "x.ogg")
    with pytest.raises(RenderWriteError):
        await render_radio(store, media, GUILD, ANN, 1, tmp_path / "no such folder" / "x.ogg")


@pytest.mark.slow
async def test_real_songs_render_at_minus_14_lufs_each(tmp_path, shared_dir, store, media) -> None:
    """The done-when check on real songs of ../shared/pool (a loud metal song and a quiet soundtrack)."""
    for index, name in enumerate(["sectoid/Escape from chaosland.ogg", "singularity/Coherence.ogg"]):
        await add_song(store, media, shared_dir / "pool" / name, (METAL, JAZZ)[index], index, duration_s=None)
    out = tmp_path / "mix.ogg"
    listing = (await render_radio(store, media, GUILD, ANN, 2, out, seed=0)).as_json()
    starts = [song["start_s"] for song in listing["songs"]]
    for song, loudness in zip(listing["songs"], measure_segments(decode_48k(out), starts)):
        assert loudness.integrated_lufs == pytest.approx(TARGET_LUFS, abs=1.5), song["title"]
