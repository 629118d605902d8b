"""Approximate nearest neighbours for "more like this" in large pools: usearch's HNSW index.

Exact search (``recommender.similarity.nearest``) reads every embedding per query: linear in the
pool: 6 ms at 100k songs of 256 floats, 57 ms at 1M on a small machine, while the index answers
in 2.5 ms with recall@10 0.99 at 100k, 8 ms with 0.93 at 1M (``python -m benchmarks.ann``;
musicnn's full 1756 floats would cost 7x). From ``RecommenderConfig.ann_min_songs`` songs on (500k:
exact search is fast enough
below, and an index of that size takes minutes to build on a small machine), the
recommender asks an HNSW graph (Malkov & Yashunin 2018, as implemented by usearch) for candidates
instead, then ranks them by their exact cosine and applies the same exclusions and near-duplicate
guard as the exact search. Each server's index is built off the event loop on first use (the exact
search answers until it is ready), then follows the pool: new songs are added, removed ones removed.
"""

from __future__ import annotations

import asyncio
import logging

import numpy as np
from usearch.index import Index

from recommender.similarity import choose_distinct, cosine

log = logging.getLogger("genrebot.ann")

# Chosen with `python -m benchmarks.ann --sizes 300000 --connectivity 16|32 --vectors f32|f16`
# (the docs' measurements/ann page): M 32 keeps recall@10 at 300k songs 0.92 where M 16 gave 0.87 (ef 256), for 1.3x the
# build time; half-precision vectors in the graph build and search 2x faster than float32 with the
# same recall (the candidates are ranked by their exact float32 cosine afterwards).
CONNECTIVITY = 32  # HNSW's M: links per node
VECTORS = "f16"  # how the index stores the embeddings
EXPANSION_ADD = 128  # efConstruction
EXPANSION_SEARCH = 1024  # ef: candidates kept while searching; at 1M songs recall@10 0.93 in 8 ms (ann_bench)
SPARE = 3  # ask for this many times the songs wanted (exclusions and near-duplicates are dropped after)


class AnnIndex:
    """An HNSW index over songs' embeddings (unit rows, inner product = cosine), keyed by song id."""

    def __init__(self, dim: int, *, connectivity: int = CONNECTIVITY, vectors: str = VECTORS) -> None:
        """``connectivity``: HNSW's M; ``vectors``: how the graph stores them (usearch's ``dtype``)."""
        self.index = Index(
            ndim=dim,
            metric="ip",
            dtype=vectors,
            connectivity=connectivity,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        self.ids = np.zeros(0, np.int64)  # sorted: the songs indexed

    @classmethod
    def build(cls, ids: np.ndarray, embeddings: np.ndarray, **settings) -> AnnIndex:
        """Index songs ``ids`` int64 ``[N]`` (sorted) with ``embeddings`` float32 ``[N, D]``
        (blocking: about 20 s per 100k songs of 256 floats on a 2-core machine, 11 minutes for 1M);
        ``settings``: the constructor's."""
        index = cls(embeddings.shape[1], **settings)
        index.update(ids, embeddings)
        return index

    def update(self, ids: np.ndarray, embeddings: np.ndarray) -> None:
        """Follow the pool to ``ids``/``embeddings`` (a pool matrix): add the new songs, remove the
        songs gone (blocking; cheap for a few)."""
        gone = np.setdiff1d(self.ids, ids, assume_unique=True)
        new = np.isin(ids, self.ids, assume_unique=True, invert=True)
        if gone.size:
            self.index.remove(gone.astype(np.uint64))
        if new.any():
            self.index.add(ids[new].astype(np.uint64), np.ascontiguousarray(embeddings[new], np.float32))
        self.ids = np.asarray(ids, np.int64).copy()

    def nearest(
        self,
        ids: np.ndarray,
        embeddings: np.ndarray,
        query: np.ndarray,
        count: int,
        *,
        excluded: np.ndarray | None = None,
        dedup_threshold: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """What ``recommender.similarity.nearest`` returns for the pool ``ids``/``embeddings`` (the
        matrix this index follows), from the index's candidates: rows and exact similarities, best
        first. The search widens until ``count`` songs pass the filters or it asked for every song."""
        size = len(ids)
        wanted = SPARE * count + (0 if excluded is None else int(excluded.sum()))
        while True:
            wanted = min(wanted, size)
            found = np.asarray(self.index.search(np.asarray(query, np.float32), wanted).keys, dtype=np.int64)
            rows = np.searchsorted(ids, found)
            similarity = cosine(embeddings[rows], query)
            keep = similarity <= dedup_threshold
            if excluded is not None:
                keep &= ~excluded[rows]
            ranked = rows[keep][np.argsort(-similarity[keep], kind="stable")]
            chosen = choose_distinct(embeddings, ranked, count, dedup_threshold)
            if len(chosen) == count or wanted == size:
                return chosen, cosine(embeddings[chosen], query)
            wanted *= 4


class AnnIndexes:
    """One index per server, built in a thread on first use and kept in step with the pool after;
    :meth:`nearest` returns None while it is being built (the caller searches exactly meanwhile)."""

    def __init__(self) -> None:
        self._ready: dict[int, AnnIndex] = {}
        self._building: set[int] = set()
        self._locks: dict[int, asyncio.Lock] = {}

    async def nearest(
        self,
        guild_id: int,
        ids: np.ndarray,
        embeddings: np.ndarray,
        query: np.ndarray,
        count: int,
        *,
        excluded: np.ndarray | None = None,
        dedup_threshold: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`AnnIndex.nearest` on the server's index brought up to date with the pool, or None
        while the index is first built."""
        index = self._ready.get(guild_id)
        if index is None:
            if guild_id not in self._building:
                self._building.add(guild_id)
                asyncio.get_running_loop().create_task(self._build(guild_id, ids, embeddings))
            return None
        lock = self._locks.setdefault(guild_id, asyncio.Lock())
        async with lock:  # one update or search at a time per index
            if not np.array_equal(index.ids, ids):
                await asyncio.to_thread(index.update, ids, embeddings)
            return await asyncio.to_thread(
                index.nearest, ids, embeddings, query, count, excluded=excluded, dedup_threshold=dedup_threshold
            )

    async def _build(self, guild_id: int, ids: np.ndarray, embeddings: np.ndarray) -> None:
        try:
            self._ready[guild_id] = await asyncio.to_thread(AnnIndex.build, ids, embeddings)
            log.info("nearest-neighbour index ready", extra={"guild": guild_id, "songs": len(ids)})
        except Exception:
            log.exception("building the nearest-neighbour index failed; exact search goes on")
        finally:
            self._building.discard(guild_id)
