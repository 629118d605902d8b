"""``python -m benchmarks.engine [--json] [--record PATH]``: end-to-end speed per file, idle and with one core busy.

In one run, on real audio (default: three full 30-s GTZAN clips and one full-length pool song; about
2 minutes on a loaded 2-core machine):

- per-file latency (decode, resample, features, model; p50 in ms) of every runtime and thread
  setting: torch with 2 and 1 intra-op threads, ONNX Runtime with 1 and 2 intra-op threads and
  spinning on and off, each measured on an otherwise idle machine and again while another process
  keeps one core busy (``python -c 'while True: pass'``), side by side, with their ratio;
- the bot's case: two worker threads classifying at once through one engine, with one ONNX Runtime
  session shared by the workers or one session per worker, idle and with one core busy;
- optionally (``--naive``) the naive reference: ``librosa.load``, ``librosa.resample``, librosa
  features and the torch model one segment at a time, on the same segments.

The thread policy of ``genre_engine.runtime_onnx`` is the fastest ONNX Runtime setting whose busy
latency stays within 1.5x of its idle latency (printed as ``chosen``). Shared machines drift: the
load average is printed beside the figures. The run's record goes to ``benchmarks/results/engine.json``
(``benchmarks.record``); :func:`render` turns it into the measurement page.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option, load_average
from benchmarks.shared import CLIPS, POOL
from benchmarks.timing import idle_and_busy
from genre_engine.audio import find_audio_files
from genre_engine.checkpoint import DEFAULT_CHECKPOINT, export_path
from genre_engine.engine import GenreEngine
from genre_engine.features import FeatureConfig, split_segments
from genre_engine.runners import load_runner

DEFAULT_CLIPS = [CLIPS / g / f"{g}.00000.wav" for g in ("blues", "disco", "metal")]
DEFAULT_SONGS = [POOL / "sectoid" / "Feelings.ogg"]
MAX_BUSY_RATIO = 1.5  # the thread policy's criterion: one busy core may cost at most this much
WORKERS = 2  # the bot's default GENREBOT_WORKERS

ONNX_SETTINGS = [(threads, spinning) for threads in (1, 2) for spinning in (False, True)]
TORCH_THREADS = (2, 1)


def latencies(engine: GenreEngine, files: list[Path]) -> list[float]:
    """Milliseconds per file, one file at a time, end to end."""
    out = []
    for path in files:
        started = time.perf_counter()
        engine.classify(path)
        out.append((time.perf_counter() - started) * 1000)
    return out


def pool_latencies(engine: GenreEngine, files: list[Path]) -> list[float]:
    """Milliseconds per file while ``WORKERS`` threads classify at once, as the bot's pool does."""

    def one(path: Path) -> float:
        started = time.perf_counter()
        engine.classify(path)
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, files))


def naive_features(segment: np.ndarray, config: FeatureConfig) -> np.ndarray:
    import librosa

    if config.kind == "stft":
        power = np.abs(librosa.stft(segment, n_fft=config.n_fft, hop_length=config.hop_length)) ** 2
        return librosa.power_to_db(power, top_db=None)
    mel = librosa.feature.melspectrogram(
        y=segment, sr=config.sample_rate, n_fft=config.n_fft, hop_length=config.hop_length, n_mels=config.n_mels
    )
    if config.kind == "musicnn":
        return np.log10(10000.0 * mel[:, : config.frames] + 1.0)
    return librosa.power_to_db(mel, top_db=None)


def naive_latencies(engine: GenreEngine, files: list[Path]) -> list[float]:
    """The librosa reference with the torch model (``engine`` must run torch), ms per file."""
    import librosa
    import torch

    bundle, config, out = engine.runner.bundle, engine.features, []
    for path in files:
        started = time.perf_counter()
        y, native_rate = librosa.load(path, sr=None, mono=True)
        y = librosa.resample(y, orig_sr=native_rate, target_sr=config.sample_rate)
        with torch.inference_mode():
            for segment in split_segments(y, config, engine.max_segments):
                features = torch.from_numpy(naive_features(segment, config)).float()[None, None]
                torch.softmax(bundle.model(bundle.normalize(features)), dim=1)
        out.append((time.perf_counter() - started) * 1000)
    return out


