"""Fixtures for the recommender tests: a store holding a small synthetic server pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from benchmarks.synthetic import SyntheticPool, make_pool
from storage import NewSong, SQLiteStore

GUILD = 7
EMPTY_GUILD = 8
ALICE = 501  # shared most of the pool
BOB = 502  # a listener with a jazz-heavy history
NEWCOMER = 503  # no history at all
POOL_SIZE = 120
DIM = 16


def pool_songs(pool: SyntheticPool, *, start: int = 0) -> list[NewSong]:
    return [
        NewSong(
            guild_id=GUILD,
            title=f"Track {start + index}",
            content_hash=f"{start + index:064x}",
            probabilities=probabilities,
            embedding=embedding,
            added_by=ALICE,
        )
        for index, (probabilities, embedding) in enumerate(zip(pool.probabilities, pool.embeddings))
    ]


@pytest.fixture
def synthetic_pool() -> SyntheticPool:
    return make_pool(POOL_SIZE, DIM, np.random.default_rng(42))


@pytest.fixture
async def store(tmp_path: Path, synthetic_pool: SyntheticPool) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "genrebot.db") as opened:
        await opened.add_songs(pool_songs(synthetic_pool))
        yield opened
