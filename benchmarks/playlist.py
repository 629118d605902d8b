"""/playlist latency on the SQLite store (and PostgreSQL beside it), for pools of growing size.

    python -m benchmarks.playlist [--sizes 1000,10000,100000] [--dims 1756,256] [--database-url URL] [--json]
                                  [--record PATH]

For each embedding size (default the shipped model's two: its full embedding and the compact one
the engine hands out, read from ``data/model.projection.npz``) and each pool size: a fresh database file
in a temporary folder (and with ``--database-url`` a fresh
database created on that PostgreSQL server, then dropped; the user needs CREATEDB), a synthetic pool
bulk-inserted through
``Store.add_songs``, 20 listeners with 30 events each
recorded through ``Store.record_event``, then 100 calls of ``playlist_for(..., limit=20)``, the same call
the bot makes: history read, taste profile, target mix, shortlist and calibrated selection, songs
read back with reasons. The first read of the pool after building, which loads the pool matrix into
the store's cache, is reported separately as ``load_s``; p50 and p95 are over the calls. Progress goes to
stderr; the table (or with ``--json`` one JSON object) to stdout; the record to
``benchmarks/results/playlist.json`` (``benchmarks.record``), which :func:`render` turns into the
measurement page. The default sizes stop at 100,000 songs so that a run takes minutes on two cores
(``--sizes 1000000`` measures a million, about 7 GiB of embeddings at 1,756 floats);
``scripts/postgres python -m benchmarks.playlist --database-url "$GENREBOT_TEST_DATABASE_URL"``
measures PostgreSQL beside SQLite on a throw-away server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.databases import fresh_postgres
from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option
from benchmarks.synthetic import SyntheticPool, make_listener, make_pool, new_songs
from benchmarks.timing import quantile
from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from genre_engine.projection import Projection, projection_path
from recommender.service import playlist_for
from storage import is_postgres_url, store_for
from storage.base import PoolMatrix, ProgressCallback, Store

DEFAULT_SIZES = (1_000, 10_000, 100_000)
GUILD_ID = 1
LISTENERS = 20
EVENTS_PER_LISTENER = 30
CONTRIBUTORS = 50
CALLS = 100
PLAYLIST_SIZE = 20


@dataclass(frozen=True)
class BenchRow:
    backend: str
    songs: int
    dim: int
    build_s: float
    load_s: float
    p50_ms: float
    p95_ms: float


def _progress(size: int, started: float) -> ProgressCallback:
    def report(done: int) -> None:
        elapsed = time.perf_counter() - started
        print(
            f"\r  bulk insert {done:>9,}/{size:,} songs ({elapsed:5.1f} s)",
            end="" if done < size else "\n",
            file=sys.stderr,
            flush=True,
        )

    return report


async def _seed_listeners(store: Store, matrix: PoolMatrix, pool: SyntheticPool, rng: np.random.Generator) -> list[int]:
    users = []
    for index in range(LISTENERS):
        user_id = 1 + index
        listener = make_listener(pool, EVENTS_PER_LISTENER, rng)
        for row, kind in zip(listener.rows, listener.kinds):
            await store.record_event(GUILD_ID, user_id, int(matrix.ids[row]), kind)
        users.append(user_id)
    return users


def shipped_dims() -> tuple[int, ...]:
    """The shipped model's embedding sizes: full, then compact (from its projection file)."""
    projection = Projection.load(projection_path(DEFAULT_CHECKPOINT))
    return projection.input_dim, projection.output_dim


async def bench_size(size: int, location: str, dim: int, seed: int = 0) -> BenchRow:
    """Build a pool of ``size`` songs with ``dim``-float embeddings in the empty database at
    ``location`` and time playlists."""
    rng = np.random.default_rng(seed)
    backend = "postgresql" if is_postgres_url(location) else "sqlite"
    print(f"{size:,} songs of {dim} floats on {backend}: generating", file=sys.stderr, flush=True)
    pool = make_pool(size, dim, rng)
    async with store_for(location) as store:
        started = time.perf_counter()
        await store.add_songs(
            new_songs(GUILD_ID, pool, rng, contributors=CONTRIBUTORS), progress=_progress(size, started)
        )
        build_s = time.perf_counter() - started
        # listeners need only the probabilities: free the embeddings before the store loads its copy
        pool = SyntheticPool(pool.probabilities, pool.embeddings[:0])
        started = time.perf_counter()
        matrix = await store.pool_matrix(GUILD_ID)  # the first read after writes loads the cache
        load_s = time.perf_counter() - started
        print(f"  pool matrix loaded in {load_s:.2f} s; recording listeners", file=sys.stderr)
        users = await _seed_listeners(store, matrix, pool, rng)
        print(f"  timing {CALLS} playlists", file=sys.stderr, flush=True)
        timings = []
        for call in range(CALLS):
            started = time.perf_counter()
            await playlist_for(store, GUILD_ID, users[call % len(users)], PLAYLIST_SIZE, seed=call)
            timings.append((time.perf_counter() - started) * 1000)
    return BenchRow(backend, size, dim, build_s, load_s, quantile(timings, 0.5), quantile(timings, 0.95))


