"""The compact embedding: a linear projection of the model's embedding, fitted by PCA.

musicnn's 1,756-value embedding costs 7 KiB per song and a pass over 1,756 floats per
comparison; a projection to a few hundred dimensions keeps nearly every song's nearest
neighbours (``python -m studies.projection`` fits it and measures recall@10 on real audio;
the docs' measurements/projection page). The projection sits beside the checkpoint
(``data/model.projection.npz`` for ``data/model.pt``) with the checkpoint's sha256 and the command
that wrote it, and
``GenreEngine.from_checkpoint`` applies it when it fits, so every embedding the bot stores has
the compact size. ``apply`` works on any stack of unit rows of the full size, which is how
pools stored with full embeddings are migrated (``storage`` ``compact_embeddings``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_engine.errors import CheckpointError


def projection_path(checkpoint: str | Path) -> Path:
    """Where a checkpoint's projection lives: beside it, ``<stem>.projection.npz``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(f"{checkpoint.stem}.projection.npz")


@dataclass(frozen=True, eq=False)
class Projection:
    """``x -> unit((x - mean) @ components)``: float32 ``[n, input_dim]`` to ``[n, output_dim]``.

    ``mean``: float32 ``[input_dim]``; ``components``: float32 ``[input_dim, output_dim]``
    (orthonormal columns, the principal axes); ``checkpoint_sha256``: of the checkpoint whose
    embeddings it was fitted on.
    """

    mean: np.ndarray
    components: np.ndarray
    checkpoint_sha256: str

    @property
    def input_dim(self) -> int:
        return int(self.components.shape[0])

    @property
    def output_dim(self) -> int:
        return int(self.components.shape[1])

    def apply(self, embeddings: np.ndarray) -> np.ndarray:
        """Project rows ``[n, input_dim]`` (or one ``[input_dim]``) to unit float32 rows."""
        x = np.asarray(embeddings, dtype=np.float32)
        if x.shape[-1] != self.input_dim:
            raise ValueError(f"expected embeddings of {self.input_dim} values, got {x.shape[-1]}")
        y = (x - self.mean) @ self.components
        return (y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-12)).astype(np.float32)

    def save(self, path: str | Path, command: str | None = None) -> Path:
        """Write ``mean``, ``components``, ``checkpoint_sha256`` and, when given, ``command`` (what wrote
        the file, e.g. ``python -m studies.projection --ship 256``; :meth:`load` does not read it)."""
        path = Path(path)
        written_by = {} if command is None else {"command": np.array(command)}
        with open(path, "wb") as f:  # np.savez would append .npz to a name without it
            np.savez(
                f,
                mean=self.mean,
                components=self.components,
                checkpoint_sha256=np.array(self.checkpoint_sha256),
                **written_by,
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> Projection:
        """Raises ``CheckpointError`` when the file is not a readable projection."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(
                    data["mean"].astype(np.float32),
                    data["components"].astype(np.float32),
                    str(data["checkpoint_sha256"]),
                )
        except (OSError, ValueError, KeyError) as exc:
            raise CheckpointError(
                f"{path} is not a readable embedding projection ({exc.__class__.__name__})."
            ) from None
