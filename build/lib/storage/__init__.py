"""Listen histories, server song pools and settings behind one interface (:class:`Store`).

No Discord and no torch here. ``SQLiteStore`` is the embedded default; open one with
``async with open_store(path) as store: ...``.
"""

from storage.base import (
    DEFAULT_VARIETY,
    AddedSong,
    BulkAddReport,
    EventKind,
    ForgetReport,
    GuildSettings,
    HistoryEntry,
    ListenEvent,
    NewSong,
    PoolMatrix,
    PoolStats,
    Song,
    Store,
    UserSettings,
)
from storage.sqlite import SQLiteStore, open_store

__all__ = [
    "DEFAULT_VARIETY",
    "AddedSong",
    "BulkAddReport",
    "EventKind",
    "ForgetReport",
    "GuildSettings",
    "HistoryEntry",
    "ListenEvent",
    "NewSong",
    "PoolMatrix",
    "PoolStats",
    "SQLiteStore",
    "Song",
    "Store",
    "UserSettings",
    "open_store",
]
