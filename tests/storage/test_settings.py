"""User and server settings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from storage import DEFAULT_VARIETY, Store
from storage.errors import InvalidIdError, InvalidVarietyError
from tests.support.stores import ALICE, BOB, GUILD


async def test_variety_defaults_and_is_stored_per_user(store: Store) -> None:
    assert (await store.user_settings(ALICE)).variety == DEFAULT_VARIETY
    assert (await store.set_variety(ALICE, 0.8)).variety == 0.8
    assert (await store.set_variety(ALICE, 0)).variety == 0.0
    assert math.copysign(1.0, (await store.set_variety(ALICE, -0.0)).variety) == 1.0  # shown as 0.00, not -0.00
    await store.set_variety(BOB, np.float32(1.0))
    assert (await store.user_settings(ALICE)).variety == 0.0
    assert (await store.user_settings(BOB)).variety == 1.0


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan, math.inf, -math.inf, "0.5", True, None])
async def test_bad_variety_is_refused_and_the_old_value_kept(store: Store, bad: object) -> None:
    await store.set_variety(ALICE, 0.4)
    with pytest.raises(InvalidVarietyError) as caught:
        await store.set_variety(ALICE, bad)  # type: ignore[arg-type]
    assert str(caught.value).startswith("Variety must be a number from 0.0 to 1.0")
    assert (await store.user_settings(ALICE)).variety == 0.4


async def test_bad_user_ids_are_refused(store: Store) -> None:
    with pytest.raises(InvalidIdError, match="user"):
        await store.set_variety(-1, 0.5)
    with pytest.raises(InvalidIdError, match="user"):
        await store.user_settings(0)


async def test_guild_settings_default_to_auto_pool_and_no_channels(store: Store) -> None:
    settings = await store.guild_settings(GUILD)
    assert (settings.guild_id, settings.auto_pool, settings.index_channels) == (GUILD, True, frozenset())


async def test_auto_pool_and_index_channels_are_switched_per_server(store: Store) -> None:
    assert (await store.set_auto_pool(GUILD, False)).auto_pool is False
    await store.set_index_channel(GUILD, 5, True)
    await store.set_index_channel(GUILD, 5, True)  # idempotent
    settings = await store.set_index_channel(GUILD, 6, True)
    assert settings.index_channels == frozenset({5, 6}) and settings.auto_pool is False
    settings = await store.set_index_channel(GUILD, 5, False)
    assert settings.index_channels == frozenset({6})
    assert (await store.set_index_channel(GUILD, 99, False)).index_channels == frozenset({6})
    assert (await store.set_auto_pool(GUILD, True)).auto_pool is True
    assert (await store.guild_settings(GUILD + 1)).index_channels == frozenset()
    with pytest.raises(InvalidIdError, match="channel"):
        await store.set_index_channel(GUILD, 0, True)