def choose(rows: list[dict]) -> str | None:
    """The fastest ONNX Runtime setting (busy p50 on clips) whose busy/idle ratio is within bounds."""
    fit = [r for r in rows if r["runtime"] == "onnx" and r["clips"]["ratio"] <= MAX_BUSY_RATIO]
    return min(fit, key=lambda r: r["clips"]["busy_ms"])["setting"] if fit else None


def run(
    checkpoint: Path, clips: list[Path], songs: list[Path], *, with_torch: bool, naive: bool, log: Callable[[str], None]
) -> dict:
    from genre_engine.runtime_onnx import OnnxModel

    onnx_path = checkpoint if checkpoint.suffix == ".onnx" else export_path(checkpoint)
    rows = []
    if with_torch:
        import torch

        torch_engine = GenreEngine(load_runner(checkpoint, runtime="torch"))
        for threads in TORCH_THREADS:
            torch.set_num_threads(threads)
            log(f"torch, {threads} thread(s)")
            rows.append(
                {
                    "runtime": "torch",
                    "setting": f"torch threads={threads}",
                    "clips": idle_and_busy(
                        lambda: latencies(torch_engine, clips), lambda: torch_engine.classify(clips[0])
                    ),
                    "songs": idle_and_busy(lambda: latencies(torch_engine, songs), lambda: None),
                }
            )
    for threads, spinning in ONNX_SETTINGS:
        engine = GenreEngine(OnnxModel(onnx_path, threads=threads, spinning=spinning))
        setting = f"onnx threads={threads} spinning={'on' if spinning else 'off'}"
        log(setting)
        rows.append(
            {
                "runtime": "onnx",
                "setting": setting,
                "clips": idle_and_busy(partial(latencies, engine, clips), partial(engine.classify, clips[0])),
                "songs": idle_and_busy(partial(latencies, engine, songs), lambda: None),
            }
        )
    pool_rows = []
    for threads in (1, 2):
        for sessions in ("shared", "per_thread"):
            engine = GenreEngine(OnnxModel(onnx_path, threads=threads, spinning=False, sessions=sessions))
            setting = f"onnx threads={threads} spinning=off sessions={sessions}"
            log(f"{WORKERS} workers, {setting}")
            pool_rows.append(
                {
                    "setting": setting,
                    "clips": idle_and_busy(
                        partial(pool_latencies, engine, clips), partial(pool_latencies, engine, clips[:WORKERS])
                    ),
                }
            )
    result = {
        "clips": len(clips),
        "songs": len(songs),
        "load_average_1min": load_average()[0],
        "single": rows,
        "workers": pool_rows,
        "chosen": choose(rows),
    }
    if naive:
        torch_engine = GenreEngine(load_runner(checkpoint, runtime="torch"))
        log("naive librosa reference")
        result["naive_clips"] = idle_and_busy(lambda: naive_latencies(torch_engine, clips), lambda: None)
    return result


def format_table(result: dict) -> str:
    lines = [
        f"per file, p50 ms: {result['clips']} GTZAN clips (30 s) and {result['songs']} full songs; "
        f"idle vs one core busy; load average {result['load_average_1min']}",
        f"{'setting':<42} {'clip idle':>9} {'clip busy':>9} {'ratio':>5}   "
        f"{'song idle':>9} {'song busy':>9} {'ratio':>5}",
    ]
    for row in result["single"]:
        c, s = row["clips"], row["songs"]
        lines.append(
            f"{row['setting']:<42} {c['idle_ms']:>9} {c['busy_ms']:>9} {c['ratio']:>5}   "
            f"{s['idle_ms']:>9} {s['busy_ms']:>9} {s['ratio']:>5}"
        )
    lines.append(f"{WORKERS} workers at once (clips)")
    for row in result["workers"]:
        c = row["clips"]
        lines.append(f"{row['setting']:<42} {c['idle_ms']:>9} {c['busy_ms']:>9} {c['ratio']:>5}")
    if "naive_clips" in result:
        c = result["naive_clips"]
        lines.append(f"{'naive librosa + torch (clips)':<42} {c['idle_ms']:>9} {c['busy_ms']:>9} {c['ratio']:>5}")
    lines.append(f"chosen (fastest busy with ratio <= {MAX_BUSY_RATIO}): {result['chosen']}")
    return "\n".join(lines)


