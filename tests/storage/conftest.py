"""Fixtures for the store tests: an open SQLiteStore on a temporary file and a song factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from storage import NewSong, SQLiteStore

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


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "genrebot.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(db_path) as opened:
        yield opened


@pytest.fixture
def song() -> Callable[..., NewSong]:
    return make_song
