"""Several processes opening a new database at once (the bot, its workers, `python -m bot index`)."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable

from storage import store_for
from storage.base import Store
from tests.support.stores import GUILD, make_song

PROCESSES = 4
ROUNDS = 5


def _open_together(location: str, start: multiprocessing.synchronize.Barrier, number: int) -> None:
    async def opened() -> None:
        store: Store = store_for(location)
        start.wait(timeout=120)  # the machine may be busy: spawning takes a while
        async with store:
            await store.add_song(make_song(number))

    asyncio.run(opened())


def test_processes_opening_a_new_database_at_once_all_succeed(
    databases: Callable[[], str],
) -> None:
    # spawn, not fork: a fork of the test process can inherit a lock held by one of its threads
    context = multiprocessing.get_context("spawn")
    for _ in range(ROUNDS):
        location = databases()
        start = context.Barrier(PROCESSES)
        workers = [
            context.Process(target=_open_together, args=(location, start, number)) for number in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                worker.join(timeout=180)
        finally:
            for worker in workers:
                if worker.is_alive():
                    worker.kill()
        assert [worker.exitcode for worker in workers] == [0] * PROCESSES

    async def count() -> int:
        async with store_for(location) as store:
            return await store.pool_size(GUILD)

    assert asyncio.run(count()) == PROCESSES
