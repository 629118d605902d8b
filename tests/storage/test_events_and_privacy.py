"""Listen events, histories, and forgetting a user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import EventKind, Store
from storage.errors import InvalidEventKindError, UnknownSongError, UnknownUserError
from tests.support.stores import ALICE, BOB, GUILD, OTHER_GUILD, make_song

START = datetime(2025, 1, 1, tzinfo=UTC)


async def test_events_of_every_kind_are_recorded_oldest_first(store: Store) -> None:
    song = (await store.add_song(make_song(1))).song
    for offset, kind in enumerate(EventKind):
        await store.record_event(GUILD, BOB, song.id, kind, at=START + timedelta(days=offset))
    await store.record_event(GUILD, BOB, song.id, "liked", at=START - timedelta(days=1))
    events = await store.listen_events(GUILD, BOB)
    assert [event.kind for event in events] == [EventKind.LIKED, *EventKind]
    assert events[0].at == START - timedelta(days=1)
    assert all(event.user_id == BOB and event.guild_id == GUILD for event in events)


async def test_naive_times_are_taken_as_utc(store: Store) -> None:
    song = (await store.add_song(make_song(1))).song
    event = await store.record_event(GUILD, BOB, song.id, "shared", at=datetime(2025, 3, 1, 12))
    assert event.at == datetime(2025, 3, 1, 12, tzinfo=UTC)


async def test_an_unknown_kind_is_refused_with_the_valid_ones(store: Store) -> None:
    song = (await store.add_song(make_song(1))).song
    with pytest.raises(InvalidEventKindError) as caught:
        await store.record_event(GUILD, BOB, song.id, "loved")
    assert "shared, listened, liked, disliked, skipped" in str(caught.value)
    assert await store.listen_events(GUILD, BOB) == []


async def test_an_event_on_a_song_of_another_server_is_refused(store: Store) -> None:
    song = (await store.add_song(make_song(1, guild_id=OTHER_GUILD))).song
    with pytest.raises(UnknownSongError):
        await store.record_event(GUILD, BOB, song.id, "liked")
    with pytest.raises(UnknownSongError):
        await store.record_event(GUILD, BOB, 987_654, "liked")


async def test_history_is_per_server_newest_first_and_paged(store: Store) -> None:
    songs = [(await store.add_song(make_song(number))).song for number in range(5)]
    elsewhere = (await store.add_song(make_song(9, guild_id=OTHER_GUILD))).song
    for day, song in enumerate(songs):
        await store.record_event(GUILD, BOB, song.id, "listened", at=START + timedelta(days=day))
    await store.record_event(OTHER_GUILD, BOB, elsewhere.id, "liked")
    page = await store.history(GUILD, BOB, limit=2)
    assert [entry.song.id for entry in page] == [songs[4].id, songs[3].id]
    assert page[0].event.kind is EventKind.LISTENED and page[0].song.title == "Song 4"
    second = await store.history(GUILD, BOB, limit=2, offset=2)
    assert [entry.song.id for entry in second] == [songs[2].id, songs[1].id]
    assert await store.history(GUILD, ALICE) == []
    assert [entry.song.id for entry in await store.history(OTHER_GUILD, BOB)] == [elsewhere.id]


async def test_forget_deletes_events_and_settings_and_anonymises_shared_songs(
    store: Store,
) -> None:
    mine = (await store.add_song(make_song(1, added_by=BOB))).song
    theirs = (await store.add_song(make_song(2, added_by=ALICE))).song
    elsewhere = (await store.add_song(make_song(3, added_by=BOB, guild_id=OTHER_GUILD))).song
    await store.record_event(GUILD, BOB, mine.id, "shared")
    await store.record_event(GUILD, BOB, theirs.id, "liked")
    await store.record_event(OTHER_GUILD, BOB, elsewhere.id, "shared")
    await store.record_event(GUILD, ALICE, mine.id, "liked")
    await store.set_variety(BOB, 0.9)
    matrix = await store.pool_matrix(GUILD)

    report = await store.forget_user(BOB)

    assert (report.events, report.songs_removed, report.songs_anonymised) == (3, 0, 2)
    assert await store.listen_events(GUILD, BOB) == []
    assert await store.listen_events(OTHER_GUILD, BOB) == []
    assert (await store.user_settings(BOB)).variety == 0.25
    kept = await store.get_song(GUILD, mine.id)
    assert kept.added_by is None and kept.message_url is None and kept.title == "Song 1"
    assert [event.user_id for event in await store.listen_events(GUILD, ALICE)] == [ALICE]
    refreshed = await store.pool_matrix(GUILD)
    assert refreshed is not matrix and BOB not in refreshed.added_by


async def test_forget_can_remove_shared_songs_with_everyones_events_on_them(
    store: Store,
) -> None:
    mine = (await store.add_song(make_song(1, added_by=BOB))).song
    theirs = (await store.add_song(make_song(2, added_by=ALICE))).song
    await store.record_event(GUILD, ALICE, mine.id, "liked")
    await store.record_event(GUILD, ALICE, theirs.id, "liked")
    await store.pool_matrix(GUILD)

    report = await store.forget_user(BOB, remove_shared_songs=True)

    assert (report.events, report.songs_removed, report.songs_anonymised) == (0, 1, 0)
    with pytest.raises(UnknownSongError):
        await store.get_song(GUILD, mine.id)
    assert [event.song_id for event in await store.listen_events(GUILD, ALICE)] == [theirs.id]
    assert (await store.pool_matrix(GUILD)).ids.tolist() == [theirs.id]


async def test_forgetting_an_unknown_user_says_so(store: Store) -> None:
    with pytest.raises(UnknownUserError) as caught:
        await store.forget_user(BOB)
    assert str(caught.value) == "I don't have anything stored about you."
    await store.set_variety(BOB, 0.5)
    await store.forget_user(BOB)
    with pytest.raises(UnknownUserError):
        await store.forget_user(BOB)


async def test_a_forgotten_user_can_come_back(store: Store) -> None:
    song = (await store.add_song(make_song(1))).song
    await store.record_event(GUILD, BOB, song.id, "liked")
    await store.forget_user(BOB)
    again = await store.record_event(GUILD, BOB, song.id, "listened")
    assert [event.id for event in await store.listen_events(GUILD, BOB)] == [again.id]


async def test_forgetting_a_user_removes_the_links_they_shared(store: Store) -> None:
    shared = (
        await store.add_song(
            make_song(
                1,
                added_by=BOB,
                source_url="https://example.com/a.mp3",
                message_url="https://discord.com/channels/1/2/3",
            )
        )
    ).song
    other = (await store.add_song(make_song(2, added_by=ALICE, source_url="https://example.com/b.mp3"))).song
    await store.record_event(GUILD, BOB, shared.id, "shared")

    await store.forget_user(BOB)

    kept = await store.get_song(GUILD, shared.id)
    assert (kept.source_url, kept.message_url, kept.added_by) == (None, None, None)
    assert (await store.get_song(GUILD, other.id)).source_url == "https://example.com/b.mp3"


async def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path) -> None:
    from storage import open_store
    from storage.errors import CannotOpenDatabaseError, NotADatabaseError

    text = tmp_path / "README.md"
    text.write_text("# not a database\n" * 200)

    with pytest.raises(NotADatabaseError) as refused:
        await open_store(text)
    with pytest.raises(CannotOpenDatabaseError):
        await open_store(tmp_path)  # a folder

    assert refused.value.path == str(text) and "is not a genrebot database" in str(refused.value)
    assert text.read_text() == "# not a database\n" * 200


async def test_events_since_are_every_members_in_one_server_from_that_moment_oldest_first(store: Store) -> None:
    song = (await store.add_song(make_song(1))).song
    elsewhere = (await store.add_song(make_song(2, guild_id=OTHER_GUILD))).song
    await store.record_event(GUILD, BOB, song.id, "liked", at=START - timedelta(days=8))
    await store.record_event(GUILD, ALICE, song.id, "listened", at=START + timedelta(days=2))
    await store.record_event(GUILD, BOB, song.id, "shared", at=START)
    await store.record_event(OTHER_GUILD, BOB, elsewhere.id, "liked", at=START + timedelta(days=1))
    recent = await store.events_since(GUILD, START)
    assert [(event.user_id, event.kind, event.at) for event in recent] == [
        (BOB, EventKind.SHARED, START),
        (ALICE, EventKind.LISTENED, START + timedelta(days=2)),
    ]
    await store.forget_user(ALICE)
    assert [event.user_id for event in await store.events_since(GUILD, START)] == [BOB]
    assert await store.events_since(OTHER_GUILD, START + timedelta(days=2)) == []
