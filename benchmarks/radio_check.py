"""Check a rendered radio file: each song's loudness in the file, against the radio's target.

    python -m bot radio --songs 5 --out mix.ogg --json > mix.json
    python -m benchmarks.radio_check mix.ogg mix.json [--tolerance 1.5]

Decodes the file with the radio's own decoder (:func:`bot.radio.stream.decode_48k`), measures every song
between the ``start_s`` the render reported (EBU R128 integrated, FFmpeg's ebur128) and prints one
line per song; the exit status is 1 when a song is off the target by more than the tolerance.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.radio.loudness import TARGET_LUFS, measure_segments
from bot.radio.stream import decode_48k


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.radio_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", type=Path, help="the rendered .ogg")
    parser.add_argument("render_json", type=Path, help="what `python -m bot radio --json` printed")
    parser.add_argument("--tolerance", type=float, default=1.5, help="allowed distance from -14 LUFS, LU")
    args = parser.parse_args(argv)
    songs = json.loads(args.render_json.read_text())["songs"]
    results = measure_segments(decode_48k(args.audio), [song["start_s"] for song in songs])
    failed = 0
    for song, result in zip(songs, results):
        ok = abs(result.integrated_lufs - TARGET_LUFS) <= args.tolerance
        failed += not ok
        print(
            f"{'ok ' if ok else 'BAD'} {song['title'][:32]:32} source {song['loudness_lufs']:7.2f} LUFS -> "
            f"in file {result.integrated_lufs:7.2f} LUFS, true peak {result.true_peak_dbtp:6.2f} dBTP"
        )
    print(f"{len(songs) - failed}/{len(songs)} songs within {TARGET_LUFS:g} ± {args.tolerance:g} LUFS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
