"""``python -m benchmarks.pool_cache``: the pool cache's two promises, each beside the behaviour it replaced.

1. **Bounded memory.** A process reads the pools of ``--servers`` servers of ``--songs`` songs each
   (default 200 of 2,000) once, with ``pool_cache_mb`` ``--budget-mb`` (64) and, in another fresh
   process on the same database, with no limit (what every process did before): how much its resident
   memory grew, and what the cache holds at the end.
2. **Appends that do not copy.** A warm pool of ``--append-songs`` songs (200,000) takes one new song
   and is read back (``Store.add_song``, then ``Store.pool_matrix``), ``--appends`` times: p50 and p95
   milliseconds, idle and with one core kept busy, against the path it replaced (the cached matrix
   copied with ``np.vstack`` for each song) in the same run.

Songs are synthetic (``benchmarks.synthetic``) of the shipped model's shape: a 256-float embedding,
ten genres, 50 tags. SQLite always; PostgreSQL too with ``--database-url`` (a database created for
the run and dropped after). Writes ``benchmarks/results/pool_cache.json`` (or ``--record PATH``).

    python -m benchmarks.pool_cache [--servers 200] [--songs 2000] [--budget-mb 64] [--append-songs 200000]
                                    [--appends 200] [--database-url URL] [--record PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.databases import add_database_option, chosen_backends, fresh_database
from benchmarks.markdown import table
from benchmarks.memory import MB, in_fresh_process, resident_bytes
from benchmarks.record import Recorder, add_record_option
from benchmarks.synthetic import EMBEDDING_DIM, make_pool, new_songs
from benchmarks.timing import one_core_busy, quantile
from storage import Song, store_for
from storage.base import PoolMatrix
from storage.pool_cache import GROWTH, CachedPool

WARM_UP_GUILD = 1  # read first, before the baseline: the first read's imports and allocations are not the cache's
APPEND_GUILD = 999_999


async def build(location: str, guild_ids: list[int], songs: int, rng: np.random.Generator) -> None:
    """``songs`` synthetic songs in each server, through ``Store.add_songs``."""
    async with store_for(location) as store:
        for number, guild_id in enumerate(guild_ids, 1):
            pool = make_pool(songs, EMBEDDING_DIM, rng)
            await store.add_songs(new_songs(guild_id, pool, rng))
            print(f"\r  built {number}/{len(guild_ids)} servers of {songs:,} songs", end="", file=sys.stderr)
    print(file=sys.stderr)


def read_pools(location: str, guild_ids: list[int], budget_mb: float | None) -> dict[str, Any]:
    """In a fresh process: the resident memory's growth while reading every server's pool once."""

    async def run() -> dict[str, Any]:
        async with store_for(location, pool_cache_mb=budget_mb) as store:
            await store.pool_matrix(WARM_UP_GUILD)
            before = resident_bytes()
            for guild_id in guild_ids:
                await store.pool_matrix(guild_id)
            grown = resident_bytes() - before
            stats = store.pool_cache_stats()
        return {"budget_mb": budget_mb, "rss_growth_mb": round(grown / MB, 1), **stats.as_dict()}

    return asyncio.run(run())


def copying_with_song(self: CachedPool, song: Song, version: int = 0) -> CachedPool | None:
    """The append the cache replaced: a new matrix of every column copied with the song at the end."""
    matrix = self.matrix
    if len(matrix) == 0 or (matrix.tags is None) != (song.tags is None):
        return None
    grown = PoolMatrix(
        guild_id=song.guild_id,
        ids=np.append(matrix.ids, song.id),
        probabilities=np.vstack([matrix.probabilities, song.probabilities]),
        embeddings=np.vstack([matrix.embeddings, song.embedding]),
        added_by=np.append(matrix.added_by, song.added_by or 0),
        tags=None if song.tags is None else np.vstack([matrix.tags, song.tags]),
        confident=np.append(matrix.confident, song.confident is not False),
    )
    return CachedPool(grown, version)


@contextmanager
def copying_appends() -> Iterator[None]:
    """While inside, every store grows its cached pools the old way (:func:`copying_with_song`)."""
    kept = CachedPool.with_song
    CachedPool.with_song = copying_with_song
    try:
        yield
    finally:
        CachedPool.with_song = kept


async def time_appends(location: str, count: int, rng: np.random.Generator) -> dict[str, float]:
    """Milliseconds of each add-one-song-and-read on the warm append pool (p50, p95), and of the
    cache's part alone: the same songs appended to the pool as it was and read, without the database."""
    pool = make_pool(count, EMBEDDING_DIM, rng)
    async with store_for(location, pool_cache_mb=None) as store:
        first = await store.pool_size(APPEND_GUILD)
        warm = await store.pool_matrix(APPEND_GUILD)
        timings, added = [], []
        for song in new_songs(APPEND_GUILD, pool, rng, first=first):  # numbered on: new audio
            started = time.perf_counter()
            added.append((await store.add_song(song)).song)
            await store.pool_matrix(APPEND_GUILD)
            timings.append((time.perf_counter() - started) * 1000)
        assert len(await store.pool_matrix(APPEND_GUILD)) == first + count
    entry, alone = CachedPool(warm), []
    for song in added:
        started = time.perf_counter()
        entry = entry.with_song(song)
        alone.append((time.perf_counter() - started) * 1000)
    return {**summary(timings), "cache_p50_ms": round(quantile(alone, 0.5), 3)}


def summary(timings: list[float]) -> dict[str, float]:
    return {"p50_ms": round(quantile(timings, 0.5), 2), "p95_ms": round(quantile(timings, 0.95), 2)}


