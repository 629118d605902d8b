"""Blocking jobs in child processes that are killed when they overrun: every classification of an
upload or a link, and every link fetch, has a time limit and a memory limit that hold whatever the
input makes the work cost.

A thread cannot be stopped from outside: a decoder looping over a crafted file, or yt-dlp's
regular expressions over a page of 30,000 ``<audio>`` tags, would keep its worker (and the memory
it took) until it ended by itself, and hold the GIL the event loop needs meanwhile. A child process
can be killed: pebble's ``ProcessPool`` runs each job in one of ``workers`` children and, when the
job passes its time limit, kills that child (the memory goes back with it) and starts another. Each
child caps its own data segment (``RLIMIT_DATA``: heap and private mappings, what numpy, ONNX
Runtime and FFmpeg allocate), so a job that wants more fails there instead of taking the machine's
memory. What isolation costs per job and what a killed child costs to replace is measured by
``python -m benchmarks.job_bounds`` (the docs' measurement page *Job bounds*).

Children are started by a fork server (``forkserver``), never forked from the bot itself, whose
threads (the event loop, ONNX Runtime's pool, the database driver's) a fork would copy in whatever
state they were in. Their initializer loads what every job of the pool needs once (the model).
The calling thread waits for the child; it is a thread of :class:`bot.jobs.threads.WorkerPool`, so
the line, the places and the per-member limits stay where they are, and a job's slot is held until
its child has ended or been killed, never longer than the time limit.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import multiprocessing
import resource
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeoutError
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pebble import ProcessExpired, ProcessPool

from bot.classifier import Classifier
from bot.jobs.errors import JobFailedError, JobMemoryError, JobTimeoutError
from bot.links.errors import DownloadTimeoutError
from bot.links.fetch import FetchedAudio, LinkPolicy, fetch_audio, warm_up
from genre_engine import GenreEngine, Prediction

log = logging.getLogger("genrebot.children")

T = TypeVar("T")


def _answer(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, in a child. An error goes back without its traceback: pebble holds the error
    until the child's next job, and the traceback's frames hold this job's data (decoded audio, a
    download), which would count against the next job's memory."""
    try:
        return fn(*args)
    except Exception as error:  # noqa: BLE001 - raised again as it is, only lighter
        raise error.with_traceback(None) from None


def _start_child(memory_limit_bytes: int | None, initializer: Callable[..., None] | None, initargs: Sequence) -> None:
    """In each new child: cap its memory, then prepare what its jobs need."""
    if memory_limit_bytes is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_limit_bytes, memory_limit_bytes))
    if initializer is not None:
        initializer(*initargs)


