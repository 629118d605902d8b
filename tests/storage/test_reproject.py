"""Moving stored embeddings to a compact projection (both backends)."""

from __future__ import annotations

import numpy as np
import pytest

from storage.base import Store
from storage.errors import InvalidSongError
from tests.support.stores import GUILD, make_song

OTHER_GUILD = GUILD + 1


def _halve(rows: np.ndarray) -> np.ndarray:
    return rows[:, ::2] * 3.0  # any linear map; the store re-normalises


async def test_full_embeddings_of_every_server_are_projected(store: Store) -> None:
    await store.add_songs([make_song(i, dim=8) for i in range(3)] + [make_song(10, dim=8, guild_id=OTHER_GUILD)])
    await store.add_song(make_song(20, dim=6, guild_id=OTHER_GUILD + 1))  # another size: left alone
    before = await store.pool_matrix(GUILD)
    assert await store.reproject_embeddings(8, _halve) == 4
    after = await store.pool_matrix(GUILD)
    assert after.embeddings.shape == (3, 4)
    expected = _halve(before.embeddings)
    np.testing.assert_allclose(after.embeddings, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-6)
    assert (await store.pool_matrix(OTHER_GUILD)).embeddings.shape == (1, 4)
    assert (await store.pool_matrix(OTHER_GUILD + 1)).embeddings.shape == (1, 6)
    # the server's pool takes songs of the compact size from now on
    await store.add_song(make_song(30, dim=4))
    assert (await store.pool_matrix(GUILD)).embeddings.shape == (4, 4)
    assert await store.reproject_embeddings(8, _halve) == 0


async def test_a_bad_projection_changes_nothing(store: Store) -> None:
    await store.add_songs([make_song(i, dim=8) for i in range(3)])
    before = (await store.pool_matrix(GUILD)).embeddings.copy()
    with pytest.raises(InvalidSongError):
        await store.reproject_embeddings(8, lambda rows: rows[:-1])
    np.testing.assert_array_equal((await store.pool_matrix(GUILD)).embeddings, before)
