"""One file holds everything needed to run a model, so a checkpoint can never meet the wrong front end.

Stored with ``torch.save`` as plain containers and tensors and read back with
``weights_only=True``: loading a checkpoint someone shared never executes code from it.

Serving does not need torch: ``genre_engine.runners.load_runner`` picks the checkpoint's ONNX export (``model.onnx``
beside ``model.pt``, written by ``python -m training.export``) when it was exported from that very
checkpoint, and only falls back to torch (the ``train`` extra) when there is no fitting export or
torch is asked for. torch is imported on first use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genre_engine.errors import CheckpointError
from genre_engine.features import FeatureConfig
from genre_engine.files import atomic_write
from genre_engine.locations import DATA_DIR

if TYPE_CHECKING:
    import torch

    from genre_engine.models import GenreNet


FORMAT = "genrebot-checkpoint"
VERSION = 1
DEFAULT_CHECKPOINT = DATA_DIR / "model.pt"


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
    import torch

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
    """Read a torch checkpoint (needs torch) into a ready-to-run :class:`ModelBundle` on ``device``.

    ``path``: a file written by :func:`save_checkpoint`, or None for the shipped
    ``data/model.pt`` (``DEFAULT_CHECKPOINT``). The bundle carries the model (in eval mode), its
    ``FeatureConfig`` (sample rate, FFT, segment length), ``labels`` (the output order, the ten
    GTZAN genres for the shipped model), the input normalisation ``mean``/``std`` ``[freq_bins]``
    and the training metrics. Read with ``weights_only=True``: no code in the file is run.

    Raises ``CheckpointError`` (its text says how to get a working checkpoint) when the file is
    missing, is not a readable torch file, is not a genrebot checkpoint, has another format
    version, or its weights do not fit the named architecture.

    Example::

        bundle = load_checkpoint()                  # the shipped model
        engine = GenreEngine(TorchModel(bundle))    # or GenreEngine.from_checkpoint(path)
    """
    path = Path(path) if path is not None else DEFAULT_CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"No model checkpoint at {path}.")
    if not torch_available():
        raise CheckpointError(
            f"{path} is a torch checkpoint with no ONNX export beside it, and torch is not "
            f"installed: install genrebot[train], or export it with `python -m training.export {path}` "
            "where torch is."
        )
    import torch

    from genre_engine.models import create_model

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


def torch_available() -> bool:
    """Whether torch can be imported here (the ``train`` extra); a finder that refuses it counts as absent."""
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:
        return False


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_path(checkpoint: str | Path) -> Path:
    """Where ``python -m training.export`` puts a checkpoint's ONNX export: beside it, ``.onnx``."""
    return Path(checkpoint).with_suffix(".onnx")


def held_out_accuracy(metrics: dict[str, Any]) -> dict[str, float]:
    """``{"valid": ..., "test": ...}``: the clip accuracy of each held-out split a training record
    (``ModelBundle.metrics``, ``metrics.json``) has; empty for a model trained on every clip."""
    found = {}
    for split in ("valid", "test"):
        scored = metrics.get(split)
        if isinstance(scored, dict) and isinstance(scored.get("clip_accuracy"), int | float):
            found[split] = float(scored["clip_accuracy"])
    return found
