"""``python -m training.train --data DIR --model NAME --epochs N --out OUTDIR``: train a genre model.

Reads labelled audio laid out as ``DIR/<genre>/<file>`` and writes to OUTDIR: ``model.pt`` (the
best model in the engine's checkpoint format, metrics inside), ``metrics.json``, ``loss_curves.png``,
``confusion_matrix.png``, ``command.txt``, and ``last.pt`` to continue an interrupted run with
``--resume``. Split: the fault-filtered GTZAN lists when the full GTZAN is given, a seeded
stratified split otherwise, ``--split-dir`` for other lists, ``--folds K [--repeats R]`` for
cross-validation, or ``--full`` to train the final model on every clip.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from genre_engine.checkpoint import load_checkpoint, save_checkpoint
from genre_engine.features import FEATURE_KINDS, FeatureConfig
from genre_engine.models import model_names
from training.augment import WaveAugment, precompute_copies
from training.data import LabelledAudio, SegmentCache, Split, choose_splits, describe, discover, load_segments
from training.errors import ConfigError, run_cli
from training.fit import TrainingData, build_training_data, fit
from training.metrics import plot_confusion, plot_losses, summarize
from training.runtime import DEVICES, describe_device, make_deterministic, resolve_device

# Options that don't change what a run computes, so --resume accepts them changed.
_RESUME_FREE = {"resume", "device", "workers", "cache_dir", "out"}


def key_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE parsed as JSON when it is JSON (``3``, ``0.5``, ``true``), else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="labelled audio laid out as DIR/<genre>/<file>")
    parser.add_argument("--model", default="cnn", choices=model_names(), help="architecture")
    parser.add_argument("--epochs", type=int, default=30, help="maximum number of epochs")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--features", default="logmel", choices=FEATURE_KINDS, help="input representation")
    parser.add_argument("--feature-arg", dest="feature_args", type=key_value, action="append", default=[],
                        metavar="KEY=VALUE", help="override a feature parameter, e.g. sample_rate=16000 (repeatable)")
    parser.add_argument("--model-arg", dest="model_args", type=key_value, action="append", default=[],
                        metavar="KEY=VALUE", help="architecture option, e.g. head=mlp (repeatable)")
    parser.add_argument("--pretrained", default=None, help="initialise from converted pretrained weights")

    split = parser.add_argument_group("split")
    split.add_argument("--split-dir", type=Path, default=None,
                       help="folder with train_filtered.txt/valid_filtered.txt/test_filtered.txt")
    split.add_argument("--folds", type=int, default=1, help="stratified k-fold cross-validation when > 1")
    split.add_argument("--repeats", type=int, default=1, help="repeats of the k-fold split, reshuffled")
    split.add_argument("--valid-fraction", type=float, default=0.15, help="share of training clips held out for early stopping")
    split.add_argument("--test-fraction", type=float, default=0.15, help="share of clips in the test set of a seeded split")
    split.add_argument("--full", action="store_true", help="train on every clip, no validation: the shipped model")

    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=32)
    opt.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (cosine decay)")
    opt.add_argument("--weight-decay", type=float, default=1e-2)
    opt.add_argument("--patience", type=int, default=10, help="epochs without a better valid loss before stopping (0: never)")
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument("--device", choices=DEVICES, default="auto")
    opt.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")

    aug = parser.add_argument_group("augmentation (a strength of 0 turns one off)")
    aug.add_argument("--aug-copies", type=int, default=0, help="augmented copies of each training clip (waveform effects)")
    aug.add_argument("--time-stretch", type=float, default=0.1, help="largest relative tempo change")
    aug.add_argument("--pitch-shift", type=float, default=2.0, help="largest pitch shift, semitones")
    aug.add_argument("--hpss-remix", type=float, default=0.5, help="largest gain change of harmonic/percussive parts")
    aug.add_argument("--noise", type=float, default=0.05, help="largest noise RMS relative to the clip's")
    aug.add_argument("--freq-mask", type=float, default=0.0, help="SpecAugment: largest share of bins per mask")
    aug.add_argument("--time-mask", type=float, default=0.0, help="SpecAugment: largest share of frames per mask")
    aug.add_argument("--mask-count", type=int, default=2, help="SpecAugment masks of each kind")
    aug.add_argument("--mixup-alpha", type=float, default=0.0, help="mixup Beta(alpha, alpha); 0 turns it off")

    io = parser.add_argument_group("data loading")
    io.add_argument("--cache-dir", default="data/cache", help="decoded-audio cache ('' to turn it off)")
    io.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1), help="processes for augmentation")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    args = get_args_parser().parse_args(argv)
    args.model_args = dict(args.model_args)
    args.feature_args = dict(args.feature_args)
    return args


def feature_config(args: argparse.Namespace) -> FeatureConfig:
    preset = FeatureConfig.preset(args.features)
    known = {f.name for f in dataclasses.fields(FeatureConfig)} - {"kind"}
    unknown = set(args.feature_args) - known
    if unknown:
        raise ConfigError(f"unknown feature parameter {', '.join(sorted(unknown))}; choose from {', '.join(sorted(known))}")
    return dataclasses.replace(preset, **args.feature_args)


def wave_augment(args: argparse.Namespace) -> WaveAugment:
    return WaveAugment(args.aug_copies, args.time_stretch, args.pitch_shift, args.hpss_remix, args.noise)


def load_audio(args: argparse.Namespace, splits_for: Callable[[LabelledAudio], list[Split]], progress: bool = True
               ) -> tuple[LabelledAudio, list[Split], list[np.ndarray], dict[int, list[np.ndarray]]]:
    """Decode (or read from the cache), split, and make the augmented copies of the training clips.

    ``splits_for(data)`` picks the splits once the readable clips are known, so a file skipped as
    unreadable can never shift a split.
    """
    features = feature_config(args)
    cache = SegmentCache(args.cache_dir)
    data, segments = load_segments(discover(args.data), features, cache, progress)
    splits = splits_for(data)
    train_clips = np.unique(np.concatenate([split.train for split in splits]))
    copies = precompute_copies(data, segments, train_clips, features, wave_augment(args), cache, args.seed,
                               args.workers, progress)
    return data, splits, segments, copies


def prepare(args: argparse.Namespace, splits_for: Callable[[LabelledAudio], list[Split]], device: torch.device,
            progress: bool = True) -> tuple[LabelledAudio, list[Split], TrainingData]:
    """``load_audio``, then every segment's features computed on ``device``."""
    data, splits, segments, copies = load_audio(args, splits_for, progress)
    return data, splits, build_training_data(data, segments, copies, feature_config(args), device)


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options that define what a run computes, as JSON-able values."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in sorted(vars(args).items()) if k not in _RESUME_FREE}


