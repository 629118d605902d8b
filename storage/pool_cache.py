"""The per-process cache of server pool matrices, shared by both stores.

**Bounded.** The cached arrays are held within a byte budget (``pool_cache_mb``): when a new or grown
pool pushes them past it, the least recently read pools leave first. A single pool larger than the
whole budget is still kept while it is the most recent one, alone: reading it again would cost far
more than the memory, and a request holds a copy while it runs anyway. The budget counts the arrays
of each entry (spare capacity included), not the Python objects around them.

**Appends that do not copy.** A cached pool that takes a new song keeps its columns in arrays with
room to grow (capacity a quarter above the songs, so one song costs amortised O(1)); the matrix handed out
is a read-only view of the first N rows. Writing row N leaves every earlier view unchanged, so a
request still holding one sees exactly the pool it read. Only an append onto the newest view writes in
place; any other (a stale view, a full buffer) copies into a new buffer first.

**One read per pool.** Requests that miss the same pool at once share one read of it
(:meth:`PoolCache.load_once`), so a burst on a big server costs one copy of its pool, not one each.

The cache is used from the event loop only (no locks). :meth:`PoolCache.lookup` counts hits and misses
and logs the figures (:class:`~storage.base.PoolCacheStats`) at most every ``LOG_EVERY_S`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from storage.base import PoolCacheStats, PoolMatrix, Song

log = logging.getLogger("genrebot.storage")

MiB = 1024 * 1024
#: the budget when none is set: about 400,000 songs of the shipped model (256-float embeddings, 50 tags)
DEFAULT_POOL_CACHE_MB = 512.0
GROWTH = 1.25  # capacity after a buffer fills, times the songs it holds: a quarter spare at most
MIN_SPARE = 64  # songs of room at least, so that small pools do not reallocate every few songs
LOG_EVERY_S = 300.0
COLUMNS = ("ids", "probabilities", "embeddings", "added_by", "tags", "confident")


def budget_bytes(pool_cache_mb: float | None) -> int | None:
    """The budget in bytes for ``pool_cache_mb`` MiB (None: no limit); ValueError unless positive."""
    if pool_cache_mb is None:
        return None
    if not pool_cache_mb > 0:
        raise ValueError(f"the pool cache budget must be a positive number of MiB, not {pool_cache_mb}")
    return int(pool_cache_mb * MiB)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class _Buffer:
    """A pool's columns with spare rows; rows ``[:filled]`` are songs, the rest not yet written."""

    def __init__(self, matrix: PoolMatrix, capacity: int) -> None:
        self.filled = len(matrix)
        self.arrays: dict[str, np.ndarray] = {}
        for name in COLUMNS:
            column = getattr(matrix, name)
            if column is not None:
                grown = np.empty((capacity, *column.shape[1:]), column.dtype)
                grown[: self.filled] = column
                self.arrays[name] = grown

    @property
    def capacity(self) -> int:
        return int(self.arrays["ids"].shape[0])

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in self.arrays.values())

    def append(self, song: Song) -> None:
        row = self.filled
        values = {
            "ids": song.id,
            "probabilities": song.probabilities,
            "embeddings": song.embedding,
            "added_by": song.added_by or 0,
            "tags": song.tags,
            "confident": song.confident is not False,
        }
        for name, array in self.arrays.items():
            array[row] = values[name]
        self.filled = row + 1

    def matrix(self, guild_id: int) -> PoolMatrix:
        """A read-only view of the songs written so far."""
        views = {name: _read_only(array[: self.filled]) for name, array in self.arrays.items()}
        return PoolMatrix(guild_id=guild_id, **views)


