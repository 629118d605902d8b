"""How much CPU the radio's audio path costs: ``python -m benchmarks.radio [FILES...] [--seconds S] [--record PATH]``.

Streams real songs (default: every file under ``../shared/pool``, in order) through the radio's
PacketStream (decode, resample to 48 kHz stereo, gain, limiter, fades, 20-ms Opus packets) as fast as
it can, for ``--seconds`` of audio, and measures the process's CPU time. Prints CPU seconds per
second of streamed audio and so how many radios one core sustains in real time; the one-off
loudness measurement of a song (done once, then stored) is reported apart. The record goes to
``benchmarks/results/radio.json`` (``benchmarks.record``), which :func:`render` turns into the
measurement page.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import islice
from pathlib import Path

from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option
from benchmarks.shared import POOL
from bot.radio.loudness import gain_db, measure
from bot.radio.stream import FRAME_S, PacketStream, Track, decode_48k
from genre_engine.audio import find_audio_files

DEFAULT_POOL = POOL


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("radio", "The radio's CPU cost", "benchmarks.radio", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.radio", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help=f"songs or folders (default {DEFAULT_POOL})")
    parser.add_argument("--seconds", type=float, default=600.0, help="seconds of audio to stream (default 600)")
    add_record_option(parser)
    args = parser.parse_args(argv)
    paths = find_audio_files(args.files or [DEFAULT_POOL])
    if not paths:
        print("radio_bench: no audio files found", file=sys.stderr)
        return 2
    results = measure_stream(paths, args.seconds) | {"source": " ".join(map(str, args.files)) or "../shared/pool"}
    per_s = results["cpu_s_per_audio_s"]
    rows = {
        "files": len(paths),
        "streamed_audio_s": f"{results['streamed_audio_s']:.1f}",
        "cpu_s_per_audio_s": f"{per_s:.4f}",
        "radios_per_core": f"{1 / per_s:.0f}",
        "faster_than_realtime": f"{results['faster_than_realtime']:.0f}x (wall clock, one thread)",
        "measure_cpu_s_per_audio_s": f"{results['measure_cpu_s_per_audio_s']:.4f} (once per song, then stored)",
        "cpus": os.cpu_count(),
    }
    for name, value in rows.items():
        print(f"{name:>26}: {value}")
    recorder.write(results, args.record)
    return 0


def measure_stream(paths: list[Path], seconds: float) -> dict:
    """CPU seconds per second of audio: streaming ``seconds`` of ``paths`` through the radio's
    PacketStream, and measuring the loudness of the first three songs."""
    measured_s = sum(frame_count(path) for path in paths[:3]) * FRAME_S
    cpu = time.process_time()
    gains = [gain_db(measure(decode_48k(path)).integrated_lufs) for path in paths[:3]]
    measure_cpu = time.process_time() - cpu

    pending = iter([Track(index, path.stem, path, gains[index % len(gains)]) for index, path in enumerate(paths)])
    stream = PacketStream(lambda: next(pending, None))
    cpu, wall = time.process_time(), time.perf_counter()
    sent = sum(1 for _ in islice(stream, int(seconds / FRAME_S)))
    stream_cpu, stream_wall = time.process_time() - cpu, time.perf_counter() - wall
    audio_s = sent * FRAME_S
    return {
        "files": len(paths),
        "streamed_audio_s": audio_s,
        "cpu_s_per_audio_s": stream_cpu / audio_s,
        "faster_than_realtime": audio_s / stream_wall,
        "measured_songs": min(3, len(paths)),
        "measure_cpu_s_per_audio_s": measure_cpu / measured_s,
        "cores": os.cpu_count(),
    }


def render(results: dict) -> str:
    """The measurement page's body: the streaming cost, the radios one core sustains, the loudness cost."""
    per_s = results["cpu_s_per_audio_s"]
    return (
        f"{results['streamed_audio_s']:.0f} s of real songs ({results['files']} files under `{results['source']}`, "
        "in order) streamed through the radio's `PacketStream` (decode, resample to 48 kHz stereo, gain, limiter, "
        "fades, 20-ms Opus packets) as fast as it goes, on one thread, timing the process's CPU.\n\n"
        + table(
            ["what", "figure"],
            [
                ["CPU seconds per second of streamed audio", f"{per_s:.4f}"],
                ["radios one core sustains in real time", f"{1 / per_s:.0f}"],
                ["faster than real time (wall clock, one thread)", f"{results['faster_than_realtime']:.0f}x"],
                [
                    f"loudness measurement, CPU seconds per second of audio ({results['measured_songs']} songs; "
                    "once per song, then stored)",
                    f"{results['measure_cpu_s_per_audio_s']:.4f}",
                ],
            ],
        )
    )


def frame_count(path: Path) -> int:
    return sum(frame.samples for frame in decode_48k(path)) // 960


if __name__ == "__main__":
    sys.exit(main())