def check_resumable(out: Path, options: dict[str, Any], resume: bool) -> None:
    saved = out / "options.json"
    if resume and saved.is_file():
        previous = json.loads(saved.read_text())
        changed = sorted(k for k in previous.keys() | options.keys() if previous.get(k) != options.get(k))
        if changed:
            raise ConfigError(f"{out} holds a run with different {', '.join(changed)}; resume with the same "
                              "options plus --resume, or train into a new --out folder.")
    saved.write_text(json.dumps(options, indent=2))


def _better(report: dict[str, Any], best: dict[str, Any] | None) -> bool:
    loss = report["best_valid_loss"]
    return best is None or (loss is not None and (best["best_valid_loss"] is None or loss < best["best_valid_loss"]))


def write_outputs(out: Path, base: dict[str, Any], splits: list[Split], reports: list[dict[str, Any]],
                  targets: np.ndarray) -> dict[str, Any]:
    """``metrics.json`` and the two figures; with several splits, per split plus mean and std."""
    for split, report in zip(splits, reports):
        report["split"] = describe(split, targets)
    if len(reports) == 1:
        metrics = {**base, **reports[0]}
    else:
        summary = {side: summarize([r[side] for r in reports]) for side in ("valid", "test") if reports[0][side]}
        metrics = {**base, "summary": summary, "folds": reports}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_losses({r["split"]["name"]: r["history"] for r in reports}, out / "loss_curves.png")
    side = next((s for s in ("test", "valid") if reports[0][s]), None)
    if side is not None:
        source = metrics["summary"][side] if len(reports) > 1 else reports[0][side]
        title = f"{side} clips" + (f", summed over {len(reports)} folds" if len(reports) > 1 else "")
        plot_confusion(source["confusion_matrix"], source["labels"], out / "confusion_matrix.png", title)
    return metrics


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = shlex.join(["python", "-m", "training.train", *argv])
    device = resolve_device(args.device)
    make_deterministic(args.seed, device)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    check_resumable(out, run_options(args), args.resume)
    with open(out / "command.txt", "a" if args.resume else "w") as f:
        f.write(command + "\n")

    def splits_for(data: LabelledAudio) -> list[Split]:
        return choose_splits(data, split_dir=args.split_dir, folds=args.folds, repeats=args.repeats, full=args.full,
                             valid_fraction=args.valid_fraction, test_fraction=args.test_fraction, seed=args.seed)

    data, splits, training_data = prepare(args, splits_for, device)
    reports: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    for i, split in enumerate(splits):
        done = out / "splits" / f"{split.name}.json"
        if args.resume and done.is_file():
            report = json.loads(done.read_text())
        else:
            extra = {"command": command, "data": str(data.root), "split": describe(split, data.targets),
                     "seed": args.seed + i, "options": run_options(args)}
            result = fit(args, training_data, split, seed=args.seed + i, state_path=out / "last.pt", extra=extra)
            report = result.report
            if _better(report, best):
                save_checkpoint(out / "model.pt", result.bundle)
            done.parent.mkdir(exist_ok=True)
            done.write_text(json.dumps(report))
        if _better(report, best):
            best = report
        reports.append(report)

    base = {"command": command, "data": str(data.root), "model": args.model, "model_args": args.model_args,
            "pretrained": args.pretrained, "features": training_data.features.to_dict(),
            "labels": list(data.labels), "device": describe_device(device), "model_pt_split": best["split"]}
    metrics = write_outputs(out, base, splits, reports, data.targets)
    if len(splits) > 1:
        bundle = load_checkpoint(out / "model.pt")
        bundle.metrics["cross_validation"] = metrics["summary"]
        save_checkpoint(out / "model.pt", bundle)
    print(summary_line(metrics, out))
    return metrics


def summary_line(metrics: dict[str, Any], out: Path) -> str:
    if "summary" in metrics:
        parts = [f"{side} clip accuracy {s['clip_accuracy']['mean']:.3f} ± {s['clip_accuracy']['std']:.3f} "
                 f"over {s['folds']} folds" for side, s in metrics["summary"].items()]
        seconds = np.mean([f["seconds_per_epoch"] for f in metrics["folds"]])
    else:
        parts = [f"{side}: clip accuracy {metrics[side]['clip_accuracy']:.3f}, segment accuracy "
                 f"{metrics[side]['segment_accuracy']:.3f} ({metrics[side]['n_clips']} clips)"
                 for side in ("valid", "test") if metrics[side]]
        seconds = metrics["seconds_per_epoch"]
    held_out = "; ".join(parts) or "no held-out clips (--full)"
    return f"{held_out}; {seconds:.1f} s per epoch\nwrote {out}/"


if __name__ == "__main__":
    sys.exit(run_cli(main))
