"""Training on one split: features on the device, the optimisation loop, early stopping, resumable state.

Features of every segment are computed once, in batches on the training device, and kept there;
an epoch is then only indexing, masking and the network, with no host round trip per step (the
epoch's loss is read back once). Validation and test go through the engine's own inference code.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from genre_engine.checkpoint import ModelBundle
from genre_engine.engine import GenreEngine
from genre_engine.features import FeatureConfig
from genre_engine.files import atomic_write
from genre_engine.frontends import build_frontend
from genre_engine.models import GenreNet, create_model
from genre_engine.runtime_torch import TorchModel
from training.augment import mixup, spec_augment
from training.config import AugmentConfig, ModelConfig, TrainConfig
from training.data import LabelledAudio, Split
from training.errors import ConfigError
from training.evaluate import evaluate_clips
from training.runtime import amp_dtype

_FEATURE_BATCH = 256  # segments per front-end pass while building the feature table


@dataclass
class TrainingData:
    """What every split of one configuration trains and evaluates on, prepared once."""

    labels: tuple[str, ...]
    features: FeatureConfig
    targets: np.ndarray  # label index per clip
    segments: list[np.ndarray]  # original waveform segments per clip, for engine-path evaluation
    table: torch.Tensor  # [rows, 1, freq, frames] features of every original and augmented segment
    row_clip: torch.Tensor  # [rows] clip index of each row
    row_original: torch.Tensor  # [rows] False for rows of augmented copies

    def rows_of(self, clips: np.ndarray) -> torch.Tensor:
        return torch.isin(self.row_clip, torch.as_tensor(clips, device=self.row_clip.device)).nonzero().squeeze(1)


def _chunks(arrays: list[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Rows of many small arrays regrouped into batches of ``size`` (the last may be smaller)."""
    pending: list[np.ndarray] = []
    count = 0
    for array in arrays:
        for start in range(0, len(array), size):
            piece = array[start : start + size]
            pending.append(piece)
            count += len(piece)
            if count >= size:
                yield np.concatenate(pending)
                pending, count = [], 0
    if pending:
        yield np.concatenate(pending)


@torch.no_grad()
def build_training_data(
    data: LabelledAudio,
    segments: list[np.ndarray],
    copies: dict[int, list[np.ndarray]],
    features: FeatureConfig,
    device: torch.device,
) -> TrainingData:
    """Features of every segment of ``segments`` (one ``[n, samples]`` array per clip of ``data``)
    and of the augmented ``copies`` (clip index -> arrays of the same form), computed once on
    ``device`` with the front end ``features`` describes."""
    sources = [(i, s, True) for i, s in enumerate(segments)]
    sources += [(i, c, False) for i, clip_copies in copies.items() for c in clip_copies]
    frontend = build_frontend(features).to(device)
    table = torch.cat(
        [
            frontend(torch.from_numpy(np.ascontiguousarray(batch)).to(device))
            for batch in _chunks([s for _, s, _ in sources], _FEATURE_BATCH)
        ]
    )
    row_clip = torch.as_tensor(np.concatenate([np.full(len(s), i) for i, s, _ in sources]), device=device)
    row_original = torch.as_tensor(np.concatenate([np.full(len(s), o) for _, s, o in sources]), device=device)
    return TrainingData(data.labels, features, data.targets, segments, table, row_clip, row_original)


