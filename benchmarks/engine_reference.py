"""``python -m benchmarks.engine_reference [--venv DIR] [--unseen | --held-out] [--json] [--record PATH]``: this engine
against musicnn's own TensorFlow.

Times, per GTZAN clip end to end (decode, features, network), musicnn's reference implementation
(``MSD_musicnn``, 3-s patches, tags and features) both as a warm model (graph and session built once)
and through ``musicnn.extractor.extractor`` as its authors ship it (graph rebuilt per call), and
genrebot's default engine (the shipped model through ONNX Runtime, with its early stop) and the same
engine analysing every segment as the reference does (``stop_margin=None``), each on an otherwise
idle machine and while another process keeps one core busy, in the same run. The default clips are
ones the shipped head was trained on, on which it is surer than on unseen music, so the early stop
ends sooner there (``python -m studies.segments`` gives the cross-validated segment counts).
``--unseen`` times 30-s excerpts of pool songs instead (``../shared/pool``, cut 60 s in), music the
shipped head never saw. ``--held-out`` times every full-length (30-s) GTZAN clip in ``../shared``
with a head that never saw it: for each clip the engine's genre head is replaced by a linear probe
(multinomial logistic regression on the network's embedding output, the shipped head's form, as in
``python -m studies.segments``) trained on every other clip, leave-one-out, so the early stop
is as sure as it would be on an unseen GTZAN clip.

The reference runs in its own virtual environment, never in the project's: tensorflow-cpu 2.21 with
tf-keras and musicnn 0.1.0 installed without its dependencies (README, "Converting the checkpoints
again"), e.g.::

    python3.11 -m venv /work/tfref
    /work/tfref/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 librosa soundfile
    /work/tfref/bin/pip install --no-deps musicnn==0.1.0

Without that environment the comparison is skipped with a message saying so (and no record is
written); otherwise the run's record goes to ``benchmarks/results/engine_reference.json``
(``benchmarks.record``), which :func:`render` turns into the measurement page.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from sklearn.linear_model import LogisticRegression

from benchmarks.engine import latencies
from benchmarks.markdown import table
from benchmarks.record import Recorder, add_record_option, load_average
from benchmarks.shared import SHARED
from benchmarks.timing import idle_and_busy
from genre_engine.audio import find_audio_files
from genre_engine.engine import GenreEngine

DEFAULT_VENV = Path("/work/tfref")
GTZAN_CLIPS = SHARED / "gtzan" / "clips"  # <genre>/<file>
DEFAULT_CLIPS = [GTZAN_CLIPS / g / f"{g}.00000.wav" for g in ("blues", "disco", "jazz", "metal", "rock")]
EXCERPT_S = 30
EXCERPT_START_S = 60
TITLE = "This engine against musicnn's TensorFlow"


def pool_excerpts(folder: Path, every: int = 3) -> list[Path]:
    """30-s WAV excerpts, cut ``EXCERPT_START_S`` in (or a third in, for short songs), of every
    ``every``-th pool song, written to ``folder``: unseen music of the length of a GTZAN clip."""
    excerpts = []
    for song in sorted((SHARED / "pool").glob("*/*.ogg"))[::every]:
        info = sf.info(song)
        start = int(min(EXCERPT_START_S, info.duration / 3) * info.samplerate)
        samples, rate = sf.read(song, start=start, frames=EXCERPT_S * info.samplerate)
        excerpts.append(folder / f"{song.stem}.wav")
        sf.write(excerpts[-1], samples, rate)
    return excerpts


class _ProbeHead:
    """A runner whose genre probabilities come from ``probe`` (fitted on the runner's embedding
    output) instead of the exported head; everything else is the runner's."""

    def __init__(self, runner, probe: LogisticRegression) -> None:
        self.runner = runner
        self.probe = probe

    def __getattr__(self, name: str):
        return getattr(self.runner, name)

    def predict_tagged(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        _, embeddings, tags = self.runner.predict_tagged(segments)
        probs = np.zeros((len(segments), len(self.runner.labels)), dtype=np.float32)
        probs[:, self.probe.classes_] = self.probe.predict_proba(embeddings)
        return probs, embeddings, tags


def held_out_engines(engine: GenreEngine, folder: Path = GTZAN_CLIPS) -> dict[Path, GenreEngine]:
    """Every full-length clip under ``folder`` (``<genre>/<file>``), each with an engine like
    ``engine`` whose head is a probe trained on every segment of every other clip (leave-one-out)."""
    clips = find_audio_files([folder])
    targets = np.array([engine.labels.index(path.parent.name) for path in clips])
    embeddings = [engine.predict_segments(engine.decode(path).samples)[1] for path in clips]
    engines = {}
    for i, path in enumerate(clips):
        if sf.info(path).duration < EXCERPT_S - 1:
            continue
        others = [j for j in range(len(clips)) if j != i]
        probe = LogisticRegression(C=0.1, max_iter=3000).fit(
            np.concatenate([embeddings[j] for j in others]),
            np.concatenate([np.full(len(embeddings[j]), targets[j]) for j in others]),
        )
        engines[path] = GenreEngine(_ProbeHead(engine.runner, probe), projection=engine.projection)
    return engines


# Run inside the reference venv. Two ways to use the reference: its API as shipped
# (``extractor()``, which builds the graph and restores the checkpoint on every call), and a warm
# model (graph and session built once, as a server would keep them; per clip ``batch_data``, i.e.
# librosa load and mel, then one ``session.run`` for tags and features, as ``extractor`` runs them).
# Each is warmed up, timed on every clip idle, then with one core kept busy.
_REFERENCE = r"""
import json, os, subprocess, sys, time
import numpy as np
import tensorflow as tf
from musicnn import configuration as config, models
from musicnn.extractor import batch_data, extractor
files = sys.argv[1:]
n_frames = 187  # librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1, as extractor()
with tf.name_scope("model"):
    x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
    is_training = tf.compat.v1.placeholder(tf.bool)
    y, *features = models.define_model(x, is_training, "MSD_musicnn", len(config.MSD_LABELS))
    outputs = [tf.nn.sigmoid(y), *features]
session = tf.compat.v1.Session()
tf.compat.v1.train.Saver().restore(session, os.path.dirname(models.__file__) + "/MSD_musicnn/")
def api(f):
    extractor(f, model="MSD_musicnn", input_length=3, input_overlap=False, extract_features=True)
def warm(f):
    batch, _ = batch_data(f, n_frames, n_frames)
    session.run(outputs, feed_dict={x: batch, is_training: False})
def p50(run):
    out = []
    for f in files:
        started = time.perf_counter()
        run(f)
        out.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(out, 50))
def idle_and_busy(run):
    run(files[0])
    idle = p50(run)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        busy = p50(run)
    finally:
        spinner.kill()
        spinner.wait()
    return {"idle_ms": round(idle, 1), "busy_ms": round(busy, 1), "ratio": round(busy / idle, 2)}
print(json.dumps({"warm": idle_and_busy(warm), "api": idle_and_busy(api)}))
"""


def reference_env() -> dict[str, str]:
    return {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def run_reference(python: Path, clips: list[Path]) -> dict[str, dict[str, float]]:
    """p50 ms per clip of the reference, ``warm`` and ``api``, idle and with one core busy.

    Raises ``RuntimeError`` when the reference fails.
    """
    result = subprocess.run(
        [str(python), "-c", _REFERENCE, *map(str, clips)],
        capture_output=True,
        text=True,
        env=reference_env(),
        cwd="/",
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the reference failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder("engine_reference", TITLE, "benchmarks.engine_reference", argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_reference", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv", type=Path, default=DEFAULT_VENV, help=f"the reference's venv (default: {DEFAULT_VENV})"
    )
    parser.add_argument(
        "--clips",
        nargs="+",
        type=Path,
        default=DEFAULT_CLIPS,
        help="clips to time (default: five full 30-s GTZAN clips from ../shared)",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--unseen",
        action="store_true",
        help="time 30-s excerpts of every third pool song instead (music the shipped head never saw)",
    )
    group.add_argument(
        "--held-out",
        action="store_true",
        help="time every full 30-s GTZAN clip, each with a head trained without it (leave-one-out)",
    )
    parser.add_argument("--json", action="store_true")
    add_record_option(parser)
    args = parser.parse_args(argv)
    python = args.venv / "bin" / "python"
    if not python.is_file():
        print(
            f"skipped: no reference environment at {args.venv} (see `python -m benchmarks.engine_reference --help`)",
            file=sys.stderr,
        )
        return 0
    engine = GenreEngine.from_checkpoint()
    if args.held_out:
        print("  leave-one-out heads", file=sys.stderr, flush=True)
        result = compare(python, engine, held_out_engines(engine), "held_out")
    else:
        with tempfile.TemporaryDirectory() as folder:
            clips = pool_excerpts(Path(folder)) if args.unseen else args.clips
            result = compare(python, engine, {clip: engine for clip in clips}, "unseen" if args.unseen else "trained")
    print(json.dumps(result) if args.json else format_table(result))
    recorder.write(result, args.record)
    return 0


def _latencies(engines: dict[Path, GenreEngine]) -> list[float]:
    return [latencies(engine, [clip])[0] for clip, engine in engines.items()]


def compare(python: Path, engine: GenreEngine, engines: dict[Path, GenreEngine], clip_set: str) -> dict:
    """The reference and this engine on the same clips. ``engines``: the clips to time, each with the
    engine that classifies it (``engine``, the default, unless the heads are held out); "every
    segment" runs ``engine`` without its early stop. ``clip_set``: which clips (see :data:`CLIP_SETS`)."""
    clips = list(engines)
    print("  musicnn reference (TensorFlow)", file=sys.stderr, flush=True)
    reference = run_reference(python, clips)
    print("  genrebot (default engine, then every segment)", file=sys.stderr, flush=True)
    ours = idle_and_busy(lambda: _latencies(engines), lambda: engine.classify(clips[0]))
    segments = [engines[clip].classify(clip).segments for clip in clips]
    engine.stop_margin = None
    every = idle_and_busy(lambda: latencies(engine, clips), lambda: engine.classify(clips[0]))
    return {
        "clips": len(clips),
        "clip_set": clip_set,
        "load_average_1min": load_average()[0],
        "reference": reference,
        "genrebot": ours,
        "genrebot_every_segment": every,
        "genrebot_segments": segments,
        "genrebot_runtime": engine.runner.runtime,
        "speedup_vs_warm": _speedup(reference["warm"], ours),
        "speedup_vs_api": _speedup(reference["api"], ours),
        "every_segment_speedup_vs_warm": _speedup(reference["warm"], every),
        "every_segment_speedup_vs_api": _speedup(reference["api"], every),
    }


def _speedup(reference: dict[str, float], ours: dict[str, float]) -> dict[str, float]:
    return {case: round(reference[case] / ours[case], 2) for case in ("idle_ms", "busy_ms")}


# what each run's clips are, as the page says it
CLIP_SETS = {
    "trained": "full 30-s GTZAN clips the shipped head was trained on, so it stops earlier than on unseen music",
    "unseen": "30-s excerpts of pool songs, music the shipped head never saw",
    "held_out": "every full 30-s GTZAN clip, each classified by a head trained without it (leave-one-out)",
}
SPEEDUPS = (
    ("speed-up vs warm model", "speedup_vs_warm"),
    ("speed-up vs extractor()", "speedup_vs_api"),
    ("every segment: speed-up vs warm model", "every_segment_speedup_vs_warm"),
    ("every segment: speed-up vs extractor()", "every_segment_speedup_vs_api"),
)


def _rows(result: dict) -> tuple[tuple[str, dict[str, float]], ...]:
    runtime, reference = result["genrebot_runtime"], result["reference"]
    return (
        (f"genrebot ({runtime}, early stop)", result["genrebot"]),
        (f"genrebot ({runtime}, every segment)", result["genrebot_every_segment"]),
        ("musicnn TensorFlow, warm model", reference["warm"]),
        ("musicnn TensorFlow, extractor() per call", reference["api"]),
    )


def format_table(result: dict) -> str:
    lines = [
        f"per clip, p50 ms over {result['clips']} clips; load average {result['load_average_1min']}",
        f"{'':<44} {'idle':>8} {'one core busy':>14} {'ratio':>6}",
    ]
    lines += [f"{name:<44} {row['idle_ms']:>8} {row['busy_ms']:>14} {row['ratio']:>6}" for name, row in _rows(result)]
    lines += [f"{name:<44} {result[key]['idle_ms']:>7}x {result[key]['busy_ms']:>13}x" for name, key in SPEEDUPS]
    lines.append(f"segments genrebot analysed per clip with the early stop: {result['genrebot_segments']}")
    return "\n".join(lines)


def render(result: dict) -> str:
    """The measurement page's body: the timings and speed-ups, with what the clips were."""
    timings = table(
        ["", "idle", "one core busy", "ratio"],
        ((name, row["idle_ms"], row["busy_ms"], f"{row['ratio']}x") for name, row in _rows(result)),
    )
    speedups = table(
        ["genrebot against the reference", "idle", "one core busy"],
        ((name, f"{result[key]['idle_ms']}x", f"{result[key]['busy_ms']}x") for name, key in SPEEDUPS),
    )
    return "\n\n".join(
        [
            f"Milliseconds per clip end to end (decode, features, network; p50 over {result['clips']} clips: "
            f'{CLIP_SETS[result["clip_set"]]}), each as the machine was ("idle"; the load average above says '
            "how busy it was) and again while another process keeps one core busy. musicnn's reference is its "
            "authors' TensorFlow `MSD_musicnn` (3-s patches, tags and features), once as a warm model (graph and "
            "session built once, as a server keeps them) and once through `musicnn.extractor.extractor` as shipped "
            "(graph rebuilt per call); genrebot is its default engine (the shipped model through ONNX Runtime with "
            "its early stop) and the same engine analysing every segment as the reference does.",
            timings,
            speedups,
            f"Segments genrebot analysed per clip with the early stop: {result['genrebot_segments']}. "
            f"Load average at the end of the run: {result['load_average_1min']}.",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
