"""``python -m genre_engine.bench_reference [--venv DIR] [--json]``: this engine against musicnn's own TensorFlow.

Times, per GTZAN clip end to end (decode, features, network), musicnn's reference implementation
(``musicnn.extractor.extractor`` with ``MSD_musicnn``, 3-s patches, as its authors ship it) and
genrebot's default engine (the shipped model through ONNX Runtime), each on an otherwise idle
machine and while another process keeps one core busy, in the same run.

The reference runs in its own virtual environment, never in the project's: tensorflow-cpu 2.21 with
tf-keras and musicnn 0.1.0 installed without its dependencies (README, "Converting the checkpoints
again"), e.g.::

    python3.11 -m venv /work/tfref
    /work/tfref/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 librosa soundfile
    /work/tfref/bin/pip install --no-deps musicnn==0.1.0

Without that environment the comparison is skipped with a message saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from genre_engine.bench import SHARED, idle_and_busy, latencies
from genre_engine.engine import GenreEngine

DEFAULT_VENV = Path("/work/tfref")
DEFAULT_CLIPS = [SHARED / "gtzan" / "clips" / g / f"{g}.00000.wav" for g in ("blues", "disco", "jazz", "metal", "rock")]

# Run inside the reference venv: warm up, time every clip idle, then with one core kept busy.
_REFERENCE = r"""
import json, subprocess, sys, time
import numpy as np
from musicnn.extractor import extractor
files = sys.argv[1:]
def one_pass():
    out = []
    for f in files:
        started = time.perf_counter()
        extractor(f, model="MSD_musicnn", input_length=3, input_overlap=False, extract_features=True)
        out.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(out, 50))
extractor(files[0], model="MSD_musicnn", input_length=3, input_overlap=False, extract_features=True)
idle = one_pass()
spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
try:
    time.sleep(0.3)
    busy = one_pass()
finally:
    spinner.kill()
    spinner.wait()
print(json.dumps({"idle_ms": round(idle, 1), "busy_ms": round(busy, 1), "ratio": round(busy / idle, 2)}))
"""


def reference_env() -> dict[str, str]:
    return {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def run_reference(python: Path, clips: list[Path]) -> dict[str, float]:
    """p50 ms per clip of musicnn's extractor, idle and with one core busy. Raises ``RuntimeError``."""
    result = subprocess.run([str(python), "-c", _REFERENCE, *map(str, clips)], capture_output=True, text=True,
                            env=reference_env(), cwd="/", timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"the reference failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genre_engine.bench_reference", description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"the reference's venv (default: {DEFAULT_VENV})")
    parser.add_argument("--clips", nargs="+", type=Path, default=DEFAULT_CLIPS,
                        help="clips to time (default: five full 30-s GTZAN clips from ../shared)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    python = args.venv / "bin" / "python"
    if not python.is_file():
        print(f"skipped: no reference environment at {args.venv} (see `python -m genre_engine.bench_reference --help`)",
              file=sys.stderr)
        return 0
    print("  musicnn reference (TensorFlow)", file=sys.stderr, flush=True)
    reference = run_reference(python, args.clips)
    print("  genrebot (default engine)", file=sys.stderr, flush=True)
    engine = GenreEngine.from_checkpoint()
    ours = idle_and_busy(lambda: latencies(engine, args.clips), lambda: engine.classify(args.clips[0]))
    result = {"clips": len(args.clips), "load_average_1min": round(os.getloadavg()[0], 2),
              "reference": reference, "genrebot": ours, "genrebot_runtime": engine.runner.runtime,
              "speedup_idle": round(reference["idle_ms"] / ours["idle_ms"], 2),
              "speedup_busy": round(reference["busy_ms"] / ours["busy_ms"], 2)}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"per GTZAN clip, p50 ms over {result['clips']} clips; load average {result['load_average_1min']}")
    print(f"{'':<34} {'idle':>8} {'one core busy':>14} {'ratio':>6}")
    for name, row in ((f"genrebot ({engine.runner.runtime})", ours), ("musicnn reference (TensorFlow)", reference)):
        print(f"{name:<34} {row['idle_ms']:>8} {row['busy_ms']:>14} {row['ratio']:>6}")
    print(f"{'speed-up':<34} {result['speedup_idle']:>7}x {result['speedup_busy']:>13}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
