"""The PostgreSQL store itself: schema versions, connection errors, cache coherence, rollback."""

from __future__ import annotations

import psycopg
import pytest

from storage import SQLiteStore, store_for
from storage.errors import DatabaseUnavailableError, MigrationFailedError, SchemaTooNewError, StoreClosedError
from storage.postgres import PostgresStore
from storage.postgres_schema import MIGRATIONS, migrate, schema_version
from tests.support.stores import (
    ALICE,
    BOB,
    GUILD,
    NO_SERVER,
    OTHER_GUILD,
    TEST_DATABASE_URL,
    make_song,
)


@pytest.fixture
def backend() -> str:
    """Only the PostgreSQL backend here (overrides the two-backend fixture of conftest)."""
    if not TEST_DATABASE_URL:
        pytest.skip(NO_SERVER)
    return "postgresql"


EXTRA = ("ALTER TABLE users ADD COLUMN locale text",)


def test_the_url_picks_the_backend(database: str, tmp_path) -> None:
    assert isinstance(store_for(database), PostgresStore)
    assert isinstance(store_for(tmp_path / "genrebot.db"), SQLiteStore)
    assert isinstance(store_for(str(tmp_path / "genrebot.db")), SQLiteStore)


async def test_a_new_database_gets_the_schema_and_a_newer_one_is_refused(database: str) -> None:
    async with PostgresStore(database) as store:
        await store.add_song(make_song(1))
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        assert await schema_version(conn) == len(MIGRATIONS)
        assert await migrate(conn, "test", MIGRATIONS + (EXTRA,)) == len(MIGRATIONS) + 1
        assert await migrate(conn, "test", MIGRATIONS + (EXTRA,)) == len(MIGRATIONS) + 1
    store = PostgresStore(database)
    with pytest.raises(SchemaTooNewError) as caught:
        await store.open()
    assert "upgrade genrebot" in str(caught.value)
    with pytest.raises(StoreClosedError):
        await store.pool_size(GUILD)


async def test_a_failing_migration_leaves_the_previous_version(database: str) -> None:
    async with PostgresStore(database) as store:
        await store.set_variety(BOB, 0.7)
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        with pytest.raises(MigrationFailedError, match="Nothing was changed") as caught:
            await migrate(conn, "test", MIGRATIONS + (EXTRA + ("INSERT INTO nowhere VALUES (1)",),))
        assert isinstance(caught.value.__cause__, psycopg.errors.UndefinedTable)
        assert await schema_version(conn) == len(MIGRATIONS)
    async with PostgresStore(database) as store:
        assert (await store.user_settings(BOB)).variety == 0.7


async def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    store = PostgresStore("postgresql://genrebot:s3cret@127.0.0.1:1/genrebot")
    with pytest.raises(DatabaseUnavailableError) as caught:
        await store.open()
    assert "127.0.0.1:1/genrebot" in str(caught.value) and "s3cret" not in str(caught.value)


async def test_only_the_pools_written_elsewhere_are_reloaded(store, make_store) -> None:
    await store.add_song(make_song(1))
    await store.add_song(make_song(2, guild_id=OTHER_GUILD))
    here, there = await store.pool_matrix(GUILD), await store.pool_matrix(OTHER_GUILD)
    async with make_store() as other_process:
        await other_process.add_song(make_song(3))
    assert await store.pool_matrix(OTHER_GUILD) is there
    assert len(await store.pool_matrix(GUILD)) == 2 and await store.pool_matrix(GUILD) is not here


async def test_own_additions_grow_the_cached_matrix(store) -> None:
    await store.add_song(make_song(1))
    await store.pool_matrix(GUILD)
    added = (await store.add_song(make_song(2))).song
    misses = store.pool_cache_stats().misses
    grown = await store.pool_matrix(GUILD)  # served from the cache, grown in step with the write
    assert store.pool_cache_stats().misses == misses and grown.ids.tolist()[-1] == added.id


async def test_a_failed_write_changes_nothing(store) -> None:
    song = (await store.add_song(make_song(1))).song
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        async with store._writing() as conn:
            await conn.execute("UPDATE users SET variety = 0.9")
            await conn.execute(
                "INSERT INTO events (guild_id, user_id, song_id, kind, at) VALUES (%s, 424242, %s, 'liked', now())",
                (GUILD, song.id),
            )
    assert (await store.user_settings(ALICE)).variety == 0.25
    await store.record_event(GUILD, BOB, song.id, "liked")  # the pool is usable again
