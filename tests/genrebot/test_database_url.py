"""Choosing PostgreSQL with GENREBOT_DATABASE_URL / --database-url, and `python -m bot migrate-db`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import DEFAULT_HOME, load_config
from genrebot.cli import main, parse
from storage import PostgresStore, SQLiteStore
from tests.support.stores import GUILD, NO_SERVER, TEST_DATABASE_URL, make_song

URL = "postgresql://genrebot:s3cret@db.example:5432/genrebot"


def test_sqlite_stays_the_default() -> None:
    config = load_config([], env={})
    assert config.store_location == DEFAULT_HOME / "genrebot.db"


def test_the_url_comes_from_the_environment_or_the_flag_and_is_not_shown() -> None:
    assert load_config([], env={"GENREBOT_DATABASE_URL": URL}).store_location == URL
    flagged = load_config(["--database-url", URL], env={"GENREBOT_DATABASE_URL": "postgresql://x/y"})
    assert flagged.store_location == URL
    assert "s3cret" not in repr(flagged)


@pytest.mark.parametrize("argv", [["--database-url", "mysql://x/y"], ["migrate-db", "--to", "data/x.db"]])
def test_a_url_that_is_not_postgresql_is_refused_clearly(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(argv, env={})
    assert "postgresql://" in str(caught.value)


@pytest.fixture
def backend() -> str:
    if not TEST_DATABASE_URL:
        pytest.skip(NO_SERVER)
    return "postgresql"


def test_migrate_db_copies_the_sqlite_file(tmp_path: Path, database: str, capsys) -> None:
    db_path = tmp_path / "genrebot.db"

    async def fill() -> None:
        async with SQLiteStore(db_path) as store:
            await store.add_songs([make_song(number) for number in range(7)])

    async def pool_size() -> int:
        async with PostgresStore(database) as store:
            return await store.pool_size(GUILD)

    asyncio.run(fill())
    assert main(["--db", str(db_path), "migrate-db", "--to", database]) == 0
    assert asyncio.run(pool_size()) == 7
    out = capsys.readouterr().out
    assert "7 songs" in out and "counts checked" in out
    assert main(["--db", str(tmp_path / "missing.db"), "migrate-db", "--to", database]) == 2
    assert "no SQLite database" in capsys.readouterr().err
