"""What a training run computes, as one typed, immutable object.

``TrainConfig`` is what the training library takes (``training.run.run_training``,
``training.fit.fit``, ``training.fit.build_model``); ``python -m training.train`` only turns its
flags into one (``training.options.parse_config``). Every default here is the command's default.

Example::

    from pathlib import Path
    from training.config import ModelConfig, OptimConfig, TrainConfig
    from training.run import run_training

    config = TrainConfig(data=Path("../shared/gtzan/clips"), out=Path("runs/try"),
                         model=ModelConfig("cnn", {"dropout": 0.3}), optim=OptimConfig(epochs=1), device="cpu")
    metrics = run_training(config)          # writes model.pt, metrics.json, ... under runs/try
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genre_engine.features import FeatureConfig
from genre_engine.locations import DEFAULT_CACHE
from training.augment import SpecAugment, WaveAugment


@dataclass(frozen=True)
class ModelConfig:
    """The network: a registered architecture, its arguments, and optional pretrained weights.

    ``arch`` is a name from ``genre_engine.models.model_names()`` (``cnn``, ``resnet18``,
    ``musicnn``); ``args`` are that architecture's keyword arguments (e.g. ``{"head": "mlp"}``);
    ``pretrained`` is a path to converted weights (e.g. ``data/pretrained/MSD_musicnn.pt``).
    Checked when the model is built: ``build_model`` raises ``ConfigError``.
    """

    arch: str = "cnn"
    args: Mapping[str, Any] = field(default_factory=dict)
    pretrained: str | None = None


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with cosine decay over ``epochs``, early-stopped on the validation loss.

    ``lr`` and ``weight_decay`` are AdamW's; ``batch_size`` counts segments per step;
    ``patience`` is the number of epochs without a lower validation loss before stopping
    (0: never stop early).
    """

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-2
    patience: int = 10


@dataclass(frozen=True)
class AugmentConfig:
    """Every augmentation, each off at strength 0: offline waveform copies, SpecAugment, mixup.

    ``mixup_alpha`` is the ``alpha`` of mixup's Beta(alpha, alpha) weight (Zhang et al. 2018).
    """

    wave: WaveAugment = WaveAugment()
    spec: SpecAugment = SpecAugment()
    mixup_alpha: float = 0.0


@dataclass(frozen=True)
class SplitConfig:
    """Which clips train, validate and test (see ``training.data.choose_splits``).

    By default the GTZAN filtered split when the full GTZAN is given, else a seeded stratified
    split holding out ``valid_fraction`` and ``test_fraction`` of each genre (shares in 0-1);
    ``split_dir`` for other lists; ``folds`` > 1 for ``repeats`` x k-fold cross-validation;
    ``full`` to train on every clip with nothing held out.
    """

    split_dir: Path | None = None
    folds: int = 1
    repeats: int = 1
    valid_fraction: float = 0.15
    test_fraction: float = 0.15
    full: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """One training run: labelled audio in ``data`` (``DIR/<genre>/<file>``), outputs in ``out``.

    ``features`` is the engine's front end (stored in the checkpoint); ``seed`` makes the run
    repeatable (split ``i`` of a cross-validation trains with ``seed + i``). The last four
    fields change how a run is carried out, never what it computes, so ``resume`` accepts them
    changed: ``device`` is ``auto``, ``cpu`` or ``cuda``; ``cache_dir`` holds decoded audio
    (``""`` turns the cache off); ``workers`` is the number of processes making augmented copies.
    """

    data: Path
    out: Path
    model: ModelConfig = ModelConfig()
    features: FeatureConfig = FeatureConfig.preset("logmel")
    split: SplitConfig = SplitConfig()
    optim: OptimConfig = OptimConfig()
    augment: AugmentConfig = AugmentConfig()
    seed: int = 0
    resume: bool = False
    device: str = "auto"
    cache_dir: str = str(DEFAULT_CACHE)
    workers: int = min(8, os.cpu_count() or 1)

    def options(self) -> dict[str, Any]:
        """What the run computes, as JSON-able values keyed by ``python -m training.train``'s flags.

        Stored as ``options.json`` (``resume`` refuses a run whose options changed) and in the
        checkpoint's ``extra["options"]``. ``feature_args`` holds the feature settings that differ
        from the preset of ``features`` (``FeatureConfig.preset``).
        """
        preset = FeatureConfig.preset(self.features.kind)
        wave, spec = self.augment.wave, self.augment.spec
        options = {
            "data": str(self.data),
            "seed": self.seed,
            "model": self.model.arch,
            "model_args": dict(self.model.args),
            "pretrained": self.model.pretrained,
            "features": self.features.kind,
            "feature_args": {
                f.name: getattr(self.features, f.name)
                for f in dataclasses.fields(FeatureConfig)
                if getattr(self.features, f.name) != getattr(preset, f.name)
            },
            "split_dir": None if self.split.split_dir is None else str(self.split.split_dir),
            "folds": self.split.folds,
            "repeats": self.split.repeats,
            "valid_fraction": self.split.valid_fraction,
            "test_fraction": self.split.test_fraction,
            "full": self.split.full,
            "epochs": self.optim.epochs,
            "batch_size": self.optim.batch_size,
            "lr": self.optim.lr,
            "weight_decay": self.optim.weight_decay,
            "patience": self.optim.patience,
            "aug_copies": wave.copies,
            "time_stretch": wave.time_stretch,
            "pitch_shift": wave.pitch_shift,
            "hpss_remix": wave.hpss_remix,
            "noise": wave.noise,
            "freq_mask": spec.freq_mask,
            "time_mask": spec.time_mask,
            "mask_count": spec.masks,
            "mixup_alpha": self.augment.mixup_alpha,
        }
        return dict(sorted(options.items()))
