"""The SQLite file itself: migrations, pragmas, lifecycle and concurrent use."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import aiosqlite
import pytest

from storage import DEFAULT_VARIETY, SQLiteStore, open_store
from storage.errors import MigrationFailedError, SchemaTooNewError, StoreClosedError
from storage.migrations import MIGRATIONS, migrate, schema_version
from storage.sqlite import EVENTS_SINCE_SQL
from tests.support.stores import ALICE, BOB, GUILD, make_song

EXTRA = ("ALTER TABLE users ADD COLUMN locale TEXT",)


async def test_a_new_file_gets_the_whole_schema_wal_and_foreign_keys(db_path: Path) -> None:
    async with SQLiteStore(db_path) as store:
        await store.add_song(make_song(1))
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexes = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"songs_by_pool", "songs_by_adder", "events_by_user", "events_by_song"} <= indexes


async def test_a_servers_recent_events_are_read_by_index_not_by_scanning_every_server(db_path: Path) -> None:
    async with SQLiteStore(db_path):
        pass
    with sqlite3.connect(db_path) as raw:
        plan = raw.execute(f"EXPLAIN QUERY PLAN {EVENTS_SINCE_SQL}", (GUILD, 0.0)).fetchall()
    assert any("USING INDEX events_by_guild_time" in row[-1] for row in plan), plan


async def test_foreign_keys_are_enforced(sqlite_store: SQLiteStore) -> None:
    async with sqlite_store._writing() as db:
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute("INSERT INTO events (guild_id, user_id, song_id, kind, at) VALUES (1, 1, 1, 'liked', 0)")


async def test_reopening_an_existing_file_keeps_its_data(db_path: Path) -> None:
    async with SQLiteStore(db_path) as store:
        song = (await store.add_song(make_song(1))).song
        await store.record_event(GUILD, BOB, song.id, "liked")
    async with SQLiteStore(db_path) as store:
        assert (await store.get_song(GUILD, song.id)).title == "Song 1"
        assert len(await store.listen_events(GUILD, BOB)) == 1


async def test_a_new_migration_runs_on_an_existing_file_and_keeps_its_data(db_path: Path) -> None:
    async with SQLiteStore(db_path) as store:
        await store.set_variety(BOB, 0.7)
    async with aiosqlite.connect(db_path, isolation_level=None) as db:
        assert await migrate(db, str(db_path), MIGRATIONS + (EXTRA,)) == len(MIGRATIONS) + 1
        rows = await db.execute_fetchall("SELECT id, variety, locale FROM users")
        assert list(rows) == [(BOB, 0.7, None)]
        # applying again is a no-op
        assert await migrate(db, str(db_path), MIGRATIONS + (EXTRA,)) == len(MIGRATIONS) + 1


async def test_a_failing_migration_leaves_the_file_at_the_previous_version(db_path: Path) -> None:
    async with SQLiteStore(db_path) as store:
        await store.set_variety(BOB, 0.7)
    broken = EXTRA + ("INSERT INTO no_such_table VALUES (1)",)
    async with aiosqlite.connect(db_path, isolation_level=None) as db:
        with pytest.raises(MigrationFailedError) as caught:
            await migrate(db, str(db_path), MIGRATIONS + (broken,))
        assert await schema_version(db) == len(MIGRATIONS)
        columns = [row[1] for row in await db.execute_fetchall("PRAGMA table_info(users)")]
    assert "locale" not in columns
    assert f"update the database {db_path} from schema version {len(MIGRATIONS)} to {len(MIGRATIONS) + 1}" in str(
        caught.value
    )
    assert "Nothing was changed" in str(caught.value) and "no_such_table" not in str(caught.value)


async def test_a_file_that_fails_to_migrate_at_start_up_is_a_sentence_and_stays_as_it_was(db_path: Path) -> None:
    """A database whose first migration fails (a table of the same name made by another program)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(db_path)) as raw, raw:
        raw.execute("CREATE TABLE guilds (name TEXT)")
        raw.execute("INSERT INTO guilds VALUES ('theirs')")

    with pytest.raises(MigrationFailedError, match="from schema version 0 to") as caught:
        await SQLiteStore(db_path).open()

    assert "sqlite" not in str(caught.value).lower()
    with closing(sqlite3.connect(db_path)) as raw:
        assert raw.execute("SELECT name, sql FROM sqlite_master").fetchall() == [
            ("guilds", "CREATE TABLE guilds (name TEXT)")
        ]
        assert raw.execute("SELECT * FROM guilds").fetchall() == [("theirs",)]
        assert raw.execute("PRAGMA user_version").fetchone() == (0,)


async def test_a_file_from_a_newer_genrebot_is_refused(db_path: Path) -> None:
    async with SQLiteStore(db_path):
        pass
    async with aiosqlite.connect(db_path, isolation_level=None) as db:
        await migrate(db, str(db_path), MIGRATIONS + (EXTRA,))
    store = SQLiteStore(db_path)
    with pytest.raises(SchemaTooNewError) as caught:
        await store.open()
    assert "upgrade genrebot" in str(caught.value)
    with pytest.raises(StoreClosedError):
        await store.pool_size(GUILD)


async def test_closed_store_says_so_and_close_is_idempotent(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    with pytest.raises(StoreClosedError):
        await store.user_settings(BOB)
    await store.open()
    await store.open()
    await store.close()
    await store.close()
    with pytest.raises(StoreClosedError) as caught:
        await store.add_song(make_song(1))
    assert "not open" in str(caught.value)


async def test_open_store_works_awaited_and_as_a_context_manager(db_path: Path) -> None:
    async with open_store(db_path) as store:
        await store.add_song(make_song(1))
    store = await open_store(db_path)
    try:
        assert await store.pool_size(GUILD) == 1
    finally:
        await store.close()


async def test_a_failed_write_changes_nothing(sqlite_store: SQLiteStore) -> None:
    store = sqlite_store
    song = (await store.add_song(make_song(1))).song
    with pytest.raises(sqlite3.IntegrityError):
        async with store._writing() as db:
            await db.execute("UPDATE users SET variety = 0.9")
            await db.execute(
                "INSERT INTO events (guild_id, user_id, song_id, kind, at) VALUES (?, 424242, ?, 'liked', 0)",
                (GUILD, song.id),
            )
    assert await store.listen_events(GUILD, 424242) == []
    assert (await store.user_settings(ALICE)).variety == DEFAULT_VARIETY
    await store.record_event(GUILD, BOB, song.id, "liked")  # the connection is usable again