class Children:
    """``workers`` child processes running jobs of at most ``time_limit_s`` seconds each, every child
    within ``memory_limit_bytes`` of data (None: no cap). ``initializer(*initargs)`` runs in each
    child as it starts. :meth:`run` blocks: call it from a worker thread."""

    def __init__(
        self,
        name: str,
        workers: int,
        *,
        time_limit_s: float,
        memory_limit_bytes: int | None,
        initializer: Callable[..., None] | None = None,
        initargs: Sequence[Any] = (),
    ) -> None:
        self.name = name
        self.time_limit_s = time_limit_s
        self.memory_limit_bytes = memory_limit_bytes
        self._new_pool = functools.partial(
            ProcessPool,
            max_workers=workers,
            initializer=_start_child,
            initargs=(memory_limit_bytes, initializer, tuple(initargs)),
            context=multiprocessing.get_context("forkserver"),
        )
        self._pool = self._new_pool()
        self._lock = threading.Lock()
        self._closed = False

    def _live_pool(self) -> ProcessPool:
        """The pool, replaced by a new one first when it broke: pebble leaves a broken pool (a child's
        answer it could not read, children that could not start) refusing every later job."""
        with self._lock:
            if self._closed or self._pool.active:
                return self._pool
            broken, self._pool = self._pool, self._new_pool()
        log.error("pool of children broken: a new one replaces it", extra={"pool": self.name})
        broken.stop()
        broken.join()
        return self._pool

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a child (``fn`` and its arguments are pickled: a module-level function).
        Raises what ``fn`` raised, JobTimeoutError when it ran past the time limit (its child is
        killed), JobMemoryError when its child ran out of memory or died, JobFailedError when the
        pool broke (the next job gets a new one)."""
        future = self._live_pool().schedule(_answer, args=(fn, *args), timeout=self.time_limit_s)
        try:
            return future.result()
        except FutureTimeoutError:
            log.warning("job killed at its time limit", extra={"pool": self.name, "limit_s": self.time_limit_s})
            raise JobTimeoutError(self.time_limit_s) from None
        except (MemoryError, ProcessExpired) as error:
            log.warning("job ran out of memory", extra={"pool": self.name, "error": repr(error)})
            raise JobMemoryError(self.memory_limit_bytes) from None
        except BrokenProcessPool as error:  # children that cannot start, an answer that cannot be read
            log.error("pool of children broke", extra={"pool": self.name, "error": repr(error.__cause__ or error)})
            raise JobFailedError("broken pool") from None

    def close(self) -> None:
        """Let running jobs end (within their time limit), then stop the children."""
        with self._lock:
            self._closed = True
        self._pool.close()
        self._pool.join()


# A link's fetch ends itself at its deadline (bot.links.fetch's watchdog); its child is killed this
# much later, when work that no socket wakes (parsing a page) holds it past the deadline.
FETCH_KILL_GRACE_S = 2.0


class Work(Protocol):
    """The blocking work of a job, however it is bounded: classify audio, fetch a link."""

    def classify(self, data: bytes, name: str | None) -> Prediction: ...

    def fetch(self, url: str) -> FetchedAudio: ...

    def close(self) -> None: ...


class InThread:
    """The work done in the calling thread, unbounded: for an engine that lives only in this process
    (the tests' fakes) and for what the operator runs (``index``)."""

    def __init__(self, engine: Classifier, link_policy: LinkPolicy) -> None:
        self.engine = engine
        self.link_policy = link_policy

    def classify(self, data: bytes, name: str | None) -> Prediction:
        return self.engine.classify(data, name=name)

    def fetch(self, url: str) -> FetchedAudio:
        return fetch_audio(url, self.link_policy)

    def close(self) -> None:
        pass


def load_engine(checkpoint: Path | None, threads: int | None = None) -> Classifier:
    """The genre engine of ``checkpoint`` (None: the shipped model), ``threads`` model threads a job."""
    return GenreEngine.from_checkpoint(checkpoint, onnx_options=None if threads is None else {"threads": threads})


_engine: Classifier | None = None  # in a classifying child: the engine its initializer loaded


def _load(make_engine: Callable[[], Classifier]) -> None:
    global _engine
    _engine = make_engine()


def _classify(data: bytes, name: str | None) -> Prediction:
    return _engine.classify(data, name=name)


class InChildren:
    """Classifications in ``workers`` children, each with the engine ``make_engine()`` builds (a
    picklable factory, e.g. ``functools.partial(load_engine, checkpoint)``), within ``time_limit_s``
    and ``memory_limit_bytes``; link fetches in ``fetchers`` children within the same memory and the
    link policy's deadline."""

    def __init__(
        self,
        make_engine: Callable[[], Classifier],
        link_policy: LinkPolicy,
        *,
        workers: int,
        fetchers: int,
        time_limit_s: float,
        memory_limit_bytes: int | None,
    ) -> None:
        self.link_policy = link_policy
        self.classifying = Children(
            "classify",
            workers,
            time_limit_s=time_limit_s,
            memory_limit_bytes=memory_limit_bytes,
            initializer=_load,
            initargs=(make_engine,),
        )
        self.fetching = Children(
            "download",
            fetchers,
            time_limit_s=link_policy.timeout_s + FETCH_KILL_GRACE_S,
            memory_limit_bytes=memory_limit_bytes,
            initializer=warm_up,
        )

    def classify(self, data: bytes, name: str | None) -> Prediction:
        return self.classifying.run(_classify, data, name)

    def fetch(self, url: str) -> FetchedAudio:
        """The link fetched in a child, in a temporary folder of this process's making, so that what a
        killed child leaves there goes with it."""
        with tempfile.TemporaryDirectory(prefix="genrebot-fetch-", dir=self.link_policy.temp_root) as folder:
            policy = dataclasses.replace(self.link_policy, temp_root=Path(folder))
            try:
                return self.fetching.run(fetch_audio, url, policy)
            except JobTimeoutError:  # past the link's own deadline: the member reads about that one
                raise DownloadTimeoutError(self.link_policy.timeout_s) from None

    def close(self) -> None:
        self.classifying.close()
        self.fetching.close()
