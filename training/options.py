"""The flags of ``python -m training.train``, parsed into a ``TrainConfig``.

Kept apart from the command itself so that ``training.compare``, whose configurations are
written as training flags, reads them exactly as the command does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from genre_engine.features import FEATURE_KINDS, FeatureConfig
from genre_engine.models import model_names
from training.augment import SpecAugment, WaveAugment
from training.config import (
    AugmentConfig,
    ModelConfig,
    OptimConfig,
    SplitConfig,
    TrainConfig,
)
from training.errors import ConfigError
from training.runtime import DEVICES

DESCRIPTION = "``python -m training.train --data DIR --model NAME --epochs N --out OUTDIR``: train a genre model."

# The flags' defaults are the config's, so the command and the library can't drift apart.
_DEFAULTS = TrainConfig(data=Path(), out=Path())
_SPLIT, _OPTIM, _WAVE, _SPEC = _DEFAULTS.split, _DEFAULTS.optim, _DEFAULTS.augment.wave, _DEFAULTS.augment.spec


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
    parser = argparse.ArgumentParser(
        prog="python -m training.train", description=DESCRIPTION, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="labelled audio laid out as DIR/<genre>/<file>")
    parser.add_argument("--model", default=_DEFAULTS.model.arch, choices=model_names(), help="architecture")
    parser.add_argument("--epochs", type=int, default=_OPTIM.epochs, help="maximum number of epochs")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--features", default=_DEFAULTS.features.kind, choices=FEATURE_KINDS, help="input representation"
    )
    parser.add_argument(
        "--feature-arg",
        dest="feature_args",
        type=key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a feature parameter, e.g. sample_rate=16000 (repeatable)",
    )
    parser.add_argument(
        "--model-arg",
        dest="model_args",
        type=key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="architecture option, e.g. head=mlp (repeatable)",
    )
    parser.add_argument("--pretrained", default=None, help="initialise from converted pretrained weights")

    split = parser.add_argument_group("split")
    split.add_argument(
        "--split-dir",
        type=Path,
        default=None,
        help="folder with train_filtered.txt/valid_filtered.txt/test_filtered.txt",
    )
    split.add_argument("--folds", type=int, default=_SPLIT.folds, help="stratified k-fold cross-validation when > 1")
    split.add_argument("--repeats", type=int, default=_SPLIT.repeats, help="repeats of the k-fold split, reshuffled")
    split.add_argument(
        "--valid-fraction",
        type=float,
        default=_SPLIT.valid_fraction,
        help="share of training clips held out for early stopping",
    )
    split.add_argument(
        "--test-fraction",
        type=float,
        default=_SPLIT.test_fraction,
        help="share of clips in the test set of a seeded split",
    )
    split.add_argument("--full", action="store_true", help="train on every clip, no validation: the shipped model")

    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=_OPTIM.batch_size)
    opt.add_argument("--lr", type=float, default=_OPTIM.lr, help="AdamW learning rate (cosine decay)")
    opt.add_argument("--weight-decay", type=float, default=_OPTIM.weight_decay)
    opt.add_argument(
        "--patience",
        type=int,
        default=_OPTIM.patience,
        help="epochs without a better valid loss before stopping (0: never)",
    )
    opt.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    opt.add_argument("--device", choices=DEVICES, default=_DEFAULTS.device)
    opt.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")

    aug = parser.add_argument_group("augmentation (a strength of 0 turns one off)")
    aug.add_argument(
        "--aug-copies", type=int, default=_WAVE.copies, help="augmented copies of each training clip (waveform effects)"
    )
    aug.add_argument("--time-stretch", type=float, default=_WAVE.time_stretch, help="largest relative tempo change")
    aug.add_argument("--pitch-shift", type=float, default=_WAVE.pitch_shift, help="largest pitch shift, semitones")
    aug.add_argument(
        "--hpss-remix", type=float, default=_WAVE.hpss_remix, help="largest gain change of harmonic/percussive parts"
    )
    aug.add_argument("--noise", type=float, default=_WAVE.noise, help="largest noise RMS relative to the clip's")
    aug.add_argument(
        "--freq-mask", type=float, default=_SPEC.freq_mask, help="SpecAugment: largest share of bins per mask"
    )
    aug.add_argument(
        "--time-mask", type=float, default=_SPEC.time_mask, help="SpecAugment: largest share of frames per mask"
    )
    aug.add_argument("--mask-count", type=int, default=_SPEC.masks, help="SpecAugment masks of each kind")
    aug.add_argument(
        "--mixup-alpha",
        type=float,
        default=_DEFAULTS.augment.mixup_alpha,
        help="mixup Beta(alpha, alpha); 0 turns it off",
    )

    io = parser.add_argument_group("data loading")
    io.add_argument("--cache-dir", default=_DEFAULTS.cache_dir, help="decoded-audio cache ('' to turn it off)")
    io.add_argument("--workers", type=int, default=_DEFAULTS.workers, help="processes for augmentation")
    return parser


def feature_config(kind: str, overrides: dict[str, Any]) -> FeatureConfig:
    """The preset of ``kind`` (``FeatureConfig.preset``) with ``overrides`` applied.

    Raises ``ConfigError`` naming any override that is not a ``FeatureConfig`` field.
    """
    known = {f.name for f in dataclasses.fields(FeatureConfig)} - {"kind"}
    unknown = set(overrides) - known
    if unknown:
        raise ConfigError(
            f"unknown feature parameter {', '.join(sorted(unknown))}; choose from {', '.join(sorted(known))}"
        )
    return dataclasses.replace(FeatureConfig.preset(kind), **overrides)


def parse_config(argv: list[str]) -> TrainConfig:
    """``python -m training.train``'s flags as a ``TrainConfig``.

    Bad flags exit through argparse (status 2, usage on stderr); an unknown ``--feature-arg``
    raises ``ConfigError``.
    """
    args = get_args_parser().parse_args(argv)
    return TrainConfig(
        data=args.data,
        out=args.out,
        model=ModelConfig(args.model, dict(args.model_args), args.pretrained),
        features=feature_config(args.features, dict(args.feature_args)),
        split=SplitConfig(args.split_dir, args.folds, args.repeats, args.valid_fraction, args.test_fraction, args.full),
        optim=OptimConfig(args.epochs, args.batch_size, args.lr, args.weight_decay, args.patience),
        augment=AugmentConfig(
            WaveAugment(args.aug_copies, args.time_stretch, args.pitch_shift, args.hpss_remix, args.noise),
            SpecAugment(args.freq_mask, args.time_mask, args.mask_count),
            args.mixup_alpha,
        ),
        seed=args.seed,
        resume=args.resume,
        device=args.device,
        cache_dir=args.cache_dir,
        workers=args.workers,
    )
