"""Fixtures for the store tests: an open store of each backend on a fresh database, a song factory.

Every test that takes ``store`` (or ``database``/``make_store``) runs twice: on a SQLite file in a
temporary folder and on a fresh database of the PostgreSQL server named by
``GENREBOT_TEST_DATABASE_URL`` (``scripts/test`` starts a throw-away server and sets it). Without the
variable the PostgreSQL runs are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from storage import NewSong, SQLiteStore, Store, store_for

GUILD = 111
OTHER_GUILD = 222
ALICE = 1001
BOB = 1002
DIM = 8


def one_hot(genre: int, share: float = 0.91) -> np.ndarray:
    """A probability vector with ``share`` on one genre and the rest spread evenly."""
    vector = np.full(10, (1.0 - share) / 9, dtype=np.float32)
    vector[genre] = share
    return vector


def make_song(
    number: int,
    *,
    guild_id: int = GUILD,
    added_by: int | None = ALICE,
    genre: int | None = None,
    dim: int = DIM,
    **fields: object,
) -> NewSong:
    """A distinct song per ``number``: its own hash, a genre vector and a random unit embedding."""
    rng = np.random.default_rng(number)
    values: dict[str, object] = dict(
        guild_id=guild_id,
        title=f"Song {number}",
        content_hash=f"{number:064x}",
        probabilities=one_hot(number % 10 if genre is None else genre),
        embedding=rng.normal(size=dim).astype(np.float32),
        added_by=added_by,
        duration_s=180.0,
        source_url=f"https://example.com/{number}.ogg",
        message_url=f"https://discord.com/channels/{guild_id}/1/{number}",
    )
    values.update(fields)
    return NewSong(**values)


TEST_DATABASE_URL = os.environ.get("GENREBOT_TEST_DATABASE_URL", "").strip()
NO_SERVER = (
    "no PostgreSQL server: set GENREBOT_TEST_DATABASE_URL=postgresql://... (scripts/test starts a throw-away one)"
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "genrebot.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not TEST_DATABASE_URL:
        pytest.skip(NO_SERVER)
    return request.param


@pytest.fixture
def databases(backend: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases of the backend: SQLite file paths or PostgreSQL URLs.
    PostgreSQL databases are created on the test server and dropped after the test."""
    created: list[str] = []

    def fresh() -> str:
        name = f"genrebot_test_{uuid.uuid4().hex[:16]}"
        if backend == "sqlite":
            return str(tmp_path / name / "genrebot.db")
        _admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return urlsplit(TEST_DATABASE_URL)._replace(path=f"/{name}").geturl()

    yield fresh
    for name in created:
        _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as connection:
        connection.execute(statement)


@pytest.fixture
def database(databases: Callable[[], str]) -> str:
    """One fresh database of the backend (a SQLite file path or a PostgreSQL URL)."""
    return databases()


@pytest.fixture
def make_store(database: str) -> Callable[[], Store]:
    """New, unopened stores on the test's database: a second one stands for another process."""
    return lambda: store_for(database)


@pytest.fixture
async def store(make_store: Callable[[], Store]) -> AsyncIterator[Store]:
    async with make_store() as opened:
        yield opened


@pytest.fixture
async def sqlite_store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    """A SQLiteStore, for the tests of the SQLite file itself."""
    async with SQLiteStore(db_path) as opened:
        yield opened


@pytest.fixture
def song() -> Callable[..., NewSong]:
    return make_song
