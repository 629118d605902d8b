"""Choosing what runs a model: its ONNX export through ONNX Runtime (no torch) or the checkpoint through torch.

Kept apart from ``checkpoint`` (the file format) so that the torch runner can import ``ModelBundle``
without a cycle.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from genre_engine.checkpoint import (
    DEFAULT_CHECKPOINT,
    export_path,
    file_sha256,
    load_checkpoint,
    torch_available,
)
from genre_engine.errors import CheckpointError
from genre_engine.features import FeatureConfig

logger = logging.getLogger(__name__)

RUNTIMES = ("auto", "onnx", "torch")


class SegmentModel(Protocol):
    """What the engine runs: ``TorchModel`` (``runtime_torch``) or ``OnnxModel`` (``runtime_onnx``)."""

    runtime: str
    features: FeatureConfig
    labels: tuple[str, ...]
    embedding_dim: int
    n_tags: int  # tags of the tagger the network also is (musicnn: 50), 0 if none
    model_args: dict[str, Any]

    def predict(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 ``[n, samples]`` -> probabilities ``[n, classes]``, embeddings ``[n, dim]``."""
        ...

    def predict_tagged(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:meth:`predict` plus the tag probabilities ``[n, n_tags]`` (None when ``n_tags`` is 0)."""
        ...


def load_runner(
    path: str | Path | None = None, device: str = "cpu", runtime: str = "auto", **onnx_options: Any
) -> SegmentModel:
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
            raise CheckpointError(
                f"{export} was exported from another checkpoint than {path}; "
                f"regenerate it with `python -m training.export {path}`."
            )
        logger.warning("%s is stale (exported from another checkpoint); running %s with torch", export, path)
    elif runtime == "onnx":
        raise CheckpointError(
            f"No ONNX export of {path} at {export}; create it with `python -m training.export {path}`."
        )
    bundle = load_checkpoint(path, device)  # first: without torch it says what to install
    from genre_engine.runtime_torch import TorchModel

    return TorchModel(bundle, file_sha256(path))


def _onnx_model(path: Path, **onnx_options: Any) -> SegmentModel:
    from genre_engine.runtime_onnx import OnnxModel

    if not path.is_file():
        raise CheckpointError(f"No ONNX model at {path}.")
    return OnnxModel(path, **onnx_options)
