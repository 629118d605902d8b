"""A server pool laid out for the per-request work, derived once per pool version.

Every whole-pool pass of a request goes genre by genre (affinity, per-genre shortlists), which on
rows of ten floats is 5 to 10 times slower than on ten contiguous rows of N floats; so the
probabilities are also kept transposed. The store hands out a new PoolMatrix object whenever a pool
changes, so caching by object identity (weakly, so dropped matrices free their arrays) is always in
step with the store.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from storage.base import PoolMatrix


@dataclass(frozen=True, eq=False)
class PoolArrays:
    probabilities: np.ndarray  # float32 [N, K]
    by_genre: np.ndarray  # float32 [K, N], C-contiguous: the same numbers transposed
    embeddings: np.ndarray  # float32 [N, D], unit rows
    mix: np.ndarray  # float64 [K]: the pool's genre mix (mean probability vector)

    @classmethod
    def of(cls, probabilities: np.ndarray, embeddings: np.ndarray) -> PoolArrays:
        by_genre = np.ascontiguousarray(probabilities.T)
        mix = by_genre.sum(axis=1, dtype=np.float64)
        total = mix.sum()
        return cls(probabilities, by_genre, embeddings, mix / total if total > 0 else mix)

    def __len__(self) -> int:
        return int(self.probabilities.shape[0])


_derived: weakref.WeakKeyDictionary[PoolMatrix, PoolArrays] = weakref.WeakKeyDictionary()


def arrays_for(matrix: PoolMatrix) -> PoolArrays:
    arrays = _derived.get(matrix)
    if arrays is None:
        arrays = PoolArrays.of(matrix.probabilities, matrix.embeddings)
        _derived[matrix] = arrays
    return arrays
