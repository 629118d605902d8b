"""``python -m benchmarks.simulation``: many servers at once through the services, scaled down, and the
capacity model built on what it measures.

**The servers.** ``--servers`` servers (default 300) whose pool sizes follow a heavy tail (Pareto,
shape ``--tail``, from ``--min-songs`` up to ``--max-songs``): a few big servers, many small ones.
Songs are synthetic, of the shipped model's shape (``benchmarks.synthetic``); each server has
``LISTENERS`` members with ``EVENTS`` listen events each.

**The load.** Requests arrive at random (Poisson) at ``--rate`` per second for ``--seconds``, from
servers drawn in proportion to the square root of their pool size (bigger servers are busier),
through ``bot.services.Services`` on a store with ``--budget-mb`` of pool cache, in a fresh process:
``classify`` (a member shares a new song: ``Services.classify``, with the model's answer replayed so
that the load is the bot's own work; the model is measured apart), ``playlist``, ``similar`` (more
like this) and ``radio`` (the radio's next songs, ``Services.radio_plan``), mixed by ``--mix``.
Latency runs from a request's arrival, so queueing counts. Then each kind alone, one request at a
time, for its CPU cost. On SQLite, and on PostgreSQL with ``--database-url``.

**Apart**, in another fresh process, with the shipped model and real songs (``../shared/pool``): the
model's memory, its CPU time per classified song, and the radio's CPU time per second of streamed
audio. The capacity model (``capacity``) multiplies these by the number of servers.

    python -m benchmarks.simulation [--servers 300] [--rate 20] [--seconds 60] [--budget-mb 64]
                                    [--database-url URL] [--record PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.capacity import ASSUMPTIONS, capacity
from benchmarks.databases import add_database_option, chosen_backends, database_bytes, fresh_database
from benchmarks.markdown import percent, table
from benchmarks.memory import MB, in_fresh_process, peak_resident_bytes, resident_bytes
from benchmarks.record import Recorder, add_record_option
from benchmarks.shared import POOL
from benchmarks.synthetic import EMBEDDING_DIM, make_listener, make_pool, new_songs
from benchmarks.timing import quantile
from bot.config import Config
from bot.services import AudioInput, Caller, Services
from genre_engine import GENRES, Prediction
from genre_engine.tags import load_vocabulary, report
from storage import Store, open_store

KINDS = ("classify", "playlist", "similar", "radio")
DEFAULT_MIX = "classify=0.1,playlist=0.4,similar=0.3,radio=0.2"
LISTENERS = 3  # members with a history in each server
EVENTS = 8  # listen events each
ALONE = 40  # requests of each kind timed one at a time for their CPU cost
FIRST_GUILD = 10_000


@dataclass(frozen=True)
class Server:
    guild_id: int
    songs: int
    first_song: int  # song ids first_song .. first_song + songs - 1 (bulk-added in one go)

    def member(self, index: int) -> int:
        return self.guild_id * 100 + index


@dataclass(frozen=True)
class Load:
    servers: tuple[Server, ...]
    mix: tuple[float, ...]  # share of each of KINDS
    rate: float
    seconds: float
    budget_mb: float
    seed: int


# -- the servers ---------------------------------------------------------------------------------------


def pool_sizes(count: int, tail: float, low: int, high: int, rng: np.random.Generator) -> list[int]:
    """Heavy-tailed sizes: Pareto with shape ``tail`` from ``low``, cut at ``high``."""
    return [int(size) for size in np.minimum(low * (1 + rng.pareto(tail, count)), high)]


async def build(location: str, sizes: list[int], rng: np.random.Generator) -> tuple[Server, ...]:
    """The servers' pools and their members' histories, through the store."""
    servers = []
    async with open_store(location) as store:
        for number, size in enumerate(sizes):
            guild_id = FIRST_GUILD + number
            pool = make_pool(size, EMBEDDING_DIM, rng)
            await store.add_songs(new_songs(guild_id, pool, rng))
            ids = (await store.pool_matrix(guild_id)).ids
            servers.append(Server(guild_id, size, int(ids[0])))
            await _histories(store, servers[-1], pool, ids, rng)
            print(f"\r  built {number + 1}/{len(sizes)} servers", end="", file=sys.stderr)
    print(file=sys.stderr)
    return tuple(servers)


async def _histories(store: Store, server: Server, pool, ids: np.ndarray, rng: np.random.Generator) -> None:
    for index in range(LISTENERS):
        listener = make_listener(pool, EVENTS, rng)
        for row, kind in zip(listener.rows, listener.kinds):
            await store.record_event(server.guild_id, server.member(index), int(ids[row]), kind)


# -- the load, in a fresh process ------------------------------------------------------------------------


class ReplayedModel:
    """What the services ask of the genre model for a shared song (``bot.classifier.Classifier``'s
    ``classify``), answered from the audio's hash with a synthetic song of the shipped model's shape,
    at no cost: the simulation measures the bot's work around the model, whose own cost is measured
    apart (:func:`measure_engine`)."""

    labels = GENRES
    embedding_dim = EMBEDDING_DIM

    def __init__(self) -> None:
        self.vocabulary = load_vocabulary()

    def classify(self, source: bytes, *, name: str | None = None) -> Prediction:
        digest = hashlib.sha256(source).hexdigest()
        rng = np.random.default_rng(int(digest[:16], 16))
        song = make_pool(1, EMBEDDING_DIM, rng)
        probabilities = song.probabilities[0]
        tags = rng.random(len(self.vocabulary.tags), dtype=np.float32)
        return Prediction(
            probabilities=dict(zip(self.labels, probabilities.tolist())),
            genre=self.labels[int(probabilities.argmax())],
            embedding=song.embeddings[0],
            duration_s=180.0,
            segments=1,
            timings_ms={"total": 0.0},
            content_hash=digest,
            name=name,
            **vars(report(self.vocabulary, probabilities, tags)),
        )


class Requests:
    """One request of each kind, from a member of a server, through the services."""

    def __init__(self, services: Services, rng: np.random.Generator) -> None:
        self.services = services
        self.rng = rng
        self.shared = 0

    def caller(self, server: Server) -> Caller:
        return Caller(server.guild_id, server.member(int(self.rng.integers(LISTENERS))))

    def of(self, kind: str, server: Server) -> Callable[[], Awaitable[object]]:
        caller = self.caller(server)
        if kind == "classify":
            self.shared += 1
            audio = AudioInput(f"shared song {self.shared} {self.rng.random()}".encode(), f"Upload {self.shared}")
            return lambda: self.services.classify(caller, audio)
        if kind == "playlist":
            return lambda: self.services.playlist(caller, 10)
        if kind == "similar":
            song_id = server.first_song + int(self.rng.integers(server.songs))
            return lambda: self.services.similar(server.guild_id, song_id)
        return lambda: self.services.radio_plan(caller)


async def _open_services(location: str, load: Load, home: Path) -> Services:
    config = Config(home=home, pool_cache_mb=load.budget_mb, cooldown_s=0.0, queue_size=10_000, per_user_jobs=1_000)
    engine = ReplayedModel()
    store = await open_store(location, genre_count=len(engine.labels), pool_cache_mb=load.budget_mb)
    return Services(config, engine, store)


async def _open_loop(requests: Requests, load: Load, activity: np.ndarray) -> dict[str, list[float]]:
    """Requests at random times at ``load.rate`` per second; each kind's latencies from arrival, ms."""
    rng, loop = requests.rng, asyncio.get_running_loop()
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}

    async def timed(kind: str, call: Callable[[], Awaitable[object]], due: float) -> None:
        await call()
        latencies[kind].append((loop.time() - due) * 1000)

    started, at, running = loop.time(), 0.0, []
    while (at := at + rng.exponential(1 / load.rate)) < load.seconds:
        await asyncio.sleep(max(0.0, started + at - loop.time()))
        kind = KINDS[rng.choice(len(KINDS), p=load.mix)]
        server = load.servers[rng.choice(len(load.servers), p=activity)]
        running.append(asyncio.create_task(timed(kind, requests.of(kind, server), started + at)))
    await asyncio.gather(*running)
    return latencies


