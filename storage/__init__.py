"""Listen histories, server song pools and settings behind one interface (:class:`Store`).

No Discord and no torch here. ``SQLiteStore`` is the embedded default; ``PostgresStore`` serves a
bot spread over processes and machines. Open either with ``async with open_store(location) as
store: ...``, where ``location`` is a SQLite file path or a ``postgresql://`` URL.
"""

from pathlib import Path

from genre_engine.labels import GENRES
from storage.base import (
    DEFAULT_VARIETY,
    AddedSong,
    Analysis,
    BulkAddReport,
    EventKind,
    ForgetReport,
    GuildSettings,
    HistoryEntry,
    ListenEvent,
    ModelCounts,
    NewSong,
    PoolCacheStats,
    PoolMatrix,
    PoolStats,
    ServingModel,
    Song,
    Store,
    TaughtModel,
    UserSettings,
)
from storage.common import OpeningStore
from storage.pool_cache import DEFAULT_POOL_CACHE_MB
from storage.sqlite import SQLiteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def store_for(
    location: str | Path,
    *,
    genre_count: int = len(GENRES),
    pool_cache_mb: float | None = DEFAULT_POOL_CACHE_MB,
    model: ServingModel | None = None,
) -> Store:
    """An unopened store on ``location``: PostgresStore for a ``postgresql://`` URL, else a
    SQLiteStore on that file, for probability vectors of ``genre_count`` genres (the model's label
    count), caching pool matrices within ``pool_cache_mb`` MiB (None: no limit; ``storage.pool_cache``),
    serving the analyses of ``model`` (its labels then set the genre count; None: no model told
    apart). psycopg is only imported when a URL asks for it."""
    options = {"genre_count": genre_count, "pool_cache_mb": pool_cache_mb, "model": model}
    if is_postgres_url(location):
        from storage.postgres import PostgresStore

        return PostgresStore(str(location), **options)
    return SQLiteStore(location, **options)


def describe_location(location: str | Path) -> str:
    """``location`` fit for logs and messages: a PostgreSQL URL without its user and password."""
    if is_postgres_url(location):
        from storage.postgres import describe

        return describe(str(location))
    return str(location)


def __getattr__(name: str):
    """``storage.PostgresStore`` without importing psycopg for SQLite-only use."""
    if name == "PostgresStore":
        from storage.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module 'storage' has no attribute {name!r}")


def open_store(
    location: str | Path,
    *,
    genre_count: int = len(GENRES),
    pool_cache_mb: float | None = DEFAULT_POOL_CACHE_MB,
    model: ServingModel | None = None,
) -> OpeningStore:
    """The store on ``location`` (see :func:`store_for`), to use as ``async with open_store(...) as
    store`` (closed on exit) or ``store = await open_store(...)`` (close it yourself)."""
    return OpeningStore(store_for(location, genre_count=genre_count, pool_cache_mb=pool_cache_mb, model=model))


__all__ = [
    "DEFAULT_POOL_CACHE_MB",
    "DEFAULT_VARIETY",
    "AddedSong",
    "Analysis",
    "BulkAddReport",
    "EventKind",
    "ForgetReport",
    "GuildSettings",
    "HistoryEntry",
    "ListenEvent",
    "ModelCounts",
    "NewSong",
    "PoolCacheStats",
    "PoolMatrix",
    "PoolStats",
    "PostgresStore",
    "SQLiteStore",
    "ServingModel",
    "Song",
    "Store",
    "TaughtModel",
    "UserSettings",
    "describe_location",
    "is_postgres_url",
    "open_store",
    "store_for",
]
