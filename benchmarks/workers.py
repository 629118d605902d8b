"""``python -m benchmarks.workers``: classification through the PostgreSQL job queue with
``python -m bot worker`` processes, on real files.

Needs a PostgreSQL server: ``--database-url`` or ``GENREBOT_TEST_DATABASE_URL`` (``scripts/postgres
python -m benchmarks.workers`` starts a throw-away one); each part runs in a fresh database created
on it and dropped at the end. Three parts, one row each:

- ``throughput``: the same N songs (``../shared/pool`` and the GTZAN clips), all queued at once,
  longest first (so the end, where one worker may have nothing left to take, is a short clip, as
  in a busy bot's steady state rather than the last song of a batch), with 1 and then 2 worker
  processes (started, and their model loaded, before the clock starts); songs per second and the
  speed-up. Beside it, the ceiling of this machine: the same songs classified by 1 and 2 plain
  processes (a ``ProcessPoolExecutor``, same engine settings, no database, no queue).
- ``queue latency``: one song at a time with one idle worker; what the queue adds to the worker's
  own classification time (the front end's wait minus the engine's ``timings_ms['total']``), p50.
- ``kill -9``: N songs from N users through the services (so listens are recorded) with 2 workers;
  one worker is killed with SIGKILL while it holds a job; the other retries its jobs once the dead
  worker's heartbeat is ``STALLED_AFTER_S`` old. Answers given, listens found, jobs retried.

The record goes to ``benchmarks/results/workers.json`` (``benchmarks.record``; ``--record PATH``
elsewhere), which :func:`render` turns into the measurement page.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import soundfile as sf

from benchmarks.markdown import table
from benchmarks.record import DATABASE_VARIABLE, Recorder, add_record_option, load_average
from benchmarks.shared import SHARED
from bot.config import Config
from bot.jobs.queue import STALLED_AFTER_S, WORKER_MODEL_THREADS, QueueJobs
from bot.services import AudioInput, Caller, Services
from genre_engine import GenreEngine
from genre_engine.audio import find_audio_files

ROOT = Path(__file__).resolve().parent.parent
GUILD_ID = 1


def songs(count: int) -> list[bytes]:
    """The first ``count`` real files, longest first."""
    paths = find_audio_files([SHARED / "pool", SHARED / "gtzan" / "clips"])[:count]
    if len(paths) < count:
        raise SystemExit(f"worker_bench: only {len(paths)} audio files under {SHARED}")
    return [path.read_bytes() for path in sorted(paths, key=lambda path: -sf.info(path).duration)]


class Database:
    """A fresh database on the server of ``url``, dropped on exit."""

    def __init__(self, url: str) -> None:
        self.admin = url
        self.name = f"genrebot_bench_{uuid.uuid4().hex[:12]}"
        self.url = urlsplit(url)._replace(path=f"/{self.name}").geturl()

    def __enter__(self) -> str:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc) -> None:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{self.name}" WITH (FORCE)')


class Workers:
    """``count`` ``python -m bot worker`` processes on ``url``; their logs in a temporary folder."""

    def __init__(self, url: str, count: int) -> None:
        self.url = url
        self.logs = Path(tempfile.mkdtemp(prefix="genrebot-workers-"))
        env = {**os.environ, "GENREBOT_DATABASE_URL": url, "GENREBOT_LOG_LEVEL": "INFO"}
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "worker"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(self.logs / f"{n}.log").open("w"),
            )
            for n in range(count)
        ]

    async def ready(self) -> None:
        """Until every worker has registered (its model is loaded by then)."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url) as connection:
                    (alive,) = await (await connection.execute("SELECT count(*) FROM procrastinate_workers")).fetchone()
                if alive >= len(self.processes):
                    return
            except psycopg.errors.UndefinedTable:
                pass
            await asyncio.sleep(0.2)

    def log(self, count: int) -> str:
        return "".join((self.logs / f"{n}.log").read_text() for n in range(count))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            process.wait(30)


