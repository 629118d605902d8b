"""A first day: a few songs that cover the sound of a server's pool, for a member with no history to
start a taste from (their likes go into their history).

The songs are k-means' picture of the pool: scikit-learn's k-means (``MiniBatchKMeans`` on a sample of
at most 20,000 songs, so a pool of a million costs what one of twenty thousand does) groups the
embeddings into ``count`` clusters, and the song nearest each cluster's centre stands for it, the
largest cluster first. Different corners of the pool's sound, each represented by a typical song.
Deterministic for a given pool.
"""

from __future__ import annotations

import weakref

import numpy as np
from sklearn.cluster import MiniBatchKMeans

from storage.base import PoolMatrix

_SAMPLE = 20_000
_chosen: weakref.WeakKeyDictionary[PoolMatrix, dict[int, np.ndarray]] = weakref.WeakKeyDictionary()


def covering_rows(embeddings: np.ndarray, count: int) -> np.ndarray:
    """Rows of at most ``count`` songs covering the sound of ``embeddings`` (unit rows ``[N, D]``),
    the largest group's first; every row when the pool has ``count`` songs or fewer."""
    size = len(embeddings)
    if size <= count:
        return np.arange(size, dtype=np.int64)
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(size, _SAMPLE, replace=False)) if size > _SAMPLE else np.arange(size)
    kmeans = MiniBatchKMeans(n_clusters=count, random_state=0, n_init=3, batch_size=1024)
    labels = kmeans.fit_predict(embeddings[sample].astype(np.float64))
    order = np.argsort(-np.bincount(labels, minlength=count), kind="stable")
    rows: list[int] = []
    for cluster in order:
        members = sample[labels == cluster]
        if members.size == 0:
            continue
        distance = np.linalg.norm(embeddings[members] - kmeans.cluster_centers_[cluster], axis=1)
        rows.append(int(members[np.argmin(distance)]))
    return np.array(rows, dtype=np.int64)


def covering_rows_of(matrix: PoolMatrix, count: int) -> np.ndarray:
    """:func:`covering_rows` of the pool's embeddings, kept while the matrix lives (blocking: run it
    in a thread)."""
    chosen = _chosen.setdefault(matrix, {})
    if count not in chosen:
        chosen[count] = covering_rows(matrix.embeddings, count)
    return chosen[count]