async def measure_appends(location: str, appends: int, rng: np.random.Generator) -> dict[str, Any]:
    """Both append paths, idle and with one core busy, one after the other on the same pool."""
    measured: dict[str, Any] = {}
    for load, busy in (("idle", False), ("busy", True)):
        with one_core_busy() if busy else nullcontext():
            measured[f"in_place_{load}"] = await time_appends(location, appends, rng)
            with copying_appends():
                measured[f"copying_{load}"] = await time_appends(location, appends, rng)
    for load in ("idle", "busy"):
        measured[f"speed_up_{load}"] = round(
            measured[f"copying_{load}"]["p50_ms"] / measured[f"in_place_{load}"]["p50_ms"], 1
        )
    return measured


async def bench_backend(backend: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    guild_ids = list(range(2, args.servers + 2))
    async with fresh_database(backend, folder, args.database_url) as location:
        print(f"{backend}: building", file=sys.stderr)
        await build(location, [WARM_UP_GUILD, *guild_ids], args.songs, rng)
        await build(location, [APPEND_GUILD], args.append_songs, rng)
        print(f"{backend}: reading the pools in fresh processes", file=sys.stderr)
        memory = [in_fresh_process(read_pools, location, guild_ids, budget) for budget in (args.budget_mb, None)]
        print(f"{backend}: timing appends", file=sys.stderr)
        appends = await measure_appends(location, args.appends, rng)
    return {"backend": backend, "memory": memory, "appends": appends}


def render(results: dict[str, Any]) -> str:
    servers, songs = results["servers"], results["songs"]
    memory = table(
        ["backend", "pool_cache_mb", "process grew, MB", "cache holds, MB", "pools held", "evicted", "bytes per song"],
        (
            [
                row["backend"],
                "no limit" if run["budget_mb"] is None else f"{run['budget_mb']:g}",
                f"{run['rss_growth_mb']:,.1f}",
                f"{run['bytes'] / MB:,.1f}",
                f"{run['pools']:,}",
                f"{run['evictions']:,}",
                f"{run['bytes'] / (run['pools'] * songs):,.0f}",
            ]
            for row in results["backends"]
            for run in row["memory"]
        ),
    )
    appends = table(
        ["backend", "load", "in place p50 ms", "p95", "cache's part p50", "copying p50 ms", "p95", "cache's part p50"]
        + ["speed-up"],
        (
            [row["backend"], load]
            + [
                f"{row['appends'][f'{path}_{load}'][q]:.{3 if q == 'cache_p50_ms' else 2}f}"
                for path in ("in_place", "copying")
                for q in ("p50_ms", "p95_ms", "cache_p50_ms")
            ]
            + [f"{row['appends'][f'speed_up_{load}']:g}x"]
            for row in results["backends"]
            for load in ("idle", "busy")
        ),
    )
    return (
        f"## Memory\n\nA process reads the pools of {servers:,} servers of {songs:,} songs each once (songs of the "
        "shipped model's shape: a 256-float embedding, ten genres, 50 tags), with the cache's budget and, in "
        "another fresh process on the same database, without a limit, as every process did before the budget. "
        "*Process grew* is the growth of its resident memory over the reads (after a first read of another "
        "server); *cache holds* is what the cache counts (the pools' arrays); *bytes per song* is that over "
        "the songs held. Without a limit the growth is the sum of the pools and grows with every server read; "
        "with one it stays near the budget whatever the number of servers. On SQLite both runs also fill "
        "SQLite's own page cache (`PRAGMA cache_size` in `storage/sqlite.py`), a fixed amount per process: the "
        "difference between *process grew* and *cache holds* in the unbounded run. MB are 10^6 bytes; the "
        "budget is in MiB (2^20 bytes).\n\n"
        f"{memory}\n\n## Appends\n\nA warm pool of {results['append_songs']:,} songs takes one new song and is read "
        f"back (`Store.add_song`, then `Store.pool_matrix`), {results['appends']} times: *in place* is the cache's "
        f"append (a buffer grown {results['growth']:g}x when full: amortised O(1)), *copying* the path it "
        "replaced (every column copied with `np.vstack` for each song), measured one after the other in the "
        "same run, idle and with another process keeping one core busy. *Cache's part* is the same songs "
        "appended to the cached pool and read without the database: the in-place one does not grow with the "
        "pool, the copying one grows linearly with it. The rest of a p50 is the database's insert (a few round "
        "trips on PostgreSQL).\n\n"
        f"{appends}\n"
    )


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("pool_cache", "Pool cache: memory and appends", "benchmarks.pool_cache", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pool_cache", description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=200, help="servers whose pools are read (default 200)")
    parser.add_argument("--songs", type=int, default=2000, help="songs per server (default 2000)")
    parser.add_argument("--budget-mb", type=float, default=64.0, help="the bounded run's pool_cache_mb (default 64)")
    parser.add_argument("--append-songs", type=int, default=200_000, help="songs of the appended pool (200000)")
    parser.add_argument("--appends", type=int, default=200, help="songs added per timed run (default 200)")
    add_database_option(parser)
    add_record_option(parser)
    args = parser.parse_args(argv)
    chosen = chosen_backends(parser, args)
    with tempfile.TemporaryDirectory(prefix="genrebot-bench-") as folder:
        rows = [asyncio.run(bench_backend(backend, Path(folder), args)) for backend in chosen]
    results = {
        "servers": args.servers,
        "songs": args.songs,
        "append_songs": args.append_songs,
        "appends": args.appends,
        "growth": GROWTH,
        "backends": rows,
    }
    print(render(results))
    recorder.write(results, args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
