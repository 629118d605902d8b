"""``python -m benchmarks.queue``: many users /classify at the same moment; how many are served, how
long they wait, and whether any acknowledged listen is lost.

N users (default 50) each send a different real song (``../shared/pool`` and the GTZAN clips in
``../shared/gtzan/clips``) at once, through :class:`bot.services.Services` with the real engine and
a fresh SQLite file, with Discord's deadline (15 minutes less a minute's margin). Each
configuration is one row: served (answered with a song), refused (and why), the wait in line
(request to start of its analysis) and the time to the answer at p50/p95, and the listen events
found in the database afterwards against the answers given (``lost`` must be 0).

The row ``line 8`` reproduces the old bound (2 workers + 8 waiting, then "busy"); ``defaults`` is
the line as configured now. The record goes to ``benchmarks/results/queue.json`` (``benchmarks.record``),
which :func:`render` turns into the measurement page.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option
from benchmarks.shared import SHARED
from benchmarks.timing import quantile
from bot.config import Config
from bot.errors import GenreBotError
from bot.jobs.threads import Place
from bot.services import AudioInput, Caller, Services
from genre_engine import GenreEngine
from genre_engine.audio import find_audio_files

DEADLINE_S = 15 * 60 - 60  # cogs.classify: INTERACTION_LIFETIME_S - ANSWER_MARGIN_S
GUILD_ID = 1


@dataclasses.dataclass
class Outcome:
    served: bool
    why: str = ""
    wait_s: float = 0.0
    total_s: float = 0.0


def songs(count: int) -> list[AudioInput]:
    """``count`` different real songs, pool songs first, read into memory (as uploads are)."""
    paths = find_audio_files([SHARED / "pool", SHARED / "gtzan" / "clips"])
    if len(paths) < count:
        raise SystemExit(f"queue_bench: only {len(paths)} audio files under {SHARED}, {count} wanted")
    return [AudioInput(path.read_bytes(), path.stem) for path in paths[:count]]


async def one_request(services: Services, user_id: int, audio: AudioInput) -> Outcome:
    asked = time.perf_counter()
    started: list[float] = []

    def on_place(place: Place) -> None:
        if place.place == 0:
            started.append(time.perf_counter())

    try:
        await services.classify(Caller(GUILD_ID, user_id), audio, on_place=on_place, max_wait_s=DEADLINE_S)
    except GenreBotError as refusal:
        return Outcome(False, type(refusal).__name__)
    done = time.perf_counter()
    return Outcome(True, wait_s=(started[0] if started else asked) - asked, total_s=done - asked)


async def run_row(engine: GenreEngine, audio: list[AudioInput], config: Config) -> dict:
    services = await Services.open(config, engine)
    try:
        outcomes = await asyncio.gather(*(one_request(services, 10_000 + i, song) for i, song in enumerate(audio)))
    finally:
        await services.close()
    with sqlite3.connect(config.db_path) as db:
        (events,) = db.execute("SELECT count(*) FROM events WHERE kind = 'shared'").fetchone()
    served = [o for o in outcomes if o.served]
    waits = sorted(o.wait_s for o in served)
    totals = sorted(o.total_s for o in served)
    return {
        "requests": len(audio),
        "served": len(served),
        "refused": len(outcomes) - len(served),
        "refusals": dict(Counter(o.why for o in outcomes if not o.served)),
        "p50_wait_s": quantile(waits, 0.5),
        "p95_wait_s": quantile(waits, 0.95),
        "p50_answer_s": quantile(totals, 0.5),
        "p95_answer_s": quantile(totals, 0.95),
        "events": events,
        "lost": len(served) - events,
    }


def render(results: dict) -> str:
    """The measurement page's body: one row per configuration of the line."""
    rows = table(
        ["line", "served", "refused", "p50 wait, s", "p95 wait, s", "p50 answer, s", "p95 answer, s"]
        + ["listens recorded", "lost"],
        (
            [f"`{name}`", row["served"], row["refused"]]
            + [f"{row[key]:.1f}" for key in ("p50_wait_s", "p95_wait_s", "p50_answer_s", "p95_answer_s")]
            + [row["events"], row["lost"]]
            for name, row in results["rows"].items()
        ),
    )
    refusals = [
        f"`{name}` refused " + ", ".join(f"{count} ({why})" for why, count in row["refusals"].items())
        for name, row in results["rows"].items()
        if row["refusals"]
    ]
    return "\n\n".join(
        [
            f"{results['requests']} users send /classify at the same moment, each a different real song, through "
            f"the core services with the real engine, {results['workers']} classification threads and Discord's "
            f"deadline ({results['deadline_s']} s). The wait is from the request to the start of its analysis; "
            "the answer time is from the request to the answer; listens are counted in the database afterwards "
            "against the answers given (`lost` must be 0). `line 8` is the old bound (the workers and 8 waiting, "
            'then "busy"); `defaults` is the line as configured now.',
            rows,
            *(["Refusals: " + "; ".join(refusals) + "."] if refusals else []),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("queue", "Many users classifying at once", "benchmarks.queue", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.queue", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="users asking at once (default 50)")
    parser.add_argument("--workers", type=int, default=Config().workers, help="classification threads")
    parser.add_argument("--json", action="store_true", help="one JSON object per row instead of the table")
    add_record_option(parser)
    args = parser.parse_args(argv)

    engine = GenreEngine.from_checkpoint()
    audio = songs(args.requests)
    rows = {"line 8": {"queue_size": 8}, "defaults": {}}
    measured = {}
    print(f"{args.requests} users, one song each, {args.workers} workers, deadline {DEADLINE_S} s")
    if not args.json:
        print(
            f"{'config':<9} {'served':>6} {'refused':>7} {'p50 wait':>9} {'p95 wait':>9} "
            f"{'p50 answer':>10} {'p95 answer':>10} {'events':>6} {'lost':>4}"
        )
    for name, overrides in rows.items():
        with tempfile.TemporaryDirectory() as folder:
            config = Config(home=Path(folder), workers=args.workers, cooldown_s=0, **overrides)
            row = measured[name] = asyncio.run(run_row(engine, audio, config))
        if args.json:
            print(json.dumps({"config": name, **row}))
            continue
        print(
            f"{name:<9} {row['served']:>6} {row['refused']:>7} {row['p50_wait_s']:>8.1f}s {row['p95_wait_s']:>8.1f}s "
            f"{row['p50_answer_s']:>9.1f}s {row['p95_answer_s']:>9.1f}s {row['events']:>6} {row['lost']:>4}"
            + (f"  refused: {row['refusals']}" if row["refusals"] else "")
        )
    results = {"requests": args.requests, "workers": args.workers, "deadline_s": DEADLINE_S, "rows": measured}
    recorder.write(results, args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
