"""Embedding similarity: nearest songs and the near-duplicate guard.

Embeddings are unit length (the store normalises them), so cosine similarity is a dot product.
"""

from __future__ import annotations

import numpy as np


def cosine(embeddings: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row to ``query`` (unit vectors).

    einsum rather than ``@``: OpenBLAS's threaded matrix-vector product is up to ten times slower
    on these shapes (hundreds of rows by a wide embedding, or a whole pool) on a small busy machine.
    """
    return np.einsum("nd,d->n", embeddings, query.astype(embeddings.dtype, copy=False))


def nearest(
    embeddings: np.ndarray,
    query: np.ndarray,
    count: int,
    *,
    excluded: np.ndarray | None = None,
    dedup_threshold: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the ``count`` songs most similar to ``query`` and their similarities, best first.

    Rows in ``excluded`` (a boolean mask) are skipped, and so is any song whose similarity to the
    query or to an already chosen song is above ``dedup_threshold``: a re-upload of the same
    recording is not "more like this".
    """
    similarity = cosine(embeddings, query)
    allowed = similarity <= dedup_threshold
    if excluded is not None:
        allowed &= ~excluded
    rows = np.flatnonzero(allowed)
    # a few spare candidates, since near-duplicates among them are dropped below
    spare = min(rows.size, 3 * count)
    if spare == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    top = rows[np.argpartition(-similarity[rows], spare - 1)[:spare]]
    top = top[np.argsort(-similarity[top], kind="stable")]
    rows_out = choose_distinct(embeddings, top, count, dedup_threshold)
    return rows_out, similarity[rows_out]


def choose_distinct(embeddings: np.ndarray, ranked: np.ndarray, count: int, dedup_threshold: float) -> np.ndarray:
    """The first ``count`` of the ``ranked`` rows (best first) that are not near-duplicates (cosine
    above ``dedup_threshold``) of a row chosen before them."""
    chosen: list[int] = []
    for row in ranked:
        if len(chosen) == count:
            break
        if not chosen or np.max(cosine(embeddings[chosen], embeddings[row])) <= dedup_threshold:
            chosen.append(int(row))
    return np.array(chosen, dtype=np.int64)
