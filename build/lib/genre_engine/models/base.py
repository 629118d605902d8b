"""The contract every genre network fulfils, so the engine and training never special-case one."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class GenreNet(nn.Module):
    """A network split at its penultimate layer.

    The engine needs the penultimate activations as a song embedding for similarity search, and
    transfer learning needs to swap or freeze parts; one split point serves both.
    Input: features shaped ``[batch, 1, freq, time]``. Output of ``forward``: logits ``[batch, classes]``.
    """

    embedding_dim: int

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations ``[batch, embedding_dim]``."""
        raise NotImplementedError

    def forward_head(self, embedding: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def load_pretrained(self, path: str | Path) -> None:
        """Initialise from converted pretrained weights; only transfer models support it."""
        raise NotImplementedError(f"{type(self).__name__} has no pretrained weights")

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters the optimiser updates; transfer models narrow this to their unfrozen layers."""
        return [p for p in self.parameters() if p.requires_grad]
