"""``python -m benchmarks.decode_bounds``: what decompression bombs cost the decoder, beside an honest file
holding the same audio (issue 23).

    python -m benchmarks.decode_bounds [--minutes 60 180] [--out PATH]

The audio: ``--minutes`` of a square wave at 48 kHz whose level flips every 65,535 samples (the
longest FLAC frame), so that every frame is constant and compresses to 15 bytes: an hour is 37 KB.
Three files hold it, each made here from the same FLAC frames:

- *honest FLAC*: the frames in a FLAC file, as an encoder writes them;
- *bomb, claims 1/12,000 s a frame*: the frames in an MP4 whose timestamps say each lasts
  1/12,000 s (issue 23's file: an hour says it lasts 0.2 s, short enough to be read whole);
- *bomb, claims a tenth*: the same with each frame claiming a tenth of its length (long enough
  to be read as windows).

Each is decoded by ``genre_engine.audio.decode_windows`` with the shipped model's settings (16 kHz,
10 windows of 2.99 s) in a child process of its own, which reports the outcome, the audio decoded
(``decoded_s``: the decoders' own count, every backend and read included), the peak of the memory
tracemalloc traces (numpy's arrays: the samples), the process's peak resident memory and how much
it grew while decoding (ru_maxrss, FFmpeg's own buffers included), and the time.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from benchmarks.record import Recorder
from genre_engine.audio import decode_windows
from genre_engine.errors import AudioError

RATE = 48_000
BLOCK = 65_535  # samples in a FLAC frame, the most the format allows
MODEL_RATE, WINDOW_S, WINDOWS = 16_000, 187 * 256 / 16_000, 10  # the shipped musicnn model's decoding
KINDS = {  # name -> timestamp ticks (1/RATE s) each frame claims; None: an honest FLAC file
    "honest FLAC": None,
    "bomb, claims 1/12,000 s a frame": RATE // 12_000,
    "bomb, claims a tenth": BLOCK // 10,
    "bomb, claims no time": 0,  # no timeline to check: counted by decoding, then read forward
}


def flac_frames(blocks: int) -> list[bytes]:
    """``blocks`` FLAC frames of ``BLOCK`` constant samples each, the level flipping from one to the
    next (a square wave of 0.37 Hz)."""
    encoder = av.CodecContext.create("flac", "w")
    encoder.sample_rate, encoder.layout, encoder.format = RATE, "mono", "s16"
    encoder.options = {"frame_size": str(BLOCK)}
    encoder.open()
    levels = [np.full((1, BLOCK), level, np.int16) for level in (8000, -8000)]
    packets = []
    for index in range(blocks):
        frame = av.AudioFrame.from_ndarray(levels[index % 2], format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, index * BLOCK
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    return [bytes(packet) for packet in packets if packet.size]


def mux(frames: list[bytes], container: str, ticks: int) -> bytes:
    """The frames in ``container`` (``"flac"``, ``"mp4"``), each stamped as lasting ``ticks`` / RATE s."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        # PyAV opens the stream's encoder, whose own header (STREAMINFO) the file gets: made with the
        # frames' block size and sample format, it is the frames' header
        stream = output.add_stream("flac", rate=RATE, layout="mono", options={"frame_size": str(BLOCK)})
        stream.codec_context.format = "s16"
        stream.time_base = Fraction(1, RATE)
        for index, data in enumerate(frames):
            packet = av.Packet(data)
            packet.stream, packet.time_base = stream, Fraction(1, RATE)
            packet.pts = packet.dts = index * ticks
            packet.duration = ticks
            output.mux(packet)
    return buffer.getvalue()


def blocks(minutes: float) -> int:
    """How many frames hold ``minutes`` (the last one whole)."""
    return int(np.ceil(minutes * 60 * RATE / BLOCK))


