"""One file holds everything needed to run a model, so a checkpoint can never meet the wrong front end.

Stored with ``torch.save`` as plain containers and tensors and read back with
``weights_only=True``: loading a checkpoint someone shared never executes code from it.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from genre_engine.errors import CheckpointError
from genre_engine.features import FeatureConfig
from genre_engine.files import atomic_write
from genre_engine.models import GenreNet, create_model

FORMAT = "genrebot-checkpoint"
VERSION = 1
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "data" / "model.pt"


@dataclass
class ModelBundle:
    """A ready-to-run model with everything that must travel with it."""

    model: GenreNet
    arch: str
    model_args: dict[str, Any]
    features: FeatureConfig
    labels: tuple[str, ...]
    mean: torch.Tensor  # [freq_bins] input normalisation
    std: torch.Tensor  # [freq_bins]
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def normalize(self, features: torch.Tensor) -> torch.Tensor:
        """``[batch, 1, freq, frames]`` standardised per frequency bin with the training statistics."""
        return (features - self.mean[:, None]) / self.std[:, None]


def save_checkpoint(path: str | Path, bundle: ModelBundle) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "arch": bundle.arch,
        "model_args": dict(bundle.model_args),
        "features": bundle.features.to_dict(),
        "labels": list(bundle.labels),
        "mean": bundle.mean.detach().cpu().float(),
        "std": bundle.std.detach().cpu().float(),
        "state_dict": {k: v.detach().cpu() for k, v in bundle.model.state_dict().items()},
        "metrics": bundle.metrics,
        "extra": bundle.extra,
    }
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | Path | None = None, device: str | torch.device = "cpu") -> ModelBundle:
    path = Path(path) if path is not None else DEFAULT_CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"No model checkpoint at {path}.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable genrebot checkpoint ({exc.__class__.__name__}).") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a genrebot checkpoint.")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')}; this engine reads {VERSION}.")
    features = FeatureConfig.from_dict(payload["features"])
    labels = tuple(payload["labels"])
    try:
        model = create_model(payload["arch"], len(labels), features.shape, **payload["model_args"])
        model.load_state_dict(payload["state_dict"])
    except (ValueError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"{path} does not fit model {payload['arch']!r}: {exc}") from None
    model.to(device).eval()
    return ModelBundle(
        model=model,
        arch=payload["arch"],
        model_args=payload["model_args"],
        features=features,
        labels=labels,
        mean=payload["mean"].to(device),
        std=payload["std"].to(device),
        metrics=payload.get("metrics", {}),
        extra=payload.get("extra", {}),
    )
