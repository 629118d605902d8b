"""``python -m benchmarks.job_bounds``: what the time and memory limits of a job cost and how they hold
(issue 23; the bounds are bot.jobs.children's).

    python -m benchmarks.job_bounds [--seconds 180] [--repeats 5] [--checkpoint PATH] [--out PATH]

With the shipped model (one model thread a job, as ``python -m bot worker`` runs it), on a song of
``--seconds`` of synthetic music written as WAV:

- *isolation*: one classification in the calling thread against one in a child process (the audio
  pickled there and the prediction back), medians of ``--repeats``;
- *a classifying child*: its resident memory at its peak (VmHWM) and the data it holds (VmData, what
  the memory limit caps) after a classification;
- *overrun*: a job that would take 30 s, in a classifying child under a limit of ``--overrun-limit``
  s: how long until it is refused (the limit, then the kill), and until the next song is classified
  by the child started in its place (its model loaded again); what the job does does not matter to
  the kill, so it sleeps;
- *memory*: a job asking for 4 GiB in a classifying child under the memory limit: outcome and time;
- *a fetching child*: its resident memory once yt-dlp is warm (each of ``--download-workers`` holds one).
"""

from __future__ import annotations

import argparse
import functools
import io
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from benchmarks.record import Recorder
from bot.jobs import children
from bot.jobs.children import Children, InChildren, InThread, load_engine
from bot.links.fetch import LinkPolicy, warm_up

MiB = 2**20
RATE = 22_050


def song(seconds: float) -> bytes:
    """``seconds`` of chords over a beat, as WAV bytes (no data needed; the engine reads any audio)."""
    t = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
    beat = (np.sin(2 * np.pi * 2 * t) > 0.9) * np.random.default_rng(0).normal(0, 0.3, t.size)
    buffer = io.BytesIO()
    sf.write(buffer, (0.3 * chord + beat).astype(np.float32), RATE, format="WAV")
    return buffer.getvalue()


def status(fields: tuple[str, ...] = ("VmHWM", "VmData")) -> dict[str, float]:
    """This process's memory as /proc/self/status says it, MiB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            values[name] = round(int(value.split()[0]) / 1024, 1)
    return values


def _classify_and_measure(data: bytes) -> dict[str, float]:  # in a classifying child
    children._classify(data, "song")
    return status()


def _warm_and_measure() -> dict[str, float]:  # in a fetching child
    warm_up()
    return status(("VmHWM", "VmRSS", "VmData"))


def median_s(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def timed(call) -> tuple[str, float]:
    """(outcome, seconds) of ``call``: "classified", or the error's class and sentence."""
    started = time.perf_counter()
    try:
        call()
        outcome = "classified"
    except Exception as error:  # noqa: BLE001 - the outcome is what is measured
        outcome = f"{type(error).__name__}: {error}"
    return outcome, round(time.perf_counter() - started, 3)


def bounded(make_engine, *, limit_s: float, memory_mb: float | None) -> InChildren:
    policy = LinkPolicy(max_bytes=25 * MiB, max_duration_s=1200, timeout_s=60)
    memory = None if memory_mb is None else int(memory_mb * MiB)
    return InChildren(make_engine, policy, workers=1, fetchers=1, time_limit_s=limit_s, memory_limit_bytes=memory)


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = song(args.seconds)
    make_engine = functools.partial(load_engine, args.checkpoint, 1)
    in_thread = InThread(make_engine(), LinkPolicy(max_bytes=25 * MiB, max_duration_s=1200, timeout_s=60))
    work = bounded(make_engine, limit_s=60, memory_mb=args.memory_mb)
    try:
        work.classify(data, "warm-up")  # the child starts and loads its model
        isolation = {
            "thread_s": median_s(lambda: in_thread.classify(data, "song"), args.repeats),
            "child_s": median_s(lambda: work.classify(data, "song"), args.repeats),
        }
        child = work.classifying.run(_classify_and_measure, data)
    finally:
        work.close()
    overrun = bounded(make_engine, limit_s=60, memory_mb=args.memory_mb)
    try:
        overrun.classify(data, "warm-up")  # a child ready, its model loaded, before the limit drops
        overrun.classifying.time_limit_s = args.overrun_limit
        refused, refused_s = timed(lambda: overrun.classifying.run(time.sleep, 30.0))
        overrun.classifying.time_limit_s = 60.0
        replaced, replaced_s = timed(lambda: overrun.classify(data, "next"))
        greedy, greedy_s = timed(lambda: overrun.classifying.run(np.ones, 2**30, np.float32))
    finally:
        overrun.close()
    fetching = Children("download", 1, time_limit_s=60, memory_limit_bytes=None)
    try:
        fetcher = fetching.run(_warm_and_measure)
    finally:
        fetching.close()
    return {
        "song_s": args.seconds,
        "song_mib": round(len(data) / MiB, 1),
        "memory_limit_mib": args.memory_mb,
        "isolation": isolation,
        "child": child,
        "overrun": {"limit_s": args.overrun_limit, "outcome": refused, "refused_after_s": refused_s},
        "replacement": {"outcome": replaced, "next_song_s": replaced_s},
        "greedy": {"asked_mib": 4096, "outcome": greedy, "refused_after_s": greedy_s},
        "fetching_child": fetcher,
    }


def render(results: dict[str, Any]) -> str:
    iso, child, overrun = results["isolation"], results["child"], results["overrun"]
    greedy, fetcher = results["greedy"], results["fetching_child"]
    return "\n".join(
        [
            f"A song of {results['song_s']:g} s ({results['song_mib']:g} MiB of WAV) classified by the shipped "
            "model with one model thread, as `python -m bot worker` runs it.",
            "",
            "| what | measured |",
            "| --- | ---: |",
            f"| one classification in the calling thread (median) | {iso['thread_s']:.3f} s |",
            f"| one classification in a child process (median) | {iso['child_s']:.3f} s |",
            f"| a classifying child's peak resident memory | {child['VmHWM']:g} MiB |",
            f"| its data (what `--job-memory-mb` caps; limit {results['memory_limit_mib']:g} MiB) "
            f"| {child['VmData']:g} MiB |",
            f"| a 30-s job under a limit of {overrun['limit_s']:g} s: refused after "
            f"| {overrun['refused_after_s']:.3f} s |",
            f"| the next song, in the child started in its place | {results['replacement']['next_song_s']:.3f} s |",
            f"| a job asking for {greedy['asked_mib']:,} MiB: refused after | {greedy['refused_after_s']:.3f} s |",
            f"| a fetching child's resident memory, yt-dlp warm | {fetcher['VmRSS']:g} MiB |",
            "",
            f"The job past its limit: *{overrun['outcome']}* The next song: *{results['replacement']['outcome']}*. "
            f"The job asking for {greedy['asked_mib']:,} MiB: *{greedy['outcome']}*",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.job_bounds", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the song (default 180)")
    parser.add_argument("--repeats", type=int, default=5, help="classifications per median (default 5)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="the model (default: the shipped one)")
    parser.add_argument("--memory-mb", type=float, default=1024.0, help="the memory limit of a job (default 1024)")
    parser.add_argument("--overrun-limit", type=float, default=1.0, help="the time limit of the 30-s job (default 1)")
    parser.add_argument(
        "--out", type=Path, default=None, help="the record (default benchmarks/results/job_bounds.json)"
    )
    args = parser.parse_args(argv)
    recorder = Recorder("job_bounds", "Job bounds: time and memory of a classification", "benchmarks.job_bounds", argv)
    results = run(args)
    print(render(results))
    print(recorder.write(results, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
