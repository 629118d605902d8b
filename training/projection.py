"""Fit a model's compact embedding: PCA of its unit per-segment embeddings on real audio.

The engine applies the result (``genre_engine.projection``) to every embedding it hands out, so the
store and the recommender handle a few hundred floats per song instead of the model's full
embedding. ``python -m studies.projection`` measures how many nearest neighbours each size keeps
and writes the shipped projection with this function.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from genre_engine import GenreEngine
from genre_engine.projection import Projection


def unit(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit L2 length (all-zero rows stay zero)."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def segment_embeddings(engine: GenreEngine, paths: Iterable[Path]) -> list[np.ndarray]:
    """Per file: its unit per-segment embeddings ``[segments, D]`` (``engine`` built with ``compact=False``)."""
    rows = []
    for path in paths:
        _, embeddings = engine.predict_segments(engine.decode(path).samples)
        rows.append(unit(embeddings))
    return rows


def fit_pca(rows: np.ndarray, dim: int, sha: str, *, centred: bool = False) -> Projection:
    """The ``dim`` principal axes of ``rows`` ``[n, D]`` as a :class:`Projection` for the checkpoint
    whose sha256 is ``sha``. Uncentred by default (axes of the second moment, no mean removed):
    centring changes which songs are nearest by cosine (``python -m studies.projection`` compares)."""
    mean = rows.mean(axis=0) if centred else np.zeros(rows.shape[1], rows.dtype)
    _, _, vt = np.linalg.svd(rows - mean, full_matrices=False)
    return Projection(mean.astype(np.float32), np.ascontiguousarray(vt[:dim].T, dtype=np.float32), sha)


COMPACT_DIM = 256  # the compact embedding's size (python -m studies.projection measures it against others)


def fit_projection(engine: GenreEngine, segments: Iterable[np.ndarray], sha: str, dim: int = COMPACT_DIM) -> Projection:
    """The compact projection for ``engine``'s model (``compact=False``; the checkpoint's sha256 is
    ``sha``), fitted on the unit embeddings of ``segments`` (one ``[n, samples]`` array per clip, as
    training decoded them)."""
    rows = [unit(engine.predict_segments(np.asarray(clip))[1]) for clip in segments]
    return fit_pca(np.concatenate(rows), dim, sha)
