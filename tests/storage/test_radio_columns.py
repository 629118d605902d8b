"""What the radio keeps per song: its measured loudness and whether its audio is missing."""

from __future__ import annotations

import math
from pathlib import Path

import aiosqlite
import pytest

from storage import SQLiteStore
from storage.errors import UnknownSongError
from storage.migrations import MIGRATIONS, migrate
from tests.support.stores import GUILD, OTHER_GUILD, make_song


async def test_a_version_1_file_gains_the_radio_columns(tmp_path: Path) -> None:
    db_path = tmp_path / "v1.db"
    async with aiosqlite.connect(db_path, isolation_level=None) as db:
        await migrate(db, str(db_path), MIGRATIONS[:1])
    async with SQLiteStore(db_path) as store:  # migrates to the latest version
        song = (await store.add_song(make_song(1))).song
        assert song.loudness_lufs is None and song.audio_missing is False


async def test_loudness_is_stored_per_song(store: SQLiteStore) -> None:
    song = (await store.add_song(make_song(1))).song
    assert (await store.set_loudness(GUILD, song.id, -17.25)).loudness_lufs == -17.25
    assert (await store.get_song(GUILD, song.id)).loudness_lufs == -17.25
    with pytest.raises(ValueError):
        await store.set_loudness(GUILD, song.id, math.nan)
    with pytest.raises(UnknownSongError):
        await store.set_loudness(OTHER_GUILD, song.id, -10.0)


async def test_missing_audio_is_marked_until_the_song_is_indexed_again(store: SQLiteStore) -> None:
    first, second = [(await store.add_song(make_song(number))).song for number in (1, 2)]
    await store.set_audio_missing(GUILD, first.id, True)
    await store.set_audio_missing(GUILD, second.id, True)
    assert await store.audio_missing_ids(GUILD) == [first.id, second.id]
    assert await store.audio_missing_ids(OTHER_GUILD) == []
    report = await store.add_songs([make_song(1), make_song(3)])  # the folder is indexed again
    assert (report.added, report.duplicates) == (1, 1)
    assert await store.audio_missing_ids(GUILD) == [second.id]
    assert not (await store.set_audio_missing(GUILD, second.id, False)).audio_missing