async def throughput(url: str, data: list[bytes], workers: int) -> float:
    with Database(url) as database:
        jobs = await QueueJobs.open(database, model_id=shipped_model_id(), max_waiting=10_000, per_owner=10_000)
        pool = Workers(database, workers)
        try:
            await pool.ready()
            started = time.perf_counter()
            await asyncio.gather(*(jobs.classify(song, name=str(n)) for n, song in enumerate(data)))
            return len(data) / (time.perf_counter() - started)
        finally:
            pool.stop()
            await jobs.close()


_ENGINE: GenreEngine | None = None


@functools.cache
def shipped_model_id() -> str:
    """The model the ``python -m bot worker`` processes run (the shipped one): their queue's name."""
    return GenreEngine.from_checkpoint().model_id


def _load_engine() -> None:
    global _ENGINE
    _ENGINE = GenreEngine.from_checkpoint(onnx_options={"threads": WORKER_MODEL_THREADS})


def _classify(song: bytes) -> None:
    _ENGINE.classify(song)


def _warm_up(song: bytes) -> None:
    _ENGINE.classify(song)
    time.sleep(0.5)  # so that every process takes one


def ceiling(data: list[bytes], processes: int) -> float:
    """Songs per second through ``processes`` plain processes, each as a worker's engine, no queue."""
    with ProcessPoolExecutor(processes, initializer=_load_engine) as pool:
        list(pool.map(_warm_up, [data[-1]] * processes))
        started = time.perf_counter()
        list(pool.map(_classify, data))
        return len(data) / (time.perf_counter() - started)


async def queue_latency(url: str, data: list[bytes]) -> tuple[float, float]:
    """(p50 added by the queue, p50 of the engine's own time), ms."""
    with Database(url) as database:
        jobs = await QueueJobs.open(database, model_id=shipped_model_id(), max_waiting=10_000, per_owner=10_000)
        pool = Workers(database, 1)
        added, engine = [], []
        try:
            await pool.ready()
            for n, song in enumerate(data):
                started = time.perf_counter()
                prediction = await jobs.classify(song, name=str(n))
                wall_ms = (time.perf_counter() - started) * 1000
                added.append(wall_ms - prediction.timings_ms["total"])
                engine.append(prediction.timings_ms["total"])
            return statistics.median(added), statistics.median(engine)
        finally:
            pool.stop()
            await jobs.close()


async def kill_one(url: str, data: list[bytes], engine: GenreEngine) -> dict[str, int]:
    with Database(url) as database, tempfile.TemporaryDirectory() as media:
        config = Config(database_url=database, home=Path(media), queue_size=10_000, per_user_jobs=len(data))
        services = await Services.open(config, engine)
        pool = Workers(database, 2)
        try:
            await pool.ready()
            tasks = [
                asyncio.create_task(services.classify(Caller(GUILD_ID, 100 + n), AudioInput(song, str(n))))
                for n, song in enumerate(data)
            ]
            while (await services.jobs.line())[0] < 2:  # both workers busy
                await asyncio.sleep(0.05)
            victim = pool.processes[0]
            os.kill(victim.pid, signal.SIGKILL)
            killed_at = time.perf_counter()
            answers = await asyncio.gather(*tasks, return_exceptions=True)
            recovered_s = time.perf_counter() - killed_at
            acknowledged = sum(not isinstance(answer, BaseException) for answer in answers)
            async with await psycopg.AsyncConnection.connect(database) as connection:
                (found,) = await (
                    await connection.execute("SELECT count(*) FROM events WHERE kind = 'shared'")
                ).fetchone()
            return {
                "songs": len(data),
                "acknowledged": acknowledged,
                "listens_found": found,
                "retried": pool.log(2).count("retrying the job of a dead worker"),
                "all_done_s_after_kill": round(recovered_s, 1),
            }
        finally:
            pool.stop()
            await services.close()


