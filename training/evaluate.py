"""``python -m training.evaluate CHECKPOINT --data DIR [--split FILE] [--json]``: score any checkpoint.

Clips are classified by the engine's own code (``GenreEngine.predict_segments`` on the segments the
engine would pick, clip = mean of the probabilities of the segments its early stop keeps), so the
figures here are the figures a user of the bot gets; training reports its validation and test metrics
through the same function.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from genre_engine.checkpoint import load_checkpoint
from genre_engine.engine import GenreEngine
from genre_engine.features import split_segments
from genre_engine.locations import DEFAULT_CACHE
from genre_engine.runtime_torch import TorchModel
from genre_engine.segment_plan import predict_staged
from training.data import (
    LabelledAudio,
    SegmentCache,
    discover,
    load_segments,
    read_split_list,
)
from training.errors import DatasetError, run_cli
from training.metrics import classification_report
from training.runtime import DEVICES, resolve_device

logger = logging.getLogger(__name__)

_CLIPS_PER_PASS = 32  # bounds memory on large evaluation sets


def engine_segments(engine: GenreEngine, segments: np.ndarray) -> np.ndarray:
    """The segments the engine itself analyses for this clip: at most ``max_segments``, evenly spread."""
    return split_segments(np.asarray(segments).reshape(-1), engine.features, engine.max_segments)


def clip_distribution(probs: np.ndarray, min_segments: int, stop_margin: float | None) -> np.ndarray:
    """A clip's distribution ``[classes]`` from its segments' ``[n, classes]`` as the engine forms it:
    the mean over the segments its early stop keeps (``genre_engine.segment_plan.predict_staged``)."""
    _, kept, _ = predict_staged(
        lambda rows: (probs[rows], probs[rows]), len(probs), min_segments=min_segments, stop_margin=stop_margin
    )
    mean = kept.mean(axis=0)
    return mean / mean.sum()


def evaluate_clips(engine: GenreEngine, segments: list[np.ndarray], targets: np.ndarray) -> dict[str, Any]:
    """Classify each clip as ``GenreEngine.classify`` does and score the result."""
    model = engine.runner.bundle.model  # a TorchModel: evaluation scores torch checkpoints
    was_training = model.training
    model.eval()
    clip_probs, segment_probs, segment_true = [], [], []
    for start in range(0, len(segments), _CLIPS_PER_PASS):
        chunk = [engine_segments(engine, s) for s in segments[start : start + _CLIPS_PER_PASS]]
        counts = [len(s) for s in chunk]
        probs, _ = engine.predict_segments(np.concatenate(chunk))
        for clip in np.split(probs, np.cumsum(counts)[:-1]):
            clip_probs.append(clip_distribution(clip, engine.min_segments, engine.stop_margin))
        segment_probs.append(probs)
        segment_true.append(np.repeat(targets[start : start + _CLIPS_PER_PASS], counts))
    model.train(was_training)
    return classification_report(
        engine.labels,
        np.asarray(targets),
        np.stack(clip_probs),
        np.concatenate(segment_true),
        np.concatenate(segment_probs),
    )


def select_clips(data: LabelledAudio, labels: tuple[str, ...], split_file: Path | None) -> LabelledAudio:
    """The clips a checkpoint can be scored on, relabelled in the checkpoint's label order."""
    unknown = sorted({clip.label for clip in data.clips} - set(labels))
    if unknown:
        logger.warning("skipping clips of genres the model doesn't know: %s", ", ".join(unknown))
    clips = [clip for clip in data.clips if clip.label in labels]
    if split_file is not None:
        listed = set(read_split_list(split_file))
        clips = [clip for clip in clips if clip.key in listed]
    if not clips:
        raise DatasetError(
            f"no clips to evaluate under {data.root}"
            + (f" that {split_file} lists." if split_file else " with the model's genres.")
        )
    return LabelledAudio(data.root, labels, tuple(clips))


def format_report(report: dict[str, Any]) -> str:
    labels = report["labels"]
    width = max(len(label) for label in labels)
    lines = [
        f"clips: {report['n_clips']}  segments: {report['n_segments']}",
        f"clip accuracy:    {report['clip_accuracy']:.3f}",
        f"segment accuracy: {report['segment_accuracy']:.3f}",
        "",
        f"{'genre':<{width}}  precision  recall     f1  support",
    ]
    for label in labels:
        c = report["per_class"][label]
        lines.append(f"{label:<{width}}  {c['precision']:9.3f}  {c['recall']:6.3f}  {c['f1']:5.3f}  {c['support']:7d}")
    lines += ["", "confusion matrix (rows: true genre, columns: predicted, in the order above):"]
    lines += ["  " + " ".join(f"{n:3d}" for n in row) for row in report["confusion_matrix"]]
    return "\n".join(lines)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="model checkpoint (model.pt)")
    parser.add_argument("--data", type=Path, required=True, help="labelled audio laid out as DIR/<genre>/<file>")
    parser.add_argument("--split", type=Path, default=None, help="evaluate only the clips this list names")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="decoded-audio cache ('' to turn it off)")
    return parser


def main(args: argparse.Namespace) -> dict[str, Any]:
    bundle = load_checkpoint(args.checkpoint, resolve_device(args.device))
    data = select_clips(discover(args.data), bundle.labels, args.split)
    data, segments = load_segments(data, bundle.features, SegmentCache(args.cache_dir), progress=not args.json)
    report = evaluate_clips(GenreEngine(TorchModel(bundle)), segments, data.targets)
    report = {"checkpoint": str(args.checkpoint), "data": str(args.data), **report}
    print(
        json.dumps(report)
        if args.json
        else f"checkpoint: {args.checkpoint} ({bundle.arch}, {bundle.features.kind})\n{format_report(report)}"
    )
    return report


if __name__ == "__main__":
    sys.exit(run_cli(lambda: main(get_args_parser().parse_args())))