async def _alone(requests: Requests, load: Load, activity: np.ndarray) -> dict[str, float]:
    """CPU milliseconds (every thread of the process) per request of each kind, one at a time."""
    cost = {}
    for kind in KINDS:
        servers = requests.rng.choice(len(load.servers), ALONE, p=activity)
        calls = [requests.of(kind, load.servers[index]) for index in servers]
        cpu = time.process_time()
        for call in calls:
            await call()
        cost[kind] = round((time.process_time() - cpu) * 1000 / ALONE, 2)
    return cost


def run_load(location: str, load: Load) -> dict[str, Any]:
    """In a fresh process: the open-loop run, then each kind alone; memory and the cache's figures."""

    async def run() -> dict[str, Any]:
        rng = np.random.default_rng(load.seed)
        weights = np.sqrt([server.songs for server in load.servers])
        activity = weights / weights.sum()
        with tempfile.TemporaryDirectory(prefix="genrebot-sim-") as home:
            services = await _open_services(location, load, Path(home))
            try:
                requests = Requests(services, rng)
                before = resident_bytes()
                cpu, wall = time.process_time(), time.perf_counter()
                latencies = await _open_loop(requests, load, activity)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                cache = services.pool_cache_stats().as_dict()
                after = resident_bytes()
                alone = await _alone(requests, load, activity)
                biggest = await services.store.pool_matrix(max(load.servers, key=lambda s: s.songs).guild_id)
            finally:
                await services.close()
        columns = (biggest.ids, biggest.probabilities, biggest.embeddings, biggest.added_by, biggest.tags)
        served = sum(len(values) for values in latencies.values())
        return {
            "requests": {kind: _latency(values) for kind, values in latencies.items()},
            "served_per_s": round(served / wall, 2),
            "cpu_per_s": round(cpu / wall, 3),  # cores busy on average
            "cpu_ms_alone": alone,
            "rss_start_mb": round(before / MB, 1),
            "rss_end_mb": round(after / MB, 1),
            "rss_peak_mb": round(peak_resident_bytes() / MB, 1),
            "cache": cache,
            "memory_bytes_per_song": round(
                (sum(column.nbytes for column in columns) + biggest.confident.nbytes) / len(biggest)
            ),
        }

    return asyncio.run(run())


