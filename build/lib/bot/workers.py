"""A bounded pool of worker threads for blocking work (classification, link downloads).

Threads suffice: torch, numpy, libsndfile and sockets release the GIL. The bound is the point: a
server that floods ``/classify`` gets a prompt "busy" instead of an ever-growing queue of users
waiting in silence, and the event loop never runs model code.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot.errors import BusyError

P = ParamSpec("P")
T = TypeVar("T")


class WorkerPool:
    """At most ``workers`` jobs run and ``queue_size`` more wait; a job beyond that raises BusyError.

    A job counts until its thread finishes, even if the coroutine awaiting it was cancelled, so the
    bound holds for real work and not just for the callers still listening.
    """

    def __init__(self, name: str, workers: int, queue_size: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"genrebot-{name}")
        self._capacity = workers + queue_size
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            if self._in_flight >= self._capacity:
                raise BusyError()
            self._in_flight += 1
        try:
            job = self._executor.submit(functools.partial(fn, *args, **kwargs))
        except RuntimeError:  # shut down: no new work while the bot is stopping
            self._finished(None)
            raise BusyError() from None
        job.add_done_callback(self._finished)
        return await asyncio.wrap_future(job)

    def _finished(self, _job: Future | None) -> None:
        with self._lock:
            self._in_flight -= 1

    async def close(self) -> None:
        """Drop queued jobs, wait for running ones; called at shutdown."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