@dataclass(frozen=True, eq=False)
class CachedPool:
    """One cache entry: the matrix handed out, the version of the pool it was read at (PostgreSQL's
    ``pool_version``; 0 where the store does not use one) and, once it took a song, its buffer."""

    matrix: PoolMatrix
    version: int = 0
    buffer: _Buffer | None = None

    @property
    def nbytes(self) -> int:
        if self.buffer is not None:
            return self.buffer.nbytes
        return sum(getattr(self.matrix, name).nbytes for name in COLUMNS if getattr(self.matrix, name) is not None)

    def with_song(self, song: Song, version: int = 0) -> CachedPool | None:
        """This pool with one new song at the end, at ``version``; None when it must be read again
        instead: an empty pool (no embedding width yet), tags that appear or change width, an id
        that would not be the largest (another writer's song committed in between), or a pool that
        holds analyses of another model than the serving one (its ``current`` mask)."""
        matrix = self.matrix
        if len(matrix) == 0 or song.id <= int(matrix.ids[-1]) or matrix.current is not None:
            return None
        if (matrix.tags is None) != (song.tags is None) or (
            song.tags is not None and matrix.tags.shape[1] != song.tags.shape[0]
        ):
            return None
        buffer = self.buffer
        if buffer is None or buffer.filled != len(matrix) or buffer.filled == buffer.capacity:
            size = len(matrix) + 1
            buffer = _Buffer(matrix, max(int(size * GROWTH), size + MIN_SPARE))
        buffer.append(song)
        return CachedPool(buffer.matrix(song.guild_id), version, buffer)


class PoolCache:
    """Cached pools by server id, least recently used first, within ``budget`` bytes (None: no limit)."""

    def __init__(self, budget: int | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self._entries: OrderedDict[int, CachedPool] = OrderedDict()
        self._loading: dict[tuple[int, int], asyncio.Future[PoolMatrix]] = {}
        self._bytes = 0
        self._hits = self._misses = self._evictions = 0
        self._clock = clock
        self._logged_at = clock()

    def get(self, guild_id: int) -> CachedPool | None:
        """The server's entry, without counting a read or refreshing its place."""
        return self._entries.get(guild_id)

    def lookup(self, guild_id: int, version: int = 0) -> PoolMatrix | None:
        """A read: the cached matrix if there is one at ``version`` (a hit), else None (a miss)."""
        entry = self._entries.get(guild_id)
        if entry is not None and entry.version == version:
            self._hits += 1
            self._entries.move_to_end(guild_id)
            found = entry.matrix
        else:
            self._misses += 1
            found = None
        self._log_now_and_then()
        return found

    def put(self, guild_id: int, entry: CachedPool) -> None:
        """Hold ``entry`` as the most recent, then let the least recent go until within budget."""
        self.pop(guild_id)
        self._entries[guild_id] = entry
        self._bytes += entry.nbytes
        while self.budget is not None and self._bytes > self.budget and len(self._entries) > 1:
            _, oldest = self._entries.popitem(last=False)
            self._bytes -= oldest.nbytes
            self._evictions += 1
        if self.budget is not None and entry.nbytes > self.budget:
            log.warning(
                "a pool is larger than the whole pool cache: raise pool_cache_mb",
                extra={"guild": guild_id, "songs": len(entry.matrix), "mb": round(entry.nbytes / MiB, 1)},
            )

    async def load_once(self, guild_id: int, version: int, load: Callable[[], Awaitable[PoolMatrix]]) -> PoolMatrix:
        """``load()`` of the server's pool at ``version``, shared with every caller already waiting for
        the same: the first caller's read, which one waiter's cancellation does not stop."""
        key = (guild_id, version)
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(load())
            self._loading[key] = pending
            pending.add_done_callback(lambda _: self._loading.pop(key, None))
        return await asyncio.shield(pending)

    def pop(self, guild_id: int) -> None:
        entry = self._entries.pop(guild_id, None)
        if entry is not None:
            self._bytes -= entry.nbytes

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def stats(self) -> PoolCacheStats:
        return PoolCacheStats(
            budget_bytes=self.budget,
            bytes=self._bytes,
            pools=len(self._entries),
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
        )

    def _log_now_and_then(self) -> None:
        now = self._clock()
        if now - self._logged_at >= LOG_EVERY_S:
            self._logged_at = now
            log.info("pool cache", extra=self.stats().as_dict())
