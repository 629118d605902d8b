"""``TorchModel``: a checkpoint run by PyTorch (training, evaluation, GPUs, checkpoints without an export).

Needs the ``train`` extra (torch). The engine uses it only when no ONNX export fits the checkpoint,
or when asked for it (``runtime="torch"``, a CUDA device).
"""

from __future__ import annotations

import numpy as np
import torch

from genre_engine.checkpoint import ModelBundle, held_out_accuracy
from genre_engine.frontends import build_frontend


class TorchModel:
    """Waveform segments in, ``(probabilities [n, classes], embeddings [n, dim])`` out, with torch
    (and, for a network that is also a tagger, its tag probabilities: :meth:`predict_tagged`).

    The front end, the input normalisation and the network all run on the bundle's device.
    """

    runtime = "torch"

    def __init__(self, bundle: ModelBundle, checkpoint_sha256: str | None = None) -> None:
        """``checkpoint_sha256``: of the file the bundle was read from (None: a model not saved yet)."""
        self.bundle = bundle
        self.checkpoint_sha256 = checkpoint_sha256
        self.accuracy = held_out_accuracy(bundle.metrics)
        self.features = bundle.features
        self.labels = bundle.labels
        self.embedding_dim = bundle.model.embedding_dim
        self.n_tags = bundle.model.n_tags
        self.model_args = bundle.model_args
        self._device = bundle.mean.device
        self._frontend = build_frontend(bundle.features).to(self._device).eval()

    def predict(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``segments``: float32 ``[n, samples]`` at ``features.sample_rate``."""
        probs, embeddings, _ = self.predict_tagged(segments)
        return probs, embeddings

    @torch.inference_mode()
    def predict_tagged(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:meth:`predict` plus the network's tag probabilities ``[n, n_tags]`` from the same pass
        (``GenreNet.forward_features_and_tags``), or None for a network without a tagger."""
        batch = torch.from_numpy(np.ascontiguousarray(segments, dtype=np.float32)).to(self._device)
        features = self.bundle.normalize(self._frontend(batch))
        embedding, tags = self.bundle.model.forward_features_and_tags(features)
        probs = torch.softmax(self.bundle.model.forward_head(embedding).float(), dim=1)
        return (
            probs.cpu().numpy(),
            embedding.float().cpu().numpy(),
            None if tags is None else tags.float().cpu().numpy(),
        )
