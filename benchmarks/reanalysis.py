"""``python -m benchmarks.reanalysis``: how long switching models takes, ``python -m bot reanalyse``
on the shared pool and on a synthetic pool, as a user runs it.

Each pool is stored as another model left it (its songs' analyses marked ``previous-model``, their
audio in the media store as references to the files, as ``/index`` keeps them), in a fresh
``GENREBOT_HOME``; then ``python -m bot reanalyse --json`` analyses every song again with the shipped
model, timed end to end (process start, model load, the classification children, the database). The
same command on an empty home is timed beside it: the start-up cost, so that songs per second can be
read without it. The shared pool (``../shared/pool``, 21 songs of 1 to 6 minutes) is also timed with
one core kept busy; the synthetic pool (default 1,000 songs of 8 s of tones and noise, written once
under the home) idle only. About five minutes on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option
from benchmarks.shared import POOL, REPO_ROOT
from benchmarks.timing import one_core_busy
from bot.config import DB_NAME, MEDIA_NAME
from bot.media_store import MediaStore
from genre_engine.engine import content_hash
from genre_engine.labels import GENRES
from storage import NewSong, ServingModel, SQLiteStore

PREVIOUS = ServingModel("previous-model", tuple(GENRES), 8)  # what the songs were analysed by before
GUILD = 1
SYNTHETIC_SONGS = 1_000
SYNTHETIC_SECONDS = 8.0


def synthetic_songs(folder: Path, count: int, seconds: float = SYNTHETIC_SECONDS) -> list[Path]:
    """``count`` distinct WAV files (22,050 Hz mono): a few tones over noise, each its own mix."""
    folder.mkdir(parents=True, exist_ok=True)
    rate, paths = 22_050, []
    t = np.arange(int(seconds * rate)) / rate
    for n in range(count):
        rng = np.random.default_rng(n)
        tones = sum(rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * rng.uniform(80, 2000) * t) for _ in range(3))
        path = folder / f"synthetic {n}.wav"
        sf.write(path, (tones + rng.normal(0, 0.02, t.shape)).astype(np.float32), rate, subtype="PCM_16")
        paths.append(path)
    return paths


async def store_as_previous(home: Path, paths: list[Path]) -> None:
    """The songs of ``paths`` in ``home``'s database, analysed by :data:`PREVIOUS`, audio referenced."""
    media = MediaStore(home / MEDIA_NAME)
    rng = np.random.default_rng(0)
    songs = []
    for path in paths:
        digest = await asyncio.to_thread(content_hash, path)
        media.put_reference(digest, path)
        mix = rng.dirichlet(np.ones(len(GENRES))).astype(np.float32)
        embedding = rng.normal(size=PREVIOUS.embedding_dim)
        songs.append(NewSong(guild_id=GUILD, title=path.stem, content_hash=digest, probabilities=mix,
                             embedding=embedding, model_id=PREVIOUS.id))  # fmt: skip
    async with SQLiteStore(home / DB_NAME, model=PREVIOUS) as store:
        await store.add_songs(songs)


def reanalyse(home: Path) -> tuple[float, dict]:
    """Seconds ``python -m bot reanalyse --json`` takes on ``home``, and what it printed."""
    env = {**os.environ, "GENREBOT_HOME": str(home), "GENREBOT_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "reanalyse", "--json"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return time.perf_counter() - started, json.loads(done.stdout)


def timed_pool(folder: Path, name: str, paths: list[Path], *, busy: bool = False) -> dict:
    """A fresh home holding ``paths`` as the previous model left them, re-analysed (with one core
    busy when ``busy``); with the start-up time on an empty home measured beside it."""
    empty, home = folder / f"{name} empty", folder / name
    asyncio.run(store_as_previous(empty, []))
    asyncio.run(store_as_previous(home, paths))
    with one_core_busy() if busy else contextlib.nullcontext():
        startup_s, _ = reanalyse(empty)
        total_s, report = reanalyse(home)
    work_s = max(total_s - startup_s, 1e-9)
    return {
        "pool": name,
        "busy": busy,
        "songs": report["songs"],
        "reanalysed": report["reanalysed"],
        "unavailable": report["unavailable"],
        "total_s": round(total_s, 2),
        "startup_s": round(startup_s, 2),
        "songs_per_s": round(report["reanalysed"] / work_s, 2),
    }


def run(synthetic: int) -> dict:
    shared = sorted(p for p in POOL.rglob("*.ogg"))
    with tempfile.TemporaryDirectory(prefix="genrebot-reanalysis-") as tmp:
        folder = Path(tmp)
        rows = [timed_pool(folder / "idle", "shared pool", shared)]
        rows.append(timed_pool(folder / "busy", "shared pool", shared, busy=True))
        if synthetic:
            rows.append(timed_pool(folder, "synthetic", synthetic_songs(folder / "synthetic", synthetic)))
    return {"rows": rows, "synthetic_seconds": SYNTHETIC_SECONDS, "model": "the shipped model"}


def render(results: dict) -> str:
    rows = [
        (
            r["pool"] + (", one core busy" if r["busy"] else ""),
            r["songs"],
            r["reanalysed"],
            f"{r['total_s']:.1f} s",
            f"{r['startup_s']:.1f} s",
            r["songs_per_s"],
        )
        for r in results["rows"]
    ]
    header = ("pool", "songs", "analysed again", "`reanalyse` took", "of which start-up", "songs per second after it")
    return (
        "Switching to another model: every song of a pool stored as the previous model left it is analysed "
        f"again by {results['model']} with `python -m bot reanalyse --json`, timed as a user runs it. The "
        f"start-up is the same command on an empty database. Synthetic songs last {results['synthetic_seconds']:g} s; "
        "the shared pool's 1 to 6 minutes (the engine reads at most ten 3-s windows of each).\n\n" + table(header, rows)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reanalysis", description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=SYNTHETIC_SONGS, help="songs of the synthetic pool (0: none)")
    add_record_option(parser)
    args = parser.parse_args(argv)
    recorder = Recorder("reanalysis", "Re-analysing a pool for a new model", "benchmarks.reanalysis", argv)
    results = run(args.synthetic)
    recorder.write(results, args.record)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
