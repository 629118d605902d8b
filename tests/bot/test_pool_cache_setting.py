"""The pool cache's budget as a setting (``--pool-cache-mb`` / ``GENREBOT_POOL_CACHE_MB``), handed to the
store the services open, and its figures as admins read them."""

from __future__ import annotations

import pytest

from bot.config import load_config
from bot.services import AudioInput, Caller
from bot.texts import pool_cache_line
from storage import DEFAULT_POOL_CACHE_MB, PoolCacheStats
from tests.support.bot_fixtures import wav_bytes


def test_the_budget_comes_from_the_default_the_environment_or_the_flag() -> None:
    assert load_config([], env={}).pool_cache_mb == DEFAULT_POOL_CACHE_MB
    env = {"GENREBOT_POOL_CACHE_MB": "64"}
    assert load_config([], env=env).pool_cache_mb == 64.0
    assert load_config(["--pool-cache-mb", "32.5"], env=env).pool_cache_mb == 32.5


@pytest.mark.parametrize("typed", ["0", "-8", "nan"])
def test_a_budget_that_is_not_positive_stops_at_start_up(typed: str) -> None:
    with pytest.raises(SystemExit, match="pool cache"):
        load_config(["--pool-cache-mb", typed], env={})


async def test_the_services_open_their_store_with_the_budget(make_services) -> None:
    services = await make_services(pool_cache_mb=3.0)
    caller = Caller(5, 7)
    await services.classify(caller, AudioInput(wav_bytes(330), "tone"))
    await services.playlist(caller)
    await services.playlist(caller)
    stats = services.pool_cache_stats()
    assert (stats.budget_bytes, stats.pools) == (3 * 2**20, 1) and stats.hits >= 1


def test_the_admin_line_reads_plainly() -> None:
    stats = PoolCacheStats(budget_bytes=64 * 2**20, bytes=3 * 2**20, pools=12, hits=90, misses=10, evictions=2)
    assert pool_cache_line(stats) == (
        "Pool cache of this bot process: 12 server pool(s) in 3.0 MiB of 64 MiB; 90% of 100 pool reads "
        "from memory; 2 pool(s) let go to keep the budget."
    )
    fresh = PoolCacheStats(budget_bytes=None, bytes=0, pools=0, hits=0, misses=0, evictions=0)
    assert "of no limit; no pool read yet from memory" in pool_cache_line(fresh)
