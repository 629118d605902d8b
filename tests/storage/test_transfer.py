"""Copying a SQLite database into PostgreSQL (`python -m bot migrate-db`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from genre_engine.labels import GENRES
from storage import PostgresStore, ServingModel, SQLiteStore
from storage.errors import TransferMismatchError, TransferSourceMissingError
from storage.transfer import copy_sqlite_to_postgres
from tests.support.stores import (
    ALICE,
    BOB,
    DIM,
    GUILD,
    NO_SERVER,
    OTHER_GUILD,
    TEST_DATABASE_URL,
    make_song,
)

AT = datetime(2025, 5, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def backend() -> str:
    if not TEST_DATABASE_URL:
        pytest.skip(NO_SERVER)
    return "postgresql"


MODEL = ServingModel("model-a", tuple(GENRES), DIM)


async def _fill(path: Path) -> dict:
    async with SQLiteStore(path, model=MODEL) as store:
        await store.add_songs(
            [make_song(number, tags=[0.5, 0.1], confident=number % 2 == 0, model_id=MODEL.id) for number in range(12)]
        )
        kept = (await store.add_song(make_song(50, in_pool=False, added_by=BOB))).song
        there = (await store.add_song(make_song(60, guild_id=OTHER_GUILD, added_at=AT))).song
        await store.record_event(GUILD, BOB, kept.id, "liked", at=AT)
        await store.record_event(OTHER_GUILD, ALICE, there.id, "shared")
        await store.set_variety(BOB, 0.6)
        await store.set_auto_pool(OTHER_GUILD, False)
        await store.set_index_channel(GUILD, 77, True)
        await store.teach(GUILD, 1, "lo-fi", taught_by=BOB)
        await store.save_taught_model(GUILD, 1, b"state")
        await store.set_teacher_role(GUILD, 555)
        return {
            "kept": kept,
            "there": there,
            "matrix": await store.pool_matrix(GUILD),
            "events": await store.listen_events(GUILD, BOB),
        }


async def test_everything_is_copied_with_its_ids_and_again_adds_nothing(db_path: Path, database: str) -> None:
    before = await _fill(db_path)
    seen: list[tuple[str, int, int]] = []
    report = await copy_sqlite_to_postgres(db_path, database, progress=lambda *step: seen.append(step))
    assert report.counts == {
        "models": 1,
        "users": 2,
        "guilds": 2,
        "index_channels": 1,
        "songs": 14,
        "events": 2,
        "taught_labels": 1,
        "taught_models": 1,
    }
    assert report.copied == report.counts
    assert ("songs", 14, 14) in seen
    again = await copy_sqlite_to_postgres(db_path, database)
    assert set(again.copied.values()) == {0}
    assert again.counts == report.counts

    async with PostgresStore(database, model=MODEL) as store:
        matrix = await store.pool_matrix(GUILD)
        np.testing.assert_array_equal(matrix.ids, before["matrix"].ids)
        np.testing.assert_array_equal(matrix.embeddings, before["matrix"].embeddings)
        np.testing.assert_array_equal(matrix.added_by, before["matrix"].added_by)
        kept = await store.get_song(GUILD, before["kept"].id)
        assert (kept.in_pool, kept.added_by, kept.title) == (False, BOB, "Song 50")
        assert (await store.get_song(OTHER_GUILD, before["there"].id)).added_at == AT
        assert await store.listen_events(GUILD, BOB) == before["events"]
        assert (await store.user_settings(BOB)).variety == 0.6
        assert (await store.guild_settings(OTHER_GUILD)).auto_pool is False
        assert (await store.guild_settings(GUILD)).index_channels == frozenset({77})
        np.testing.assert_array_equal(matrix.tags, before["matrix"].tags)
        np.testing.assert_array_equal(matrix.confident, before["matrix"].confident)
        assert (await store.get_song(GUILD, before["kept"].id)).confident is None
        assert await store.taught_examples(GUILD) == {"lo-fi": (1,)}
        assert (await store.taught_model(GUILD)).state == b"state"
        assert (await store.guild_settings(GUILD)).teacher_role == 555
        # new rows get ids after the copied ones
        new = (await store.add_song(make_song(99))).song
        assert new.id > max(before["matrix"].ids.max(), before["there"].id)


async def test_a_target_with_other_rows_is_reported(db_path: Path, database: str) -> None:
    await _fill(db_path)
    async with PostgresStore(database) as store:
        await store.set_variety(424242, 0.1)
    with pytest.raises(TransferMismatchError) as caught:
        await copy_sqlite_to_postgres(db_path, database)
    assert (caught.value.table, caught.value.source, caught.value.target) == ("users", 2, 3)


async def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path, database: str) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(TransferSourceMissingError):
        await copy_sqlite_to_postgres(missing, database)
    assert not missing.exists()