def _latency(values: list[float]) -> dict[str, float]:
    return {"count": len(values), "p50_ms": round(quantile(values, 0.5), 1), "p99_ms": round(quantile(values, 0.99), 1)}


# -- the model and the radio, apart ------------------------------------------------------------------------


def measure_engine(songs: int, radio_seconds: float) -> dict[str, Any] | None:
    """In a fresh process: the shipped model's memory, CPU seconds per classified real song, and the
    radio's CPU seconds per second of audio (None without real songs in ``../shared/pool``)."""
    from bot.radio.stream import FRAME_S, PacketStream, Track
    from genre_engine import GenreEngine
    from genre_engine.audio import find_audio_files

    paths = find_audio_files([POOL]) if POOL.is_dir() else []
    if not paths:
        return None
    before = resident_bytes()
    engine = GenreEngine.from_checkpoint()
    engine.classify(paths[0])  # first-run allocations
    loaded = resident_bytes()
    cpu, audio_s = time.process_time(), 0.0
    for path in paths[1 : songs + 1]:
        audio_s += engine.classify(path).duration_s
    classify_cpu_s = (time.process_time() - cpu) / songs
    tracks = iter([Track(index, path.stem, path, 0.0) for index, path in enumerate(paths)])
    stream = PacketStream(lambda: next(tracks, None))
    cpu = time.process_time()
    sent = sum(1 for _ in islice(stream, int(radio_seconds / FRAME_S)))
    radio_cpu = (time.process_time() - cpu) / (sent * FRAME_S)
    return {
        "songs": songs,
        "mean_song_s": round(audio_s / songs, 1),
        "model_mb": round((loaded - before) / MB, 1),
        "classify_cpu_s": round(classify_cpu_s, 3),
        "radio_seconds": round(sent * FRAME_S, 1),
        "radio_cpu_s_per_audio_s": round(radio_cpu, 5),
    }