@torch.no_grad()
def input_statistics(data: TrainingData, clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frequency-bin mean and std over the original segments of the training clips only."""
    rows = data.rows_of(clips)
    rows = rows[data.row_original[rows]]
    total = torch.zeros(data.features.freq_bins, dtype=torch.float64, device=data.table.device)
    squares = torch.zeros_like(total)
    for chunk in rows.split(1024):
        x = data.table[chunk].double()
        total += x.sum(dim=(0, 1, 3))
        squares += x.square().sum(dim=(0, 1, 3))
    count = len(rows) * data.table.shape[-1]
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(0).sqrt().clamp_min(1e-3)  # a constant bin stays finite
    return mean.float(), std.float()


def build_model(config: ModelConfig, n_classes: int, features: FeatureConfig) -> GenreNet:
    """The network ``config`` names, sized for ``n_classes`` and inputs of ``features.shape``.

    Takes ``[batch, 1, freq_bins, frames]`` features and returns ``[batch, n_classes]`` logits;
    starts from ``config.pretrained`` when given. Raises ``ConfigError`` for an unknown
    architecture, arguments it does not take, or pretrained weights that are missing or don't fit.
    """
    try:
        model = create_model(config.arch, n_classes, features.shape, **config.args)
        if config.pretrained:
            model.load_pretrained(config.pretrained)
    except (ValueError, TypeError, NotImplementedError, FileNotFoundError) as exc:
        raise ConfigError(
            f"cannot build model {config.arch!r} with {dict(config.args) or 'default arguments'}: {exc}"
        ) from None
    return model


def train_one_epoch(
    model: GenreNet,
    bundle: ModelBundle,
    data: TrainingData,
    rows: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    batch_size: int,
    augment: AugmentConfig,
    generator: torch.Generator,
    rng: np.random.Generator,
    progress: bool,
) -> torch.Tensor:
    """One pass over the training rows; returns the mean loss as a device tensor (read once by the caller)."""
    model.train()
    device = data.table.device
    dtype = amp_dtype(device)
    spec = augment.spec
    targets = torch.as_tensor(data.targets, device=device)
    batches = list(rows[torch.randperm(len(rows), generator=generator, device=device)].split(batch_size))
    if len(batches) > 1 and len(batches[-1]) < 2:
        batches.pop()  # batch norm can't train on a batch of one
    total = torch.zeros((), device=device)
    seen = 0
    for index in tqdm(batches, desc="steps", unit="batch", leave=False, disable=not progress):
        x = bundle.normalize(data.table[index])
        y = targets[data.row_clip[index]]
        if spec.enabled:
            x = spec_augment(x, spec, generator)
        partner, lam = y, 1.0
        if augment.mixup_alpha > 0:
            x, partner, lam = mixup(x, y, augment.mixup_alpha, rng, generator)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(x).float()
        loss = lam * F.cross_entropy(logits, y) + (1.0 - lam) * F.cross_entropy(logits, partner)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        total += loss.detach() * len(index)
        seen += len(index)
    return total / max(seen, 1)


@dataclass
class FitResult:
    """What ``fit`` returns: the best model of one split and its report."""

    bundle: ModelBundle  # best weights, metrics inside; ready for GenreEngine or save_checkpoint
    report: dict[str, Any]  # per-split metrics for metrics.json


class _State:
    """Everything needed to continue a split exactly where it stopped."""

    def __init__(self) -> None:
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_loss = math.inf
        self.best_epoch = 0
        self.stale = 0


def fit(
    config: TrainConfig,
    data: TrainingData,
    split: Split,
    *,
    seed: int,
    state_path: Path | None = None,
    progress: bool = True,
    extra: dict[str, Any] | None = None,
) -> FitResult:
    """Train on ``split.train``, early-stop on ``split.valid`` (if any), score valid and test.

    Uses ``config.model``, ``config.optim`` (at most ``epochs`` epochs; stops after ``patience``
    epochs without a lower valid loss), ``config.augment`` (SpecAugment and mixup; waveform
    copies are already in ``data``) and ``config.resume``; ``data`` and ``split`` come from
    ``training.run.prepare``. ``seed`` seeds the initial weights, the batch order and every mask.
    With ``state_path``, the state after every epoch is written there and, when
    ``config.resume`` is set and the file belongs to this split, training continues from it.

    Returns the weights of the epoch with the lowest valid loss (the last epoch without a valid
    side) with the engine-path metrics of ``split.valid`` and ``split.test`` (``None`` for an
    empty side): see ``FitResult``. Raises ``ConfigError`` when the model can't be built.
    """
    device = data.table.device
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    generator = torch.Generator(device).manual_seed(seed)
    model = build_model(config.model, len(data.labels), data.features).to(device)
    if config.model.pretrained:
        # A pretrained network was trained on its own front end's raw scale (musicnn normalises
        # inside the network), so it gets identity statistics rather than ours.
        mean = torch.zeros(data.features.freq_bins, device=device)
        std = torch.ones(data.features.freq_bins, device=device)
    else:
        mean, std = input_statistics(data, split.train)
    bundle = ModelBundle(
        model,
        config.model.arch,
        dict(config.model.args),
        data.features,
        data.labels,
        mean,
        std,
        extra=dict(extra or {}),
    )
    engine = GenreEngine(TorchModel(bundle))
    optim = config.optim
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=optim.lr, weight_decay=optim.weight_decay)
    stateful = {
        "model": model,
        "optimizer": optimizer,
        "scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=optim.epochs),
        "scaler": torch.amp.GradScaler(device.type, enabled=amp_dtype(device) == torch.float16),
    }
    rows = data.rows_of(split.train)
    state = _State()
    if state_path is not None and config.resume and state_path.is_file():
        _restore(state_path, split, state, stateful, generator, rng, device)

    epochs = tqdm(
        range(state.epoch, optim.epochs),
        desc=f"training ({split.name} split)",
        unit="epoch",
        disable=not progress,
        initial=state.epoch,
        total=optim.epochs,
    )
    for epoch in epochs:
        if len(split.valid) and optim.patience > 0 and state.stale >= optim.patience:
            break
        started = time.perf_counter()
        loss = train_one_epoch(
            model,
            bundle,
            data,
            rows,
            optimizer,
            stateful["scaler"],
            optim.batch_size,
            config.augment,
            generator,
            rng,
            progress,
        )
        stateful["scheduler"].step()
        valid = _score(engine, data, split.valid)
        record = {
            "epoch": epoch + 1,
            "train_loss": float(loss),
            "valid_loss": valid["loss"] if valid else None,
            "valid_clip_accuracy": valid["clip_accuracy"] if valid else None,
            "seconds": time.perf_counter() - started,
        }
        state.history.append(record)
        state.epoch = epoch + 1
        # Without a validation split there is nothing to select on: the last epoch is the model.
        if valid is None or valid["loss"] < state.best_loss:
            state.best_loss = valid["loss"] if valid else math.inf
            state.best_state = copy.deepcopy(model.state_dict())
            state.best_epoch = epoch + 1
            state.stale = 0
        else:
            state.stale += 1
        epochs.set_postfix({k: f"{v:.3f}" for k, v in record.items() if k != "epoch" and v is not None})
        if state_path is not None:
            _save(state_path, split, state, stateful, generator, rng, device)
    epochs.close()

    model.load_state_dict(state.best_state)
    report: dict[str, Any] = {
        "split": split.name,
        "best_epoch": state.best_epoch,
        "epochs_run": state.epoch,
        "best_valid_loss": state.best_loss if len(split.valid) else None,
        "seconds_per_epoch": float(np.mean([h["seconds"] for h in state.history])),
        "valid": _score(engine, data, split.valid),
        "test": _score(engine, data, split.test),
    }
    bundle.metrics = dict(report)
    report["history"] = state.history
    model.eval()
    return FitResult(bundle, report)


def _score(engine: GenreEngine, data: TrainingData, clips: np.ndarray) -> dict[str, Any] | None:
    """Engine-path metrics of ``clips``; None for an empty side of a split."""
    if not len(clips):
        return None
    return evaluate_clips(engine, [data.segments[i] for i in clips], data.targets[clips])


def _save(
    path: Path,
    split: Split,
    state: _State,
    stateful: dict[str, Any],
    generator: torch.Generator,
    rng: np.random.Generator,
    device: torch.device,
) -> None:
    payload = {
        "split": split.name,
        **vars(state),
        **{name: obj.state_dict() for name, obj in stateful.items()},
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "numpy_rng": rng.bit_generator.state,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:  # an interrupted write never corrupts the state a resume needs
        torch.save(payload, tmp)


def _restore(
    path: Path,
    split: Split,
    state: _State,
    stateful: dict[str, Any],
    generator: torch.Generator,
    rng: np.random.Generator,
    device: torch.device,
) -> None:
    """Continue from ``path`` when it holds this split's state (another split's is left alone)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved["split"] != split.name:
        return
    for name, obj in stateful.items():
        obj.load_state_dict(saved[name])
    generator.set_state(saved["generator"])
    torch.set_rng_state(saved["torch_rng"])
    if device.type == "cuda":
        torch.cuda.set_rng_state(saved["cuda_rng"], device)
    rng.bit_generator.state = saved["numpy_rng"]
    for name in vars(state):
        setattr(state, name, saved[name])
