"""Check a rendered radio file: each song's loudness in the file, against the radio's target.

    python -m benchmarks.radio_check [mix.ogg mix.json] [--songs 5] [--tolerance 1.5] [--record PATH]

Without files it renders the default mix itself, as a user would, in a temporary ``GENREBOT_HOME``:
``python -m bot index --guild 1 ../shared/pool`` (the console's server) then ``python -m bot radio
--songs 5 --out mix.ogg --json`` (about a minute on two cores). Given a file and what ``python -m bot
radio --json`` printed for it, it checks that file instead.

Decodes the file with the radio's own decoder (:func:`bot.radio.stream.decode_48k`), measures every song
between the ``start_s`` the render reported (EBU R128 integrated, FFmpeg's ebur128) and prints one
line per song; the exit status is 1 when a song is off the target by more than the tolerance. The
record goes to ``benchmarks/results/radio_check.json`` (``benchmarks.record``), which :func:`render`
turns into the measurement page.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option
from benchmarks.shared import POOL, REPO_ROOT
from bot.radio.loudness import TARGET_LUFS, measure_segments
from bot.radio.stream import decode_48k
from console.repl import LOCAL_GUILD_ID


def render_default_mix(folder: Path, songs: int) -> tuple[Path, dict]:
    """Index the shared pool into the console's server in a home under ``folder`` and render its
    radio: (the .ogg, what ``python -m bot radio --json`` printed)."""
    env = {**os.environ, "GENREBOT_HOME": str(folder / "home")}
    bot = [sys.executable, "-m", "bot"]
    subprocess.run([*bot, "index", "--guild", str(LOCAL_GUILD_ID), str(POOL)], env=env, cwd=REPO_ROOT, check=True)
    audio = folder / "mix.ogg"
    printed = subprocess.run(
        [*bot, "radio", "--songs", str(songs), "--out", str(audio), "--json"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return audio, json.loads(printed)


def check(audio: Path, rendered: dict, tolerance: float) -> list[dict]:
    """One row per song of ``rendered``: its loudness before normalisation, in the file, its true peak."""
    songs = rendered["songs"]
    results = measure_segments(decode_48k(audio), [song["start_s"] for song in songs])
    return [
        {
            "title": song["title"],
            "start_s": song["start_s"],
            "source_lufs": song["loudness_lufs"],
            "file_lufs": result.integrated_lufs,
            "true_peak_dbtp": result.true_peak_dbtp,
            "ok": abs(result.integrated_lufs - TARGET_LUFS) <= tolerance,
        }
        for song, result in zip(songs, results)
    ]


def _lufs(value: float | None) -> str:
    """A loudness the render may not have measured (None: the song's own was unknown)."""
    return "-" if value is None else f"{value:.2f}"


def render(results: dict) -> str:
    """The measurement page's body: one row per song of the mix, and how many are within the tolerance."""
    songs = results["songs"]
    rows = table(
        ["song", "starts at, s", "source, LUFS", "in the file, LUFS", "true peak, dBTP", "within"],
        (
            [s["title"], f"{s['start_s']:.1f}", _lufs(s["source_lufs"]), f"{s['file_lufs']:.2f}"]
            + [f"{s['true_peak_dbtp']:.2f}", "yes" if s["ok"] else "no"]
            for s in songs
        ),
    )
    passed = sum(song["ok"] for song in songs)
    return (
        f"The radio's loudness, measured in what it plays: {results['source']}. Each song is measured in the "
        "file between the start times the render reported (EBU R128 integrated loudness and true peak, FFmpeg's "
        f"ebur128), beside its own loudness before normalisation. {passed} of {len(songs)} songs are within "
        f"{results['target_lufs']:g} ± {results['tolerance']:g} LUFS.\n\n" + rows
    )


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("radio_check", "The radio's loudness in a rendered mix", "benchmarks.radio_check", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.radio_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", type=Path, nargs="?", help="a rendered .ogg (default: render the default mix)")
    parser.add_argument("render_json", type=Path, nargs="?", help="what `python -m bot radio --json` printed for it")
    parser.add_argument("--songs", type=int, default=5, help="songs in the default mix (default 5)")
    parser.add_argument("--tolerance", type=float, default=1.5, help="allowed distance from -14 LUFS, LU")
    add_record_option(parser)
    args = parser.parse_args(argv)
    if (args.audio is None) != (args.render_json is None):
        parser.error("give both the rendered .ogg and its JSON, or neither")
    with tempfile.TemporaryDirectory(prefix="genrebot-radio-") as folder:
        if args.audio is None:
            audio, rendered = render_default_mix(Path(folder), args.songs)
            source = f"a {args.songs}-song radio rendered from the shared pool by `python -m bot radio`"
        else:
            audio, rendered = args.audio, json.loads(args.render_json.read_text())
            source = f"`{args.audio.name}`, rendered by `python -m bot radio`"
        songs = check(audio, rendered, args.tolerance)
    for song in songs:
        print(
            f"{'ok ' if song['ok'] else 'BAD'} {song['title'][:32]:32} source {_lufs(song['source_lufs']):>7} LUFS -> "
            f"in file {song['file_lufs']:7.2f} LUFS, true peak {song['true_peak_dbtp']:6.2f} dBTP"
        )
    failed = sum(not song["ok"] for song in songs)
    print(f"{len(songs) - failed}/{len(songs)} songs within {TARGET_LUFS:g} ± {args.tolerance:g} LUFS")
    results = {"source": source, "target_lufs": TARGET_LUFS, "tolerance": args.tolerance, "songs": songs}
    recorder.write(results, args.record)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
