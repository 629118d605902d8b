"""Prove the PyTorch musicnn port: its tag probabilities match TensorFlow's on real audio.

    python -m studies.musicnn_port [FILES...] [--variant MSD_musicnn] [--seconds 60] [--tolerance 1e-4]
                                   [--record PATH]

Needs the conversion environment (TensorFlow, tf-keras, musicnn; see the README). The reference
is the musicnn authors' own graph (``musicnn.models.define_model``, restored from the package's
checkpoint the way ``musicnn.extractor`` does) fed with ``musicnn.extractor.batch_data``'s
spectrogram patches, computed in float32: the original casts to float16 before
``log10(10000 x + 1)``, which overflows to ``inf`` on loud passages. Both networks get the same
finite patches. A second column compares the project's ``MusicnnMel`` front end with that
reference spectrogram; it is informational (see ``frontend_difference``). Exits non-zero when a tag
probability differs by more than the tolerance.

By default it checks the first 60 s of every pool song (``--seconds 0``: whole songs, which takes
about three times as long: some 15 minutes for both variants on two cores).

``--write-golden PATH`` stores the reference tags of ``synthetic_signals()`` for the unit tests,
which then check the port without TensorFlow. A check's record goes to
``studies/results/musicnn_port.json`` (``benchmarks.record``), which :func:`render` turns into the
measurement page.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import librosa
import numpy as np
import torch

from benchmarks.markdown import table
from benchmarks.record import STUDY_RESULTS, Recorder, add_record_option
from benchmarks.shared import POOL
from genre_engine.audio import find_audio_files
from genre_engine.features import FeatureConfig
from genre_engine.frontends import MusicnnMel
from genre_engine.models.musicnn import VARIANTS, Musicnn

POOL_DIR = POOL
CONFIG = FeatureConfig.preset("musicnn")
_BATCH = 32


def reference_patches(audio: np.ndarray) -> np.ndarray:
    """``musicnn.extractor.batch_data`` without its float16 cast: ``[patches, 187 frames, 96 mel]``."""
    mel = librosa.feature.melspectrogram(
        y=audio, sr=CONFIG.sample_rate, hop_length=CONFIG.hop_length, n_fft=CONFIG.n_fft, n_mels=CONFIG.n_mels
    ).T
    log_mel = np.log10(10000 * mel.astype(np.float32) + 1)
    n = CONFIG.frames
    starts = range(0, log_mel.shape[0] - n + 1, n)  # non-overlapping, as the extractor's default
    return np.stack([log_mel[s : s + n] for s in starts])


def to_torch_layout(patches: np.ndarray) -> torch.Tensor:
    """``[patches, frames, mel]`` (TF) -> ``[patches, 1, mel, frames]`` (the engine's features)."""
    return torch.from_numpy(np.ascontiguousarray(patches.transpose(0, 2, 1)))[:, None]


def synthetic_signals() -> dict[str, np.ndarray]:
    """Deterministic one-segment test signals: a sweep, chords, drums and a full-scale square wave.

    All four have frames that overflow the original float16 front end, so they also pin the
    float32 one.
    """
    sr, n = CONFIG.sample_rate, CONFIG.segment_samples
    t = np.arange(n) / sr
    sweep = 0.5 * np.sin(2 * np.pi * 50 * (140 ** (t / t[-1]) - 1) * t[-1] / np.log(140))
    beat = (t * 2) % 1  # seconds since the last beat, at 120 bpm
    chord = sum(np.sin(2 * np.pi * f * k * t) / k for f in (220.0, 261.63, 329.63) for k in (1, 2, 3))
    chords = 0.15 * chord * np.exp(-3 * beat)
    noise = np.random.default_rng(0).standard_normal(n)
    drums = 0.6 * np.sin(2 * np.pi * 55 * t) * np.exp(-12 * beat) + 0.2 * noise * np.exp(-30 * ((t * 4) % 1))
    square = np.sign(np.sin(2 * np.pi * 110 * t))
    signals = {"sweep": sweep, "chords": chords, "drums": drums, "square": square}
    return {name: s.astype(np.float32) for name, s in signals.items()}


class TensorflowMusicnn:
    """The authors' graph with their checkpoint; TensorFlow is imported only here."""

    def __init__(self, variant: str) -> None:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"  # musicnn uses tf.compat.v1.layers, gone under Keras 3
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf
        from musicnn import models

        from training.convert_musicnn import package_checkpoint_dir

        tf.compat.v1.disable_eager_execution()
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.x = tf.compat.v1.placeholder(tf.float32, [None, CONFIG.frames, CONFIG.n_mels])
            self.is_training = tf.compat.v1.placeholder(tf.bool)
            logits = models.define_model(self.x, self.is_training, variant, 50)[0]
            self.tags = tf.nn.sigmoid(logits)
            self.session = tf.compat.v1.Session(graph=self.graph)
            tf.compat.v1.train.Saver().restore(self.session, f"{package_checkpoint_dir(variant)}/")

    def tag_probabilities(self, patches: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                self.session.run(self.tags, {self.x: patches[i : i + _BATCH], self.is_training: False})
                for i in range(0, len(patches), _BATCH)
            ]
        )


