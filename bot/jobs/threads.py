"""A queue in front of a few worker threads, for blocking work (classification, link downloads).

Threads suffice: torch, numpy, libsndfile and sockets release the GIL. At most ``workers`` jobs run;
the others wait in line, first come first served, and each waiting caller can be told its place
and an estimate of when its job will be done (``on_place``), again whenever it moves up. A job is
refused only when it could not be kept anyway:

- the caller already has ``per_owner`` jobs in this pool (TooManyJobsError): one user's ten slow
  links cannot take every worker and push everyone else back;
- ``max_waiting`` jobs, or ``max_waiting_bytes`` of input, are already waiting (BusyError): the
  queue's memory is bounded, not its patience;
- the estimated finish is later than the caller can wait (``max_wait_s``, e.g. the 15 minutes a
  Discord interaction lives; QueueTooLongError). The estimate is a running mean of the time jobs
  took x (place / workers + 1).

All bookkeeping happens on the event loop (asyncio futures and call_soon_threadsafe), so there is
no lock. A job counts until its thread finishes, even if the coroutine awaiting it was cancelled,
so the bound holds for real work; a job whose caller gives up while waiting never runs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

from bot.jobs.children import Work
from bot.jobs.errors import BusyError, QueueTooLongError, TooManyJobsError
from bot.links.fetch import FetchedAudio
from genre_engine import Prediction

log = logging.getLogger("genrebot.workers")

P = ParamSpec("P")
T = TypeVar("T")

# Weight of the latest job in the running mean of job times (an exponential moving average).
MEAN_WEIGHT = 0.2


@dataclass(frozen=True)
class Place:
    """Where a job stands: ``place`` 1 is next to start, 0 means it is running; ``eta_s`` estimates
    the seconds until it is done."""

    place: int
    eta_s: float


PlaceCallback = Callable[[Place], object]


@dataclass(eq=False)
class _Job:
    call: Callable[[], Any]
    owner: Hashable | None
    weight: int
    timed: bool
    on_place: PlaceCallback | None
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    told: int | None = None  # the place last told to on_place
    started: float = 0.0


class WorkerPool:
    """``workers`` threads behind a first-come-first-served line (see the module docstring).

    ``initial_job_s`` stands in for the mean job time until the first job has finished."""

    def __init__(
        self,
        name: str,
        workers: int,
        *,
        max_waiting: int,
        per_owner: int,
        max_waiting_bytes: int | None = None,
        initial_job_s: float = 2.0,
    ) -> None:
        self.name = name
        self.workers = workers
        self.max_waiting = max_waiting
        self.max_waiting_bytes = max_waiting_bytes
        self.per_owner = per_owner
        self.mean_job_s = initial_job_s
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"genrebot-{name}")
        self._waiting: deque[_Job] = deque()
        self._running: list[_Job] = []
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Jobs waiting or running (a running job counts until its thread ends)."""
        return len(self._waiting) + len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def estimate_s(self, place: int) -> float:
        """Seconds until a job at ``place`` (1 = next, 0 = running) is done, from the mean job time."""
        return self.mean_job_s * (place / self.workers + 1)

    async def run(
        self,
        fn: Callable[P, T],
        /,
        *args: P.args,
        owner: Hashable | None = None,
        on_place: PlaceCallback | None = None,
        max_wait_s: float | None = None,
        weight: int = 0,
        timed: bool = True,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(*args, **kwargs)`` in a worker thread, after the jobs ahead of it.

        ``owner``: whose job it is (per-owner limit; None: not limited). ``on_place``: called on the
        event loop with a :class:`Place` when the job joins the line and whenever its place changes
        (last with place 0, when it starts). ``max_wait_s``: refuse if the estimate is later.
        ``weight``: bytes the job holds while waiting. ``timed=False`` keeps an unusual job (a whole
        folder) out of the mean. Raises BusyError, TooManyJobsError, QueueTooLongError, or what
        ``fn`` raised."""
        self._admit(owner, weight, max_wait_s)
        job = _Job(functools.partial(fn, *args, **kwargs), owner, weight, timed, on_place)
        job.future.add_done_callback(lambda _: self._drop_if_waiting(job))
        self._waiting.append(job)
        self._dispatch()
        return await job.future

    def _admit(self, owner: Hashable | None, weight: int, max_wait_s: float | None) -> None:
        if self._closed:
            raise BusyError()
        if owner is not None and sum(job.owner == owner for job in self._jobs()) >= self.per_owner:
            raise TooManyJobsError(self.per_owner)
        if len(self._running) < self.workers:
            return  # starts at once
        place = len(self._waiting) + 1
        waiting_bytes = sum(job.weight for job in self._waiting) + weight
        if place > self.max_waiting or (self.max_waiting_bytes is not None and waiting_bytes > self.max_waiting_bytes):
            raise BusyError()
        if max_wait_s is not None and (eta := self.estimate_s(place)) > max_wait_s:
            raise QueueTooLongError(len(self._running) + place - 1, eta, max_wait_s)

    def _jobs(self) -> list[_Job]:
        return [*self._running, *self._waiting]

    def _dispatch(self) -> None:
        """Start waiting jobs while workers are free, then tell everyone still waiting their place."""
        while self._waiting and len(self._running) < self.workers:
            self._start(self._waiting.popleft())
        for place, job in enumerate(self._waiting, 1):
            self._tell(job, place)

    def _start(self, job: _Job) -> None:
        job.started = time.monotonic()
        self._running.append(job)
        self._tell(job, 0)
        loop = asyncio.get_running_loop()
        try:
            work = self._executor.submit(job.call)
        except RuntimeError:  # shut down meanwhile
            self._running.remove(job)
            job.future.set_exception(BusyError())
            return

        def finished(work: Future) -> None:  # in the worker thread
            try:
                loop.call_soon_threadsafe(self._finished, job, work)
            except RuntimeError:  # the loop is gone: nobody is waiting any more
                pass

        work.add_done_callback(finished)

    def _finished(self, job: _Job, work: Future) -> None:
        self._running.remove(job)
        if job.timed:
            self.mean_job_s += MEAN_WEIGHT * (time.monotonic() - job.started - self.mean_job_s)
        if not job.future.done():  # not cancelled by its caller meanwhile
            if work.exception() is not None:
                job.future.set_exception(work.exception())
            else:
                job.future.set_result(work.result())
        self._dispatch()

    def _tell(self, job: _Job, place: int) -> None:
        if job.on_place is None or job.told == place:
            return
        job.told = place
        try:
            job.on_place(Place(place, self.estimate_s(place)))
        except Exception:  # a front end's display must not break the queue
            log.exception("place callback failed", extra={"pool": self.name})

    def _drop_if_waiting(self, job: _Job) -> None:
        """The caller gave up (cancelled) before the job started: it leaves the line."""
        if job in self._waiting:
            self._waiting.remove(job)
            self._dispatch()

    async def close(self) -> None:
        """Refuse new jobs, turn away the waiting ones (BusyError), wait for running ones; at shutdown."""
        self._closed = True
        while self._waiting:
            job = self._waiting.popleft()
            if not job.future.done():
                job.future.set_exception(BusyError())
        await asyncio.to_thread(self._executor.shutdown, wait=True)


class Jobs(Protocol):
    """What the services need done off the event loop for one user: classify an upload, download a
    link. :class:`ThreadJobs` does it in this process; ``bot.jobs.queue.QueueJobs`` through workers."""

    async def classify(
        self,
        data: bytes,
        *,
        name: str | None,
        owner: Hashable | None,
        on_place: PlaceCallback | None,
        max_wait_s: float | None,
    ) -> Prediction:
        """The prediction for ``data``; raises what the engine raises for unusable audio, and
        BusyError, TooManyJobsError or QueueTooLongError when the line refuses the job."""
        ...

    async def fetch(
        self, url: str, *, owner: Hashable | None, on_place: PlaceCallback | None, max_wait_s: float | None
    ) -> FetchedAudio:
        """The audio behind ``url`` (bot.links.fetch); raises its link errors, and the line's refusals."""
        ...

    async def close(self) -> None: ...


class ThreadJobs:
    """Classifications and downloads waiting in this process's worker pools, ``classifier`` and
    ``downloader``; each pool's thread does the job's ``work`` (bot.jobs.children: in a child process
    with a time and memory limit, or in the thread itself)."""

    def __init__(self, work: Work, classifier: WorkerPool, downloader: WorkerPool) -> None:
        self.work = work
        self.classifier = classifier
        self.downloader = downloader

    async def classify(
        self,
        data: bytes,
        *,
        name: str | None,
        owner: Hashable | None,
        on_place: PlaceCallback | None,
        max_wait_s: float | None,
    ) -> Prediction:
        return await self.classifier.run(
            self.work.classify, data, name, owner=owner, on_place=on_place, max_wait_s=max_wait_s, weight=len(data)
        )

    async def fetch(
        self, url: str, *, owner: Hashable | None, on_place: PlaceCallback | None, max_wait_s: float | None
    ) -> FetchedAudio:
        return await self.downloader.run(self.work.fetch, url, owner=owner, on_place=on_place, max_wait_s=max_wait_s)

    async def close(self) -> None:
        """Refuse new jobs, let the running ones finish, then stop the work's processes."""
        await self.classifier.close()
        await self.downloader.close()
        await asyncio.to_thread(self.work.close)
