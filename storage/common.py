"""Logic shared by every Store implementation that does not depend on the SQL dialect.

Pool matrices (built from rows, summarised for ``/pool stats``; their cache is ``storage.pool_cache``),
bulk-insert chunking and checks, times, and the ``open_store`` helper object. The stores keep only
their SQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice

import numpy as np

from storage.base import NewSong, PoolMatrix, PoolStats, Store
from storage.errors import IncompatibleEmbeddingError, InvalidSongError
from storage.validation import CheckedSong

BULK_CHUNK = 5_000
TOP_CONTRIBUTORS = 10


def timestamp(moment: datetime | None) -> float:
    """Unix seconds; ``None`` is now and a naive datetime is taken as UTC."""
    if moment is None:
        return time.time()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def aware_utc(moment: datetime | None) -> datetime:
    """``moment`` as a timezone-aware datetime; ``None`` is now and a naive one is taken as UTC."""
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc(seconds: float) -> datetime:
    """The timezone-aware UTC datetime of Unix ``seconds``."""
    return datetime.fromtimestamp(seconds, UTC)


def chunks(items: Iterable[NewSong], size: int = BULK_CHUNK) -> Iterator[list[NewSong]]:
    """``items`` in lists of at most ``size``, read lazily (a bulk add may be a generator)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def check_same_dims(checked: Sequence[CheckedSong]) -> None:
    """Refuse a chunk that mixes embedding sizes within one server before touching the database."""
    dims: dict[int, int] = {}
    for song in checked:
        expected = dims.setdefault(song.guild_id, song.embedding_dim)
        if expected != song.embedding_dim:
            raise IncompatibleEmbeddingError(song.guild_id, expected, song.embedding_dim)


def empty_matrix(guild_id: int, genre_count: int) -> PoolMatrix:
    return PoolMatrix(
        guild_id=guild_id,
        ids=np.zeros(0, np.int64),
        probabilities=np.zeros((0, genre_count), np.float32),
        embeddings=np.zeros((0, 0), np.float32),
        added_by=np.zeros(0, np.int64),
    )


def tag_matrix(blobs: Sequence[bytes | None]) -> np.ndarray | None:
    """[N, T] tag probabilities from float32 blobs, NaN rows where a song has none (or another
    width); None when no song has any."""
    width = next((len(blob) // 4 for blob in blobs if blob is not None), None)
    if width is None:
        return None
    missing = np.full(width, np.nan, np.float32).tobytes()
    joined = b"".join(missing if blob is None or len(blob) != 4 * width else bytes(blob) for blob in blobs)
    return np.frombuffer(joined, np.float32).reshape(len(blobs), width)


def matrix_from_rows(guild_id: int, rows: Sequence[Sequence], genre_count: int) -> PoolMatrix:
    """Arrays from (id, added_by, probabilities, embedding, tags, confident) rows in id order,
    vectors as float32 bytes (tags may be NULL, confident NULL or a boolean), joined blob-wise: one
    copy per column instead of one array per row, which is what keeps a 1M-song load to about a
    second. ``genre_count``: the probability vectors' length."""
    if not rows:
        return empty_matrix(guild_id, genre_count)
    ids, added_by, probabilities, embeddings, tags, confident = zip(*rows)
    count = len(ids)
    return PoolMatrix(
        guild_id=guild_id,
        ids=np.array(ids, dtype=np.int64),
        probabilities=np.frombuffer(b"".join(probabilities), np.float32).reshape(count, -1),
        embeddings=np.frombuffer(b"".join(embeddings), np.float32).reshape(count, -1),
        added_by=np.array([user or 0 for user in added_by], dtype=np.int64),
        tags=tag_matrix(tags),
        confident=np.array([flag is None or bool(flag) for flag in confident], dtype=bool),
    )


def pool_stats(
    matrix: PoolMatrix, total_duration_s: float, contributors: Sequence[tuple[int, int]], genre_count: int
) -> PoolStats:
    """:class:`PoolStats` from the pool matrix, the summed durations and every (user, songs) pair
    of contributors, most songs first."""
    empty = len(matrix) == 0
    return PoolStats(
        guild_id=matrix.guild_id,
        songs=len(matrix),
        contributors=len(contributors),
        total_duration_s=float(total_duration_s),
        genre_mix=(np.zeros(genre_count) if empty else matrix.probabilities.mean(axis=0, dtype=np.float64)),
        top_genre_counts=np.bincount(matrix.probabilities.argmax(axis=1), minlength=genre_count),
        top_contributors=tuple(contributors[:TOP_CONTRIBUTORS]),
    )


class OpeningStore:
    """Awaitable and async context manager over a store being opened (as ``aiosqlite.connect``):
    ``async with open_store(...) as store`` closes it on exit; ``store = await open_store(...)``
    leaves closing to the caller."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __await__(self):
        return self._open().__await__()

    async def _open(self) -> Store:
        await self._store.open()
        return self._store

    async def __aenter__(self) -> Store:
        return await self._open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._store.close()


REPROJECT_CHUNK = 10_000  # songs per read-project-write step of Store.reproject_embeddings


def projected_blobs(
    blobs: Sequence[bytes], from_dim: int, project: Callable[[np.ndarray], np.ndarray], to_dim: int | None
) -> list[bytes]:
    """Stored embeddings (float32 bytes of ``from_dim`` values) through ``project``, as unit float32
    bytes of one size (``to_dim`` when an earlier chunk fixed it); InvalidSongError on a bad result."""
    rows = np.frombuffer(b"".join(blobs), np.float32).reshape(len(blobs), from_dim)
    out = np.asarray(project(rows), dtype=np.float32)
    if (
        out.ndim != 2
        or out.shape[0] != len(blobs)
        or out.shape[1] < 1
        or (to_dim is not None and out.shape[1] != to_dim)
    ):
        raise InvalidSongError(f"the projection gave embeddings of shape {out.shape} for {len(blobs)} songs")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    if not np.all(np.isfinite(out)) or not np.all(norms > 0):
        raise InvalidSongError("the projection gave an embedding that is all zeros or not finite")
    return [row.tobytes() for row in out / norms]
