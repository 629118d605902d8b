"""Nearest neighbours by cosine, and how many of them a cheaper embedding keeps (recall@k): the
measure the segments and projection studies share."""

from __future__ import annotations

import numpy as np


def neighbours(embeddings: np.ndarray, k: int = 10) -> np.ndarray:
    """Indices of each row's ``k`` nearest other rows by cosine, ``[n, k]`` (rows unit length)."""
    similarity = embeddings @ embeddings.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def recall_at(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Mean share of each row of ``reference`` ([n, k] indices) found in the same row of ``candidate``."""
    k = reference.shape[1]
    return float(np.mean([len(set(r) & set(c)) / k for r, c in zip(reference, candidate)]))