# -- the run and its page --------------------------------------------------------------------------------


async def simulate(backend: str, folder: Path, args: argparse.Namespace, sizes: list[int]) -> dict[str, Any]:
    async with fresh_database(backend, folder, args.database_url) as location:
        print(f"{backend}: building {len(sizes)} servers, {sum(sizes):,} songs", file=sys.stderr)
        servers = await build(location, sizes, np.random.default_rng(args.seed))
        load = Load(servers, args.mix, args.rate, args.seconds, args.budget_mb, args.seed)
        print(f"{backend}: {args.rate:g} requests/s for {args.seconds:g} s", file=sys.stderr)
        measured = in_fresh_process(run_load, location, load)
        size = await database_bytes(location)
    songs = sum(sizes) + measured["requests"]["classify"]["count"] + ALONE
    return {
        "backend": backend,
        **measured,
        "database_mb": round(size / MB, 1),
        "database_bytes_per_song": round(size / songs),
    }


def _mix(text: str) -> tuple[float, ...]:
    try:
        shares = dict((name.strip(), float(value)) for name, value in (part.split("=") for part in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not kind=share,...: {text!r}") from None
    if set(shares) - set(KINDS) or min(shares.values()) < 0 or sum(shares.values()) <= 0:
        raise argparse.ArgumentTypeError(f"kinds are {', '.join(KINDS)}, shares not negative")
    total = sum(shares.values())
    return tuple(shares.get(kind, 0.0) / total for kind in KINDS)


def render(results: dict[str, Any]) -> str:
    setup = results["setup"]
    kinds = table(
        ["backend", "request", "served", "p50 ms", "p99 ms", "CPU ms alone"],
        (
            [row["backend"], kind, f"{row['requests'][kind]['count']:,}"]
            + [f"{row['requests'][kind]['p50_ms']:,.1f}", f"{row['requests'][kind]['p99_ms']:,.1f}"]
            + [f"{row['cpu_ms_alone'][kind]:,.1f}"]
            for row in results["backends"]
            for kind in KINDS
        ),
    )
    process = table(
        ["backend", "served per s", "cores busy", "memory at start, MB", "at end", "peak", "cache hit rate"]
        + ["cache holds, MB", "database, MB", "database bytes per song", "memory bytes per song"],
        (
            [row["backend"], f"{row['served_per_s']:g}", f"{row['cpu_per_s']:g}", f"{row['rss_start_mb']:,.0f}"]
            + [f"{row['rss_end_mb']:,.0f}", f"{row['rss_peak_mb']:,.0f}", percent(row["cache"]["hit_rate"] or 0)]
            + [f"{row['cache']['bytes'] / MB:,.1f}", f"{row['database_mb']:,.0f}"]
            + [f"{row['database_bytes_per_song']:,}", f"{row['memory_bytes_per_song']:,}"]
            for row in results["backends"]
        ),
    )
    engine = results["engine"]
    apart = (
        "No real songs were found in `../shared/pool`: the model and the radio were not measured."
        if engine is None
        else table(
            ["model memory, MB", "CPU s per classified song", "mean song, s", "radio CPU s per audio s"],
            [
                [f"{engine['model_mb']:,.0f}", f"{engine['classify_cpu_s']:.2f}", f"{engine['mean_song_s']:.0f}"]
                + [f"{engine['radio_cpu_s_per_audio_s']:.4f}"]
            ],
        )
    )
    return (
        f"{setup['servers']:,} servers with {setup['songs']:,} songs in all: pool sizes from a heavy tail (Pareto, "
        f"shape {setup['tail']:g}, {setup['min_songs']:,} to {setup['max_songs']:,} songs; the largest has "
        f"{setup['largest']:,}, the median {setup['median']:,}), {LISTENERS} members with {EVENTS} listen events "
        "in each. "
        f"Requests arrive at random at {setup['rate']:g} per second for {setup['seconds']:g} s, from servers drawn "
        "in proportion to the square root of their size, through the services on a store with a pool cache of "
        f"{setup['budget_mb']:g} MiB, in a fresh process (mix: "
        + ", ".join(f"{kind} {percent(share, 0)}" for kind, share in zip(KINDS, setup["mix"]))
        + "). *classify* is the bot's work for a shared song (hash, store, pool, media copy, listen) with the "
        "model's answer replayed: the model's own cost is below. Latency runs from a request's arrival, so "
        "waiting counts; *CPU ms alone* is each kind run one at a time, all threads counted.\n\n"
        f"{kinds}\n\n{process}\n\n"
        "**How the figures scale.** Latencies grow with the size of the server asked (a playlist or a radio "
        "plan reads every song of its pool once: linear, see the playlist benchmark) and with the load once the "
        "cores are busy; not with the number of servers, as long as the servers' pools read in a few minutes "
        "fit in the cache. Memory is the process's start plus the cache's budget, whatever the number of "
        "servers. The hit rate falls when the pools the servers ask for within a few minutes outgrow the "
        "budget. The database grows linearly with the songs (bytes per song, with their index entries and "
        "the members' events).\n\n"
        "**The model and the radio**, measured apart with the shipped model on real songs (`../shared/pool`) "
        "in a fresh process: the memory the model adds, its CPU time per song (all its threads), and the "
        "radio's CPU time per second of streamed audio (decode, resample, loudness, Opus).\n\n"
        f"{apart}\n\n{capacity(results)}"
    )


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("simulation", "Simulation: many servers through the services", "benchmarks.simulation", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.simulation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=300, help="servers (default 300)")
    parser.add_argument("--tail", type=float, default=1.1, help="Pareto shape of the pool sizes (default 1.1)")
    parser.add_argument("--min-songs", type=int, default=20, help="smallest pool (default 20)")
    parser.add_argument("--max-songs", type=int, default=20_000, help="largest pool (default 20000)")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run (default 60)")
    parser.add_argument("--mix", type=_mix, default=_mix(DEFAULT_MIX), help=f"request mix ({DEFAULT_MIX})")
    parser.add_argument("--budget-mb", type=float, default=64.0, help="pool_cache_mb of the bot (default 64)")
    parser.add_argument("--model-songs", type=int, default=3, help="real songs the model classifies (default 3)")
    parser.add_argument("--radio-seconds", type=float, default=60.0, help="radio audio streamed (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    add_database_option(parser)
    add_record_option(parser)
    args = parser.parse_args(argv)
    chosen = chosen_backends(parser, args)
    sizes = pool_sizes(args.servers, args.tail, args.min_songs, args.max_songs, np.random.default_rng(args.seed))
    print("measuring the model and the radio", file=sys.stderr)
    engine = in_fresh_process(measure_engine, args.model_songs, args.radio_seconds)
    with tempfile.TemporaryDirectory(prefix="genrebot-bench-") as folder:
        rows = [asyncio.run(simulate(backend, Path(folder), args, sizes)) for backend in chosen]
    setup = {
        "servers": args.servers,
        "songs": sum(sizes),
        "mean_songs": round(float(np.mean(sizes)), 1),
        "median": int(np.median(sizes)),
        "largest": max(sizes),
        "tail": args.tail,
        "min_songs": args.min_songs,
        "max_songs": args.max_songs,
        "rate": args.rate,
        "seconds": args.seconds,
        "mix": list(args.mix),
        "budget_mb": args.budget_mb,
    }
    results = {"setup": setup, "backends": rows, "engine": engine, "assumptions": asdict(ASSUMPTIONS)}
    print(render(results))
    recorder.write(results, args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
