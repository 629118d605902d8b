"""One file holds everything needed to run a model, so a checkpoint can never meet the wrong front end.

Stored with ``torch.save`` as plain containers and tensors and read back with
``weights_only=True``: loading a checkpoint someone shared never executes code from it.

Serving does not need torch: ``load_runner`` picks the checkpoint's ONNX export (``model.onnx``
beside ``model.pt``, written by ``python -m training.export``) when it was exported from that very
checkpoint, and only falls back to torch (the ``train`` extra) when there is no fitting export or
torch is asked for. torch is imported on first use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from genre_engine.errors import CheckpointError
from genre_engine.features import FeatureConfig

if TYPE_CHECKING:
    import torch

    from genre_engine.models import GenreNet

logger = logging.getLogger(__name__)

FORMAT = "genrebot-checkpoint"
VERSION = 1
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "data" / "model.pt"
RUNTIMES = ("auto", "onnx", "torch")


class SegmentModel(Protocol):
    """What the engine runs: ``TorchModel`` (``runtime_torch``) or ``OnnxModel`` (``runtime_onnx``)."""

    runtime: str
    features: FeatureConfig
    labels: tuple[str, ...]
    embedding_dim: int

    def predict(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 ``[n, samples]`` -> probabilities ``[n, classes]``, embeddings ``[n, dim]``."""
        ...


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
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # a crash mid-write never leaves a truncated checkpoint behind
    return path


def load_checkpoint(path: str | Path | None = None, device: str | torch.device = "cpu") -> ModelBundle:
    """Read a torch checkpoint (needs torch). Raises ``CheckpointError``."""
    path = Path(path) if path is not None else DEFAULT_CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"No model checkpoint at {path}.")
    if not torch_available():
        raise CheckpointError(f"{path} is a torch checkpoint with no ONNX export beside it, and torch is not "
                              f"installed: install genrebot[train], or export it with `python -m training.export {path}` "
                              "where torch is.")
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
    return importlib.util.find_spec("torch") is not None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_path(checkpoint: str | Path) -> Path:
    """Where ``python -m training.export`` puts a checkpoint's ONNX export: beside it, ``.onnx``."""
    return Path(checkpoint).with_suffix(".onnx")


def load_runner(path: str | Path | None = None, device: str = "cpu", runtime: str = "auto", **onnx_options: Any) -> SegmentModel:
    """The model for ``path`` (default: the shipped ``data/model.pt``), ready to run.

    ``path`` may be a torch checkpoint (``.pt``) or an ONNX export (``.onnx``). ``runtime``:
    ``"auto"`` runs the checkpoint's export through ONNX Runtime when one fits it (same sha256 in
    its metadata) and the device is the CPU, else torch; ``"onnx"`` and ``"torch"`` insist.
    ``onnx_options`` go to ``OnnxModel`` (threads, spinning, sessions).
    Raises ``CheckpointError`` when no usable model is there.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    path = Path(path) if path is not None else DEFAULT_CHECKPOINT
    if path.suffix == ".onnx":
        if runtime == "torch":
            raise CheckpointError(f"{path} is an ONNX export; torch runs the .pt checkpoint it came from.")
        return _onnx_model(path, **onnx_options)
    export = export_path(path)
    wants_onnx = runtime == "onnx" or (runtime == "auto" and str(device) == "cpu")
    if wants_onnx and export.is_file():
        model = _onnx_model(export, **onnx_options)
        if not path.is_file() or model.checkpoint_sha256 == file_sha256(path):
            return model
        if runtime == "onnx" or not torch_available():
            raise CheckpointError(f"{export} was exported from another checkpoint than {path}; "
                                  f"regenerate it with `python -m training.export {path}`.")
        logger.warning("%s is stale (exported from another checkpoint); running %s with torch", export, path)
    elif runtime == "onnx":
        raise CheckpointError(f"No ONNX export of {path} at {export}; create it with `python -m training.export {path}`.")
    bundle = load_checkpoint(path, device)  # first: without torch it says what to install
    from genre_engine.runtime_torch import TorchModel

    return TorchModel(bundle)


def _onnx_model(path: Path, **onnx_options: Any) -> SegmentModel:
    from genre_engine.runtime_onnx import OnnxModel

    if not path.is_file():
        raise CheckpointError(f"No ONNX model at {path}.")
    return OnnxModel(path, **onnx_options)