def _cells(case: dict[str, float]) -> list[object]:
    return [case["idle_ms"], case["busy_ms"], f"{case['ratio']}x"]


def render(result: dict) -> str:
    """The measurement page's body: the tables of :func:`format_table` in Markdown, with how to read them."""
    single = table(
        ["setting", "clip, idle", "clip, one core busy", "ratio", "song, idle", "song, one core busy", "ratio"],
        ([f"`{row['setting']}`", *_cells(row["clips"]), *_cells(row["songs"])] for row in result["single"]),
    )
    pool = table(
        ["setting", "idle", "one core busy", "ratio"],
        ([f"`{row['setting']}`", *_cells(row["clips"])] for row in result["workers"]),
    )
    parts = [
        f"Milliseconds per file end to end (decode, resample, features, network; p50), on {result['clips']} "
        f"GTZAN clips of 30 s and {result['songs']} full-length pool song(s), each setting as the machine was "
        '("idle"; the load average above says how busy it was) and again while another process keeps one core '
        "busy; the ratio is busy over idle.",
        single,
        f"The bot's case: {WORKERS} worker threads classifying the clips at once through one engine, with one "
        "ONNX Runtime session shared by the workers or one per worker (ms per clip, p50).",
        pool,
    ]
    if "naive_clips" in result:
        naive = result["naive_clips"]
        parts.append(
            f"The naive reference (librosa load, resample and features, the torch model one segment at a time): "
            f"{naive['idle_ms']} ms per clip idle, {naive['busy_ms']} ms with one core busy."
        )
    chosen = f"`{result['chosen']}`" if result["chosen"] else "none"
    parts.append(
        f"Chosen (the fastest ONNX Runtime setting on clips with one core busy whose busy/idle ratio stays "
        f"within {MAX_BUSY_RATIO}x): {chosen}. Load average at the end of the run: {result['load_average_1min']}."
    )
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("engine", "Engine speed per file", "benchmarks.engine", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clips",
        nargs="+",
        type=Path,
        default=None,
        help="short clips or folders (default: three full 30-s GTZAN clips from ../shared)",
    )
    parser.add_argument(
        "--songs",
        nargs="+",
        type=Path,
        default=None,
        help="full-length songs or folders (default: one pool song from ../shared)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=DEFAULT_CHECKPOINT,
        help="torch checkpoint with its ONNX export beside it (default: the shipped model)",
    )
    parser.add_argument("--no-torch", action="store_true", help="skip the torch rows (automatic without torch)")
    parser.add_argument("--naive", action="store_true", help="also time the naive librosa reference (slow)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    add_record_option(parser)
    args = parser.parse_args(argv)
    clips = find_audio_files(args.clips or DEFAULT_CLIPS)
    songs = find_audio_files(args.songs or DEFAULT_SONGS)
    if not clips or not songs:
        parser.error("no audio files found (give --clips and --songs)")
    with_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    if (not with_torch or args.checkpoint.suffix == ".onnx") and args.naive:
        parser.error("--naive needs torch and a .pt checkpoint")
    result = run(
        args.checkpoint,
        clips,
        songs,
        with_torch=with_torch and args.checkpoint.suffix != ".onnx",
        naive=args.naive,
        log=lambda text: print(f"  {text}", file=sys.stderr, flush=True),
    )
    print(json.dumps(result) if args.json else format_table(result))
    recorder.write(result, args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