def torch_tag_probabilities(model: Musicnn, patches: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return np.concatenate(
            [
                model.tag_probabilities(to_torch_layout(patches[i : i + _BATCH])).numpy()
                for i in range(0, len(patches), _BATCH)
            ]
        )


def frontend_difference(frontend: MusicnnMel, audio: np.ndarray, patches: np.ndarray) -> float:
    """Max |difference| between ``MusicnnMel`` on fixed segments and the reference patches.

    Frame 0 of every segment after the first is left out: the reference computes one spectrogram
    over the whole song, so that frame's window reaches 256 samples back into the previous
    segment, where a per-segment front end has only zero padding.
    """
    size = CONFIG.segment_samples
    n = min(len(patches), len(audio) // size)
    with torch.inference_mode():
        ours = frontend(torch.from_numpy(audio[: n * size].reshape(n, size)))[:, 0].numpy()
    theirs = patches[:n].transpose(0, 2, 1)
    diff = np.abs(ours - theirs)
    diff[1:, :, 0] = 0.0
    return float(diff.max())


def load_model(variant: str) -> Musicnn:
    model = Musicnn(10, CONFIG.shape, variant=variant)
    model.load_pretrained()
    return model.eval()


def check(files: list[Path], variants: list[str], tolerance: float, seconds: float | None = None) -> dict:
    """Per variant and file (its first ``seconds``, None: all of it): the largest tag-probability and
    spectrogram differences; printed as they come."""
    frontend = MusicnnMel(CONFIG).eval()
    # the extractor's loading
    audio = {path: librosa.load(path, sr=CONFIG.sample_rate, duration=seconds)[0] for path in files}
    results = {"tolerance": tolerance, "seconds": seconds, "variants": {}}
    for variant in variants:
        reference, model = TensorflowMusicnn(variant), load_model(variant)
        print(f"\n{variant}: {len(files)} files, tolerance {tolerance:g}")
        print(f"{'file':<44} {'patches':>7} {'max|d tag|':>11} {'max|d mel|':>11}")
        rows = []
        for path, samples in audio.items():
            patches = reference_patches(samples)
            if not np.isfinite(patches).all():
                raise ValueError(f"{path}: non-finite reference input")
            diff = float(np.abs(reference.tag_probabilities(patches) - torch_tag_probabilities(model, patches)).max())
            rows.append(
                {
                    "file": _short(path),
                    "patches": len(patches),
                    "tag_diff": diff,
                    "mel_diff": frontend_difference(frontend, samples, patches),
                }
            )
            print(f"{rows[-1]['file']:<44} {len(patches):>7} {diff:>11.2e} {rows[-1]['mel_diff']:>11.2e}")
        worst, total = max(row["tag_diff"] for row in rows), sum(row["patches"] for row in rows)
        print(f"{variant}: max |d tag probability| {worst:.2e} over {total} patches")
        results["variants"][variant] = {"files": rows, "max_tag_diff": worst, "patches": total}
    overall = max(variant["max_tag_diff"] for variant in results["variants"].values())
    results |= {"max_tag_diff": overall, "passed": overall <= tolerance}
    print(
        f"\noverall max |d tag probability| {overall:.2e}: {'PASS' if results['passed'] else 'FAIL'} "
        f"(tolerance {tolerance:g})"
    )
    return results


def render(results: dict) -> str:
    """The measurement page's body: per variant the worst difference, then per file."""
    summary = table(
        ["variant", "files", "patches", "max abs difference of a tag probability"],
        (
            [f"`{name}`", len(variant["files"]), variant["patches"], f"{variant['max_tag_diff']:.2e}"]
            for name, variant in results["variants"].items()
        ),
    )
    span = f"the first {results['seconds']:g} s of each file" if results["seconds"] else "whole files"
    parts = [
        "The PyTorch port of musicnn against its authors' TensorFlow graph (`musicnn.models.define_model`, "
        "restored from the package's checkpoint as `musicnn.extractor` does), both fed the same spectrogram "
        f"patches (`musicnn.extractor.batch_data`'s, computed in float32), on {span}. The port passes when no "
        f"tag probability differs by more than {results['tolerance']:g}: largest difference "
        f"{results['max_tag_diff']:.2e}, {'pass' if results['passed'] else 'FAIL'}.",
        summary,
        "Per file, beside the tag difference, the largest difference between the project's own front end "
        "(`MusicnnMel`, per segment) and the reference spectrogram; informational: the reference computes one "
        "spectrogram over the whole song, so frame edges differ.",
    ]
    for name, variant in results["variants"].items():
        parts += [
            f"`{name}`:",
            table(
                ["file", "patches", "max abs tag difference", "max abs mel difference"],
                ([r["file"], r["patches"], f"{r['tag_diff']:.2e}", f"{r['mel_diff']:.2e}"] for r in variant["files"]),
            ),
        ]
    return "\n\n".join(parts)


def write_golden(path: Path, variants: list[str]) -> None:
    signals = synthetic_signals()
    golden = {}
    for variant in variants:
        reference = TensorflowMusicnn(variant)
        golden[variant] = {
            name: reference.tag_probabilities(reference_patches(s))[0].tolist() for name, s in signals.items()
        }
    path.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote reference tags of {len(signals)} signals x {len(variants)} variants to {path}")


def _short(path: Path) -> str:
    name = f"{path.parent.name}/{path.name}"
    return name if len(name) <= 44 else name[:41] + "..."


def main(argv: list[str] | None = None) -> int:
    recorder = Recorder(
        "musicnn_port", "The musicnn port against TensorFlow", "studies.musicnn_port", argv, STUDY_RESULTS
    )
    parser = argparse.ArgumentParser(prog="python -m studies.musicnn_port", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help=f"audio files or folders (default: {POOL_DIR})")
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="repeatable; default: every variant")
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="check the first SECONDS of each file (default 60; 0: all)"
    )
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument(
        "--write-golden",
        type=Path,
        metavar="PATH",
        help="write the reference tags of the synthetic test signals instead of checking files",
    )
    add_record_option(parser)
    args = parser.parse_args(argv)
    variants = args.variant or list(VARIANTS)
    if args.write_golden:
        write_golden(args.write_golden, variants)
        return 0
    files = find_audio_files(args.files or [POOL_DIR])
    if not files:
        parser.error("no audio files found")
    results = check(files, variants, args.tolerance, args.seconds or None)
    recorder.write(results, args.record)
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