def craft(minutes: float, ticks: int | None) -> bytes:
    """``minutes`` of the square wave: an honest FLAC file (``ticks`` None) or an MP4 whose frames
    each claim ``ticks`` / RATE seconds."""
    frames = flac_frames(blocks(minutes))
    return mux(frames, "flac", BLOCK) if ticks is None else mux(frames, "mp4", ticks)


def claimed_s(data: bytes) -> float | None:
    """The length FFmpeg reads in the container (its header or timestamps), in seconds; None when it
    says none (a FLAC file written in one pass, as here, leaves it out)."""
    with av.open(io.BytesIO(data)) as container:
        return None if container.duration is None else round(container.duration / av.time_base, 3)


def measure_here(path: Path) -> dict[str, Any]:
    """Decode ``path`` as the engine does, in this process: outcome, decoded seconds, memory, time."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    try:
        decoded = decode_windows(path, MODEL_RATE, WINDOW_S, WINDOWS)
        outcome, decoded_s = f"analysed: {len(decoded.windows)} windows", decoded.decoded_s
    except AudioError as error:
        outcome, decoded_s = f"{type(error).__name__}: {error}", getattr(error, "decoded_s", None)
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1]
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "outcome": outcome,
        "decoded_s": None if decoded_s is None else round(decoded_s, 2),
        "traced_peak_mib": round(traced_peak / 2**20, 2),
        "rss_peak_mib": round(rss_after / 1024, 1),
        "rss_growth_mib": round((rss_after - rss_before) / 1024, 1),
        "seconds": round(seconds, 3),
    }


def measure(path: Path) -> dict[str, Any]:
    """:func:`measure_here` in a fresh child process, so each file's peak memory is its own."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.decode_bounds", "--measure", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def run(minutes: list[float]) -> dict[str, Any]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for length in minutes:
            for kind, ticks in KINDS.items():
                data = craft(length, ticks)
                path = Path(folder) / ("song.flac" if ticks is None else "song.m4a")
                path.write_bytes(data)
                rows.append(
                    {
                        "file": kind,
                        "bytes": len(data),
                        "holds_s": round(blocks(length) * BLOCK / RATE, 1),
                        "claims_s": claimed_s(data),
                    }
                    | measure(path)
                )
    return {"model_rate": MODEL_RATE, "window_s": round(WINDOW_S, 3), "windows": WINDOWS, "rows": rows}


def render(results: dict[str, Any]) -> str:
    lines = [
        f"Each file decoded by `decode_windows` as the shipped model's engine does ({results['windows']} windows "
        f"of {results['window_s']} s at {results['model_rate'] / 1000:g} kHz), in a child process of its own. "
        "*Decoded*: the audio the decoders produced, by their own count; *traced peak*: the most memory "
        "numpy's arrays held at once (tracemalloc); *RSS*: the process's peak resident memory and its "
        "growth while decoding.",
        "",
        "| file | bytes | holds | its container says | outcome | decoded | traced peak | RSS peak (growth) | time |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in results["rows"]:
        decoded = "?" if row["decoded_s"] is None else f"{row['decoded_s']:g} s"
        claims = "nothing" if row["claims_s"] is None else f"{row['claims_s']:g} s"
        lines.append(
            f"| {row['file']} | {row['bytes']:,} | {row['holds_s'] / 60:.1f} min | {claims} "
            f"| {row['outcome']} | {decoded} | {row['traced_peak_mib']:g} MiB "
            f"| {row['rss_peak_mib']:g} MiB ({row['rss_growth_mib']:+g}) | {row['seconds']:.2f} s |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decode_bounds", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[60.0, 180.0], help="lengths of audio to craft")
    parser.add_argument(
        "--out", type=Path, default=None, help="the record (default benchmarks/results/decode_bounds.json)"
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure_here(args.measure)))
        return 0
    recorder = Recorder(
        "decode_bounds", "Decoding bounds: decompression bombs and an honest file", "benchmarks.decode_bounds", argv
    )
    results = run(args.minutes)
    print(render(results))
    print(recorder.write(results, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