async def run_bench(sizes: Sequence[int], dims: Sequence[int], database_url: str | None = None) -> list[BenchRow]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="genrebot-bench-") as folder:
        for size in sizes:
            for dim in dims:
                path = Path(folder) / f"bench-{size}-{dim}.db"
                rows.append(await bench_size(size, str(path), dim))
                path.unlink()
                if database_url is not None:
                    async with fresh_postgres(database_url) as location:
                        rows.append(await bench_size(size, location, dim))
    return rows


def format_table(rows: Sequence[BenchRow]) -> str:
    lines = ["backend         songs   dim  build_s  load_s  p50_ms  p95_ms"]
    for row in rows:
        lines.append(
            f"{row.backend:<10}  {row.songs:>9,}  {row.dim:>4}  {row.build_s:7.1f}  {row.load_s:6.2f}"
            f"  {row.p50_ms:6.1f}  {row.p95_ms:6.1f}"
        )
    return "\n".join(lines)


def render(results: dict) -> str:
    """The measurement page's body: one row per backend, pool size and embedding size."""
    rows = table(
        ["backend", "songs", "embedding floats", "bulk insert, s", "first pool read, s", "p50 ms", "p95 ms"],
        (
            [r["backend"], f"{r['songs']:,}", r["dim"], f"{r['build_s']:.1f}", f"{r['load_s']:.2f}"]
            + [f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}"]
            for r in results["rows"]
        ),
    )
    return (
        f"Latency of `/playlist` ({results['playlist_size']} songs; history read, taste profile, target mix, "
        "shortlist, calibrated selection, songs read back with reasons), the call the bot makes, on synthetic "
        f"pools (`benchmarks.synthetic`) of growing size in a fresh database: {results['listeners']} listeners "
        f"with {results['events_per_listener']} events each, then {results['calls']} calls; p50 and p95 are over "
        "the calls. The bulk insert goes through `Store.add_songs`; the first read of the pool after it, which "
        "loads the pool matrix into the store's cache, is timed apart. The embedding sizes are the shipped "
        "model's full embedding and the compact one the engine hands out.\n\n" + rows
    )


def _dims(text: str) -> list[int]:
    try:
        dims = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not dims or min(dims) < 1 or max(dims) > 4096:
        raise argparse.ArgumentTypeError("each embedding size must be 1 to 4096")
    return dims


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        message = f"not a comma-separated list of integers: {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not sizes or min(sizes) < PLAYLIST_SIZE:
        raise argparse.ArgumentTypeError(f"each size must be at least {PLAYLIST_SIZE}")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    recorder = Recorder("playlist", "Playlist latency by pool size", "benchmarks.playlist", argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.playlist",
        description="Measure /playlist latency on the SQLite store (and PostgreSQL) for growing pools.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated pool sizes (1000,10000,100000)",
    )
    parser.add_argument(
        "--database-url",
        help="also measure PostgreSQL: a server (postgresql://...) where the user may create databases",
    )
    parser.add_argument(
        "--dims",
        type=_dims,
        help="comma-separated embedding sizes (default: the shipped model's full and compact sizes, 1756,256)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_record_option(parser)
    args = parser.parse_args(argv)
    if args.database_url is not None and not is_postgres_url(args.database_url):
        parser.error("--database-url must start with postgresql:// or postgres://")
    rows = asyncio.run(run_bench(args.sizes, args.dims or shipped_dims(), args.database_url))
    if args.json:
        print(
            json.dumps(
                {
                    "rows": [
                        {"backend": r.backend, "songs": r.songs, "dim": r.dim, "p50_ms": r.p50_ms, "p95_ms": r.p95_ms}
                        for r in rows
                    ]
                }
            )
        )
    else:
        print(format_table(rows))
    results = {
        "rows": [asdict(row) for row in rows],
        "listeners": LISTENERS,
        "events_per_listener": EVENTS_PER_LISTENER,
        "calls": CALLS,
        "playlist_size": PLAYLIST_SIZE,
    }
    recorder.write(results, args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
