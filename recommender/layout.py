"""Where each song of a pool goes on the server's map: a 2-D projection of the embeddings.

scikit-learn's PCA (centred, the two directions along which the pool's sounds differ most). Chosen
by measurement (``python -m benchmarks.pool_map``, its page has the figures): t-SNE keeps more of
each song's nearest neighbours on the page, but its time grows far faster than the pool and it
places the songs anew at every run, while PCA costs little even at 100,000 songs and is a fixed
linear map, so a song keeps its place as the pool grows
and members can read the map from one week to the next. umap-learn would bring numba and
pynndescent into the runtime for a middle ground. The layout of a pool is computed once per pool
version (the store hands out a new matrix when a pool changes).
"""

from __future__ import annotations

import weakref

import numpy as np
from sklearn.decomposition import PCA

from storage.base import PoolMatrix

_layouts: weakref.WeakKeyDictionary[PoolMatrix, np.ndarray] = weakref.WeakKeyDictionary()


def project(embeddings: np.ndarray) -> np.ndarray:
    """float32 ``[N, 2]``: each row of ``embeddings`` (``[N, D]``) placed on the plane by PCA;
    zeros for fewer than two songs, a line for two."""
    size = len(embeddings)
    if size < 2:
        return np.zeros((size, 2), np.float32)
    components = min(2, size - 1, embeddings.shape[1])
    placed = PCA(n_components=components, random_state=0).fit_transform(embeddings.astype(np.float32))
    if components < 2:
        placed = np.hstack([placed, np.zeros((size, 2 - components), placed.dtype)])
    return placed.astype(np.float32)


def layout_of(matrix: PoolMatrix) -> np.ndarray:
    """:func:`project` of the pool's embeddings, kept while the matrix lives (blocking: run it in a
    thread)."""
    placed = _layouts.get(matrix)
    if placed is None:
        placed = project(matrix.embeddings)
        _layouts[matrix] = placed
    return placed
