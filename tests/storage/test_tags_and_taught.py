"""What issue 13 stores: tag vectors and the confident flag per song, taught genre labels, the taught
classifier's state, the teacher role, and the migration that adds them to an existing database."""

from __future__ import annotations

import sqlite3

import aiosqlite
import numpy as np
import pytest

from storage import SQLiteStore
from storage.errors import (
    InvalidLabelError,
    InvalidSongError,
    UnknownLabelError,
    UnknownSongError,
)
from storage.migrations import MIGRATIONS, migrate
from tests.support.stores import ALICE, BOB, GUILD, OTHER_GUILD, make_song

TAGS = np.array([0.9, 0.05, 0.3], np.float32)


async def test_tags_and_confident_round_trip_and_reach_the_pool_matrix(store: SQLiteStore) -> None:
    tagged = (await store.add_song(make_song(1, tags=TAGS, confident=False))).song
    untagged = (await store.add_song(make_song(2))).song

    assert tagged.confident is False and np.array_equal(tagged.tags, TAGS)
    assert untagged.tags is None and untagged.confident is None
    matrix = await store.pool_matrix(GUILD)
    np.testing.assert_array_equal(matrix.tags[0], TAGS)
    assert np.isnan(matrix.tags[1]).all() and matrix.confident.tolist() == [False, True]


async def test_the_cached_matrix_keeps_tags_in_step_with_new_songs(store: SQLiteStore) -> None:
    await store.add_song(make_song(1, tags=TAGS, confident=True))
    await store.pool_matrix(GUILD)  # cached
    await store.add_song(make_song(2, tags=TAGS * 0.5, confident=False))

    matrix = await store.pool_matrix(GUILD)

    np.testing.assert_allclose(matrix.tags[:, 0], [0.9, 0.45])
    assert matrix.confident.tolist() == [True, False]


@pytest.mark.parametrize("tags", [[1.5, 0.1], [np.nan], [[0.1, 0.2]]])
async def test_bad_tag_vectors_are_refused(store: SQLiteStore, tags) -> None:
    with pytest.raises(InvalidSongError, match="tag vector"):
        await store.add_song(make_song(1, tags=tags))


async def test_teach_counts_examples_once_each_and_forget_removes_them(store: SQLiteStore) -> None:
    for number in (1, 2, 3):
        await store.add_song(make_song(number))

    assert await store.teach(GUILD, 1, "  Synth  Wave ", taught_by=ALICE) == 1
    assert await store.teach(GUILD, 2, "synth wave", taught_by=BOB) == 2
    assert await store.teach(GUILD, 2, "SYNTH WAVE") == 2  # already taught
    await store.teach(GUILD, 3, "lo-fi")

    assert await store.taught_examples(GUILD) == {"lo-fi": (3,), "synth wave": (1, 2)}
    assert await store.taught_examples(OTHER_GUILD) == {}
    assert await store.forget_label(GUILD, "Synth Wave") == 2
    assert await store.taught_examples(GUILD) == {"lo-fi": (3,)}
    with pytest.raises(UnknownLabelError, match="synth wave"):
        await store.forget_label(GUILD, "synth wave")


async def test_teach_refuses_bad_labels_and_songs_of_other_servers(store: SQLiteStore) -> None:
    await store.add_song(make_song(1, guild_id=OTHER_GUILD))
    with pytest.raises(UnknownSongError):
        await store.teach(GUILD, 1, "lo-fi")
    for label in ("", "   ", "x" * 41, 42):
        with pytest.raises(InvalidLabelError):
            await store.teach(OTHER_GUILD, 1, label)


async def test_labels_go_with_their_song_and_teachers_can_be_forgotten(store: SQLiteStore) -> None:
    await store.add_song(make_song(1))
    await store.add_song(make_song(2))
    await store.teach(GUILD, 1, "lo-fi", taught_by=BOB)
    await store.teach(GUILD, 2, "lo-fi", taught_by=BOB)

    await store.remove_song(GUILD, 1)
    await store.forget_user(BOB)

    assert await store.taught_examples(GUILD) == {"lo-fi": (2,)}  # the label stays, without its teacher


async def test_taught_model_state_is_replaced_and_read_back(store: SQLiteStore) -> None:
    assert await store.taught_model(GUILD) is None
    await store.save_taught_model(GUILD, 1, b"first")
    saved = await store.save_taught_model(GUILD, 2, b"second")

    loaded = await store.taught_model(GUILD)

    assert (loaded.version, loaded.state) == (2, b"second") and loaded.trained_at == saved.trained_at


async def test_teacher_role_is_a_server_setting(store: SQLiteStore) -> None:
    assert (await store.guild_settings(GUILD)).teacher_role is None
    assert (await store.set_teacher_role(GUILD, 555)).teacher_role == 555
    assert (await store.guild_settings(GUILD)).teacher_role == 555
    assert (await store.set_teacher_role(GUILD, None)).teacher_role is None


async def test_a_database_of_an_earlier_version_is_migrated_keeping_its_songs(db_path) -> None:
    db_path.parent.mkdir(parents=True)
    async with aiosqlite.connect(db_path, isolation_level=None) as db:  # as genrebot 0.1 left it
        assert await migrate(db, str(db_path), MIGRATIONS[:1]) == 1
        await db.execute("INSERT INTO guilds (id, created_at) VALUES (?, 0)", (GUILD,))
        await db.execute(
            "INSERT INTO songs (guild_id, content_hash, title, probabilities, embedding, added_at) "
            "VALUES (?, 'h', 'Old song', ?, ?, 0)",
            (GUILD, np.full(10, 0.1, np.float32).tobytes(), np.ones(8, np.float32).tobytes()),
        )

    async with SQLiteStore(db_path) as store:
        song = await store.get_song(GUILD, 1)
        assert song.title == "Old song" and song.tags is None and song.confident is None
        assert await store.teach(GUILD, 1, "lo-fi") == 1
        assert (await store.pool_matrix(GUILD)).tags is None
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