async def measure(args: argparse.Namespace) -> dict:
    """Every part's figures, printed as they come."""
    data = songs(args.songs)
    print(f"{len(data)} real songs, this machine: {os.cpu_count()} cores, load {load_average()[0]:.2f}")
    throughputs = []
    for workers in (1, 2):
        rate, plain = await throughput(args.database_url, data, workers), ceiling(data, workers)
        throughputs.append({"workers": workers, "songs_per_s": rate, "plain_processes_songs_per_s": plain})
        print(f"throughput, {workers} worker process(es): {rate:.2f} songs/s (plain processes, no queue: {plain:.2f})")
    one, two = throughputs
    speedup = two["songs_per_s"] / one["songs_per_s"]
    plain_speedup = two["plain_processes_songs_per_s"] / one["plain_processes_songs_per_s"]
    print(f"speed-up with 2: {speedup:.2f}x (plain processes: {plain_speedup:.2f}x)")
    added, own = await queue_latency(args.database_url, data[: args.latency_songs])
    print(f"queue latency: p50 {added:.0f} ms added to the worker's own p50 {own:.0f} ms")
    killed = await kill_one(args.database_url, data[: args.kill_songs], GenreEngine.from_checkpoint())
    print(f"kill -9 of one of 2 workers mid-job (retry after {STALLED_AFTER_S:.0f} s without heartbeat): {killed}")
    return {
        "songs": len(data),
        "cores": os.cpu_count(),
        "throughput": throughputs,
        "speedup": speedup,
        "plain_speedup": plain_speedup,
        "latency_songs": args.latency_songs,
        "queue_added_p50_ms": added,
        "worker_own_p50_ms": own,
        "stalled_after_s": STALLED_AFTER_S,
        "kill": killed,
    }


def render(results: dict) -> str:
    """The measurement page's body: throughput, the queue's latency and the kill -9, as measured."""
    rows = table(
        ["worker processes", "songs/s through the queue", "songs/s, plain processes (no queue, no database)"],
        (
            [row["workers"], f"{row['songs_per_s']:.2f}", f"{row['plain_processes_songs_per_s']:.2f}"]
            for row in results["throughput"]
        ),
    )
    kill = results["kill"]
    return "\n\n".join(
        [
            f"Classification through the PostgreSQL job queue with `python -m bot worker` processes on "
            f"{results['cores']} cores: the same {results['songs']} real songs (pool songs and GTZAN clips) queued "
            "at once, longest first, with 1 and then 2 workers (started, model loaded, before the clock starts); "
            "beside them the ceiling of this machine, the same songs through 1 and 2 plain processes with the same "
            "engine settings.",
            rows,
            f"Speed-up with 2 workers: {results['speedup']:.2f}x (plain processes: {results['plain_speedup']:.2f}x).",
            f"Queue latency, one song at a time with one idle worker over {results['latency_songs']} songs: the queue "
            f"adds {results['queue_added_p50_ms']:.0f} ms (p50) to the worker's own {results['worker_own_p50_ms']:.0f} "
            "ms (the front end's wait minus the engine's own time).",
            f"kill -9: {kill['songs']} songs from {kill['songs']} users through the services with 2 workers; one "
            "worker is killed with SIGKILL while it holds a job, and the other retries its jobs once the dead "
            f"worker's heartbeat is {results['stalled_after_s']:.0f} s old. Answers given: {kill['acknowledged']}, "
            f"listens found: {kill['listens_found']}, jobs retried: {kill['retried']}, all done "
            f"{kill['all_done_s_after_kill']} s after the kill.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    recorder = Recorder("workers", "Classification workers on the PostgreSQL queue", "benchmarks.workers", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(DATABASE_VARIABLE),
        help=f"a PostgreSQL server to create the bench databases on (default {DATABASE_VARIABLE})",
    )
    parser.add_argument("--songs", type=int, default=24, help="songs for the throughput (default 24)")
    parser.add_argument("--latency-songs", type=int, default=8, help="songs for the queue latency (default 8)")
    parser.add_argument("--kill-songs", type=int, default=12, help="songs for the kill -9 (default 12)")
    add_record_option(parser)
    args = parser.parse_args(argv)
    if not args.database_url:
        raise SystemExit("worker_bench: give --database-url or run it under scripts/postgres")
    recorder.write(asyncio.run(measure(args)), args.record)


if __name__ == "__main__":
    main()
