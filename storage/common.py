"""Logic shared by every Store implementation that does not depend on the SQL dialect.

Pool matrices (built from rows, summarised for ``/pool stats``; their cache is ``storage.pool_cache``),
bulk-insert chunking and checks, times, and the ``open_store`` helper object. The stores keep only
their SQL.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice

import numpy as np

from genre_engine.labels import GENRES
from storage.base import NewSong, PoolMatrix, PoolStats, ServingModel, Store
from storage.errors import IncompatibleEmbeddingError
from storage.validation import CheckedAnalysis, CheckedSong

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


def analysis_row(analysis: CheckedAnalysis) -> tuple:
    """The columns a new analysis replaces, in the order both stores' UPDATE names them."""
    return (
        analysis.probabilities,
        analysis.embedding,
        analysis.duration_s,
        analysis.tags,
        None if analysis.confident is None else bool(analysis.confident),
        analysis.model_id,
    )


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


def matrix_from_rows(
    guild_id: int,
    rows: Sequence[Sequence],
    genre_count: int,
    serving: ServingModel | None = None,
    comparable: Collection[str | None] = (),
) -> PoolMatrix:
    """Arrays from (id, added_by, probabilities, embedding, tags, confident, model_id) rows in id
    order, vectors as float32 bytes (tags may be NULL, confident NULL or a boolean), joined blob-wise:
    one copy per column instead of one array per row, which is what keeps a 1M-song load to about a
    second. ``genre_count``: the probability vectors' length.

    With a ``serving`` model, rows another model analysed are kept only when that model is one of
    ``comparable`` (the same labels: its genres still count), with a zero embedding, and the matrix's
    ``current`` says which rows are the serving model's."""
    if serving is not None and any(row[6] != serving.id for row in rows):
        kept = [row for row in rows if row[6] == serving.id or row[6] in comparable]
        current = np.array([row[6] == serving.id for row in kept], dtype=bool)
        silent = bytes(4 * serving.embedding_dim)  # another model's sound is never compared
        rows = [(*row[:3], row[3] if now else silent, *row[4:]) for row, now in zip(kept, current)]
        return dataclasses.replace(_matrix(guild_id, rows, genre_count), current=current)
    return _matrix(guild_id, rows, genre_count)


def _matrix(guild_id: int, rows: Sequence[Sequence], genre_count: int) -> PoolMatrix:
    if not rows:
        return empty_matrix(guild_id, genre_count)
    ids, added_by, probabilities, embeddings, tags, confident = list(zip(*rows))[:6]
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


def comparable_models(serving: ServingModel, served: Iterable[tuple[str, str]]) -> frozenset[str | None]:
    """The model ids (of ``served``: (id, labels as JSON) pairs) whose genres are the serving model's,
    and None for analyses made before they named their model when the serving model has the ten
    GTZAN genres, the only labels such analyses had."""
    same = {model_id for model_id, labels in served if tuple(json.loads(labels)) == serving.labels}
    if serving.labels == tuple(GENRES):
        same.add(None)
    return frozenset(same)


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
