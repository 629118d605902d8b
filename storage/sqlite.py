"""The embedded default store: one SQLite file through aiosqlite.

One connection in autocommit mode; every operation holds an asyncio lock, so the explicit
transactions of concurrent coroutines never interleave on that connection. WAL lets another process
(``python -m bot index`` beside the running bot) read and write the same file.

Pool matrices (a server's pool as numpy arrays) are cached per server, within a byte budget
(``storage.pool_cache``). Writes made through this store update or drop the cached matrix; writes from
other connections are noticed through ``PRAGMA data_version``, which changes only when *another*
connection commits.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import aiosqlite
import numpy as np
import tenacity

from genre_engine.labels import GENRES
from storage.base import (
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
    ProgressCallback,
    ServingModel,
    Song,
    Store,
    TaughtModel,
    UserSettings,
)
from storage.common import (
    BULK_CHUNK,
    analysis_row,
    check_same_dims,
    chunks,
    comparable_models,
    matrix_from_rows,
    pool_stats,
    timestamp,
    utc,
)
from storage.errors import (
    CannotOpenDatabaseError,
    IncompatibleEmbeddingError,
    NotADatabaseError,
    StoreClosedError,
    UnknownLabelError,
    UnknownSongError,
    UnknownUserError,
)
from storage.migrations import migrate
from storage.pool_cache import DEFAULT_POOL_CACHE_MB, CachedPool, PoolCache, budget_bytes
from storage.validation import (
    CheckedSong,
    check_analysis,
    check_id,
    check_kind,
    check_label,
    check_loudness,
    check_song,
    check_songs,
    check_variety,
    normalize_label,
)

# During bulk adds the WAL may grow to 256 MiB before it is copied into the database: each copy ends
# in an fsync, and with the default (1000 pages) a 1M-song build spends a third of its time in them.
BULK_WAL_PAGES = 16_384
_SONG_COLUMNS = (
    "id, guild_id, title, content_hash, probabilities, embedding, added_by, duration_s, "
    "source_url, message_url, added_at, in_pool, loudness_lufs, audio_missing, tags, confident, model_id"
)
_INSERT_SONG = (
    "INSERT INTO songs (guild_id, content_hash, title, source_url, message_url, duration_s, "
    "probabilities, embedding, added_by, added_at, in_pool, tags, confident, model_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, content_hash) DO NOTHING"
)


def _song(row: Sequence) -> Song:
    return Song(
        id=row[0],
        guild_id=row[1],
        title=row[2],
        content_hash=row[3],
        probabilities=np.frombuffer(row[4], dtype=np.float32),
        embedding=np.frombuffer(row[5], dtype=np.float32),
        added_by=row[6],
        duration_s=row[7],
        source_url=row[8],
        message_url=row[9],
        added_at=utc(row[10]),
        in_pool=bool(row[11]),
        loudness_lufs=row[12],
        audio_missing=bool(row[13]),
        tags=None if row[14] is None else np.frombuffer(row[14], dtype=np.float32),
        confident=None if row[15] is None else bool(row[15]),
        model_id=row[16],
    )


def _song_row(song: CheckedSong, added_at: float) -> tuple:
    return (
        song.guild_id,
        song.content_hash,
        song.title,
        song.source_url,
        song.message_url,
        song.duration_s,
        song.probabilities,
        song.embedding,
        song.added_by,
        added_at,
        int(song.in_pool),
        song.tags,
        song.confident,
        song.model_id,
    )


# a server's events from a moment on (index events_by_guild_time, migration 5)
EVENTS_SINCE_SQL = "SELECT id, user_id, song_id, kind, at FROM events WHERE guild_id = ? AND at >= ? ORDER BY at, id"


def _bulk_rows(chunk: list[NewSong], genre_count: int) -> tuple[list[CheckedSong], list[tuple]]:
    checked = check_songs(chunk, genre_count)
    check_same_dims(checked)
    now = time.time()
    rows = [
        _song_row(song, now if new.added_at is None else timestamp(new.added_at)) for song, new in zip(checked, chunk)
    ]
    return checked, rows


class SQLiteStore(Store):
    """The Store on a SQLite file. ``path`` is created (with its folder) if missing.

    ``genre_count``: the length of every probability vector, i.e. the number of labels of the model
    in use (default: the shipped model's ``genre_engine.labels.GENRES``, or ``model``'s labels); songs
    with another length are refused with InvalidSongError. ``pool_cache_mb``: the pool cache's budget
    in MiB (None: no limit). ``model``: the genre model in use (:class:`ServingModel`): analyses of
    others are told apart (None: every analysis counts as current)."""

    def __init__(
        self,
        path: str | Path,
        *,
        genre_count: int = len(GENRES),
        pool_cache_mb: float | None = DEFAULT_POOL_CACHE_MB,
        model: ServingModel | None = None,
    ) -> None:
        genre_count = len(model.labels) if model is not None else genre_count
        if genre_count < 2:
            raise ValueError(f"a genre model has at least 2 labels, not {genre_count}")
        self.path = str(path)
        self.genre_count = genre_count
        self.model = model
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._pools = PoolCache(budget_bytes(pool_cache_mb))
        self._data_version: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._db is not None:
            return
        if self.path != ":memory:":
            if Path(self.path).is_dir():  # refused before aiosqlite starts a connection thread for it
                raise CannotOpenDatabaseError(self.path)
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = await aiosqlite.connect(self.path, isolation_level=None)
        except sqlite3.DatabaseError as error:
            raise _file_error(self.path, error) from error
        try:
            # first: another process may be creating the same file, and the pragmas below wait for it
            await db.execute("PRAGMA busy_timeout = 5000")
            # rows are about 1.1 KiB (a 256-float embedding): 4 KiB pages would hold three and waste a
            # quarter; 16 KiB pages hold fourteen. Only takes effect when the file is created.
            await db.execute("PRAGMA page_size = 16384")
            await _switch_to_wal(db)
            await db.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL, much faster
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA cache_size = -65536")  # 64 MiB: keeps bulk index builds in RAM
            await migrate(db, self.path)
            if self.model is not None:
                await db.execute(
                    "INSERT INTO models (id, labels, embedding_dim, first_served) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (self.model.id, json.dumps(self.model.labels), self.model.embedding_dim, time.time()),
                )
        except sqlite3.DatabaseError as error:
            await db.close()
            raise _file_error(self.path, error) from error
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        if self._db is None:
            return
        async with self._lock:
            db, self._db = self._db, None
            self._pools.clear()
            try:
                await db.execute("PRAGMA optimize")
            except sqlite3.OperationalError:  # another process holds the lock: statistics can wait
                pass
            await db.close()

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self._db is None:
                raise StoreClosedError()
            yield self._db

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """One short transaction; rolled back on any error so a failed write changes nothing."""
        async with self._reading() as db:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    @staticmethod
    async def _one(db: aiosqlite.Connection, sql: str, params: Sequence = ()) -> Sequence | None:
        async with db.execute(sql, params) as cursor:
            return await cursor.fetchone()

    @staticmethod
    async def _ensure_guild(db: aiosqlite.Connection, guild_id: int) -> None:
        await db.execute(
            "INSERT INTO guilds (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (guild_id, time.time()),
        )

    @staticmethod
    async def _ensure_user(db: aiosqlite.Connection, user_id: int | None) -> None:
        if user_id is not None:
            await db.execute(
                "INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (user_id, time.time()),
            )

    async def _check_dim(self, db: aiosqlite.Connection, guild_id: int, dim: int, model_id: str | None) -> None:
        """Songs one model analysed in one server have one embedding size."""
        row = await self._one(
            db, "SELECT length(embedding) FROM songs WHERE guild_id = ? AND model_id IS ? LIMIT 1", (guild_id, model_id)
        )
        if row is not None and row[0] // 4 != dim:
            raise IncompatibleEmbeddingError(guild_id, row[0] // 4, dim)

    async def _song_by(self, db: aiosqlite.Connection, where: str, params: Sequence) -> Song | None:
        row = await self._one(db, f"SELECT {_SONG_COLUMNS} FROM songs WHERE {where}", params)
        return None if row is None else _song(row)

    async def _require_song(self, db: aiosqlite.Connection, guild_id: int, song_id: int) -> Song:
        song = await self._song_by(db, "id = ? AND guild_id = ?", (song_id, guild_id))
        if song is None:
            raise UnknownSongError(guild_id, song_id)
        return song

    # -- songs and pools -------------------------------------------------------------------------

    async def add_song(self, song: NewSong) -> AddedSong:
        checked = check_song(song, self.genre_count)
        async with self._writing() as db:
            existing = await self._song_by(
                db, "guild_id = ? AND content_hash = ?", (checked.guild_id, checked.content_hash)
            )
            if existing is not None:
                if existing.audio_missing:  # shared again: the radio may try it again
                    await db.execute("UPDATE songs SET audio_missing = 0 WHERE id = ?", (existing.id,))
                    existing = await self._require_song(db, checked.guild_id, existing.id)
                if checked.in_pool and not existing.in_pool:
                    await db.execute("UPDATE songs SET in_pool = 1 WHERE id = ?", (existing.id,))
                    self._pools.pop(checked.guild_id)
                    existing = await self._require_song(db, checked.guild_id, existing.id)
                return AddedSong(existing, created=False)
            await self._check_dim(db, checked.guild_id, checked.embedding_dim, checked.model_id)
            await self._ensure_guild(db, checked.guild_id)
            await self._ensure_user(db, checked.added_by)
            async with db.execute(_INSERT_SONG, _song_row(checked, timestamp(song.added_at))) as cursor:
                song_id = cursor.lastrowid
            created = await self._require_song(db, checked.guild_id, song_id)
        if created.in_pool:
            self._append_to_matrix(created)
        return AddedSong(created, created=True)

    def _append_to_matrix(self, song: Song) -> None:
        """Keep a cached matrix in step with a single new song instead of reloading the pool."""
        cached = self._pools.get(song.guild_id)
        if cached is None:
            return
        if self.model is not None and song.model_id != self.model.id:
            self._pools.pop(song.guild_id)  # another model's song: the pool is read again, with its mask
            return
        grown = cached.with_song(song)
        if grown is None:
            self._pools.pop(song.guild_id)
        else:
            self._pools.put(song.guild_id, grown)

    async def add_songs(self, songs: Iterable[NewSong], *, progress: ProgressCallback | None = None) -> BulkAddReport:
        added = done = 0
        async with self._reading() as db:
            await db.execute(f"PRAGMA wal_autocheckpoint = {BULK_WAL_PAGES}")
        try:
            for chunk in chunks(songs, BULK_CHUNK):
                # off the event loop, but not overlapped with the insert: sqlite3 binds every row
                # under the GIL, and a busy checking thread would stall it
                checked, rows = await asyncio.to_thread(_bulk_rows, chunk, self.genre_count)
                added += await self._insert_chunk(checked, rows)
                done += len(rows)
                if progress is not None:
                    progress(done)
        finally:
            async with self._reading() as db:
                await db.execute("PRAGMA wal_autocheckpoint = 1000")
                await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return BulkAddReport(added=added, duplicates=done - added)

    async def _insert_chunk(self, checked: list[CheckedSong], rows: list[tuple]) -> int:
        """One transaction: insert the new songs, promote history-only duplicates into the pool."""
        async with self._writing() as db:
            await self._prepare_bulk(db, checked)
            inserted = await self._insert_counting(db, rows)
            if inserted < len(rows):
                await db.executemany(
                    "UPDATE songs SET audio_missing = 0 WHERE guild_id = ? AND content_hash = ? AND audio_missing = 1",
                    [(song.guild_id, song.content_hash) for song in checked],
                )
                await db.executemany(
                    "UPDATE songs SET in_pool = 1 WHERE guild_id = ? AND content_hash = ? AND in_pool = 0",
                    [(song.guild_id, song.content_hash) for song in checked if song.in_pool],
                )
        return inserted

    async def _prepare_bulk(self, db: aiosqlite.Connection, checked: list[CheckedSong]) -> None:
        for guild_id, dim, model_id in {(song.guild_id, song.embedding_dim, song.model_id) for song in checked}:
            await self._check_dim(db, guild_id, dim, model_id)
        for guild_id in {song.guild_id for song in checked}:
            await self._ensure_guild(db, guild_id)
            self._pools.pop(guild_id)
        for user_id in {song.added_by for song in checked}:
            await self._ensure_user(db, user_id)

    async def _insert_counting(self, db: aiosqlite.Connection, rows: list[tuple]) -> int:
        """Insert song rows, skipping duplicates, and return how many were new."""
        (before,) = await self._one(db, "SELECT total_changes()")
        await db.executemany(_INSERT_SONG, rows)
        (after,) = await self._one(db, "SELECT total_changes()")
        return after - before

    async def get_song(self, guild_id: int, song_id: int) -> Song:
        guild_id, song_id = check_id("server", guild_id), check_id("song", song_id)
        async with self._reading() as db:
            return await self._require_song(db, guild_id, song_id)

    async def get_songs(self, guild_id: int, song_ids: Sequence[int]) -> list[Song]:
        guild_id = check_id("server", guild_id)
        wanted = [check_id("song", song_id) for song_id in song_ids]
        if not wanted:
            return []
        async with (
            self._reading() as db,
            db.execute(
                # the unary + keeps SQLite from scanning the server's pool by guild_id instead of
                # looking up each id by primary key (25 ms instead of 0.2 ms at 100k songs)
                f"SELECT {_SONG_COLUMNS} FROM songs WHERE id IN (SELECT value FROM json_each(?)) AND +guild_id = ?",
                (f"[{','.join(map(str, wanted))}]", guild_id),
            ) as cursor,
        ):
            found = {row[0]: _song(row) for row in await cursor.fetchall()}
        return [found[song_id] for song_id in wanted if song_id in found]

    async def find_song(self, guild_id: int, content_hash: str) -> Song | None:
        guild_id = check_id("server", guild_id)
        async with self._reading() as db:
            return await self._song_by(db, "guild_id = ? AND content_hash = ?", (guild_id, content_hash))

    async def set_in_pool(self, guild_id: int, song_id: int, in_pool: bool) -> Song:
        guild_id, song_id = check_id("server", guild_id), check_id("song", song_id)
        async with self._writing() as db:
            await self._require_song(db, guild_id, song_id)
            await db.execute("UPDATE songs SET in_pool = ? WHERE id = ?", (int(in_pool), song_id))
            self._pools.pop(guild_id)
            return await self._require_song(db, guild_id, song_id)

    async def remove_song(self, guild_id: int, song_id: int) -> Song:
        guild_id, song_id = check_id("server", guild_id), check_id("song", song_id)
        async with self._writing() as db:
            song = await self._require_song(db, guild_id, song_id)
            await db.execute("DELETE FROM songs WHERE id = ?", (song_id,))
            self._pools.pop(guild_id)
        return song

    async def set_loudness(self, guild_id: int, song_id: int, loudness_lufs: float) -> Song:
        return await self._set_song_column(guild_id, song_id, "loudness_lufs", check_loudness(loudness_lufs))

    async def set_audio_missing(self, guild_id: int, song_id: int, missing: bool) -> Song:
        return await self._set_song_column(guild_id, song_id, "audio_missing", int(missing))

    async def _set_song_column(self, guild_id: int, song_id: int, column: str, value: object) -> Song:
        """One column of one song of this server (``column`` is ours, never user input)."""
        guild_id, song_id = check_id("server", guild_id), check_id("song", song_id)
        async with self._writing() as db:
            await self._require_song(db, guild_id, song_id)
            await db.execute(f"UPDATE songs SET {column} = ? WHERE id = ?", (value, song_id))
            return await self._require_song(db, guild_id, song_id)

    async def audio_missing_ids(self, guild_id: int) -> list[int]:
        guild_id = check_id("server", guild_id)
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT id FROM songs WHERE guild_id = ? AND audio_missing = 1 ORDER BY id", (guild_id,)
            )
        return [song_id for (song_id,) in rows]

    async def pool_size(self, guild_id: int) -> int:
        guild_id = check_id("server", guild_id)
        async with self._reading() as db:
            row = await self._one(db, "SELECT count(*) FROM songs WHERE guild_id = ? AND in_pool = 1", (guild_id,))
        return int(row[0])

    async def pool_stats(self, guild_id: int) -> PoolStats:
        matrix = await self.pool_matrix(guild_id)
        async with self._reading() as db:
            row = await self._one(
                db,
                "SELECT coalesce(sum(duration_s), 0.0) FROM songs WHERE guild_id = ? AND in_pool = 1",
                (guild_id,),
            )
            async with db.execute(
                "SELECT added_by, count(*) AS songs FROM songs "
                "WHERE guild_id = ? AND in_pool = 1 AND added_by IS NOT NULL "
                "GROUP BY added_by ORDER BY songs DESC, added_by",
                (guild_id,),
            ) as cursor:
                contributors = [(int(user), int(count)) for user, count in await cursor.fetchall()]
        return pool_stats(matrix, row[0], contributors, self.genre_count)

    async def pool_matrix(self, guild_id: int) -> PoolMatrix:
        guild_id = check_id("server", guild_id)
        async with self._reading() as db:
            row = await self._one(db, "PRAGMA data_version")
            if row[0] != self._data_version:  # another connection committed: any pool may differ
                self._pools.clear()
                self._data_version = row[0]
            cached = self._pools.lookup(guild_id)
            if cached is not None:
                return cached
            rows = await db.execute_fetchall(
                "SELECT id, added_by, probabilities, embedding, tags, confident, model_id FROM songs "
                "WHERE guild_id = ? AND in_pool = 1 ORDER BY id",
                (guild_id,),
            )
            comparable = await self._comparable_models(db)
            # building the arrays takes seconds for a 1M-song pool: keep it off the event loop
            matrix = await asyncio.to_thread(
                matrix_from_rows, guild_id, list(rows), self.genre_count, self.model, comparable
            )
            self._pools.put(guild_id, CachedPool(matrix))
            return matrix

    def pool_cache_stats(self) -> PoolCacheStats:
        return self._pools.stats()

    async def _comparable_models(self, db: aiosqlite.Connection) -> frozenset[str | None]:
        if self.model is None:
            return frozenset()
        return comparable_models(self.model, await db.execute_fetchall("SELECT id, labels FROM models"))

    # -- analyses by model -----------------------------------------------------------------------

    async def other_model_songs(
        self, *, guild_id: int | None = None, after_id: int = 0, limit: int = 100, missing: bool = False
    ) -> list[Song]:
        if self.model is None:
            return []
        where = "model_id IS NOT ? AND audio_missing = ? AND id > ?"
        params = [self.model.id, int(missing), after_id]
        if guild_id is not None:
            where, params = where + " AND guild_id = ?", [*params, check_id("server", guild_id)]
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_SONG_COLUMNS} FROM songs WHERE {where} ORDER BY id LIMIT ?", (*params, limit)
            )
        return [_song(row) for row in rows]

    async def replace_analysis(self, content_hash: str, analysis: Analysis) -> list[Song]:
        checked = check_analysis(analysis, self.genre_count)
        async with self._writing() as db:
            rows = await db.execute_fetchall(
                "SELECT id, guild_id FROM songs WHERE content_hash = ? AND model_id IS NOT ? ORDER BY id",
                (content_hash, checked.model_id),
            )
            for guild_id in {guild for _, guild in rows}:
                await self._check_dim(db, guild_id, checked.embedding_dim, checked.model_id)
                self._pools.pop(guild_id)
            await db.executemany(
                "UPDATE songs SET probabilities = ?, embedding = ?, duration_s = coalesce(?, duration_s), "
                "tags = ?, confident = ?, model_id = ? WHERE id = ?",
                [(*analysis_row(checked), song_id) for song_id, _ in rows],
            )
            return [await self._require_song(db, guild_id, song_id) for song_id, guild_id in rows]

    async def model_counts(self, *, guild_id: int | None = None) -> ModelCounts:
        serving = None if self.model is None else self.model.id
        server = None if guild_id is None else check_id("server", guild_id)
        async with self._reading() as db:
            row = await self._one(
                db,
                "SELECT count(*) FILTER (WHERE ?1 IS NULL OR model_id IS ?1), "
                "count(*) FILTER (WHERE ?1 IS NOT NULL AND model_id IS NOT ?1 AND audio_missing = 0), "
                "count(*) FILTER (WHERE ?1 IS NOT NULL AND model_id IS NOT ?1 AND audio_missing = 1) "
                "FROM songs WHERE ?2 IS NULL OR guild_id = ?2",
                (serving, server),
            )
        return ModelCounts(*(int(count) for count in row))

    # -- listen events ---------------------------------------------------------------------------

    async def record_event(
        self,
        guild_id: int,
        user_id: int,
        song_id: int,
        kind: EventKind | str,
        *,
        at: datetime | None = None,
    ) -> ListenEvent:
        guild_id, user_id = check_id("server", guild_id), check_id("user", user_id)
        song_id, kind = check_id("song", song_id), check_kind(kind)
        seconds = timestamp(at)
        async with self._writing() as db:
            await self._require_song(db, guild_id, song_id)
            await self._ensure_user(db, user_id)
            async with db.execute(
                "INSERT INTO events (guild_id, user_id, song_id, kind, at) VALUES (?, ?, ?, ?, ?)",
                (guild_id, user_id, song_id, kind.value, seconds),
            ) as cursor:
                event_id = cursor.lastrowid
        return ListenEvent(event_id, guild_id, user_id, song_id, kind, utc(seconds))

    async def listen_events(self, guild_id: int, user_id: int) -> list[ListenEvent]:
        guild_id, user_id = check_id("server", guild_id), check_id("user", user_id)
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT id, song_id, kind, at FROM events WHERE user_id = ? AND guild_id = ? ORDER BY at, id",
                (user_id, guild_id),
            )
        return [
            ListenEvent(event_id, guild_id, user_id, song_id, EventKind(kind), utc(at))
            for event_id, song_id, kind, at in rows
        ]

    async def events_since(self, guild_id: int, since: datetime) -> list[ListenEvent]:
        guild_id = check_id("server", guild_id)
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                EVENTS_SINCE_SQL,
                (guild_id, timestamp(since)),
            )
        return [
            ListenEvent(event_id, guild_id, user_id, song_id, EventKind(kind), utc(at))
            for event_id, user_id, song_id, kind, at in rows
        ]

    async def history(self, guild_id: int, user_id: int, *, limit: int = 25, offset: int = 0) -> list[HistoryEntry]:
        guild_id, user_id = check_id("server", guild_id), check_id("user", user_id)
        limit, offset = max(int(limit), 0), max(int(offset), 0)
        song_columns = ", ".join(f"s.{column}" for column in _SONG_COLUMNS.split(", "))
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT e.id, e.kind, e.at, {song_columns} FROM events e "
                "JOIN songs s ON s.id = e.song_id "
                "WHERE e.user_id = ? AND e.guild_id = ? ORDER BY e.at DESC, e.id DESC "
                "LIMIT ? OFFSET ?",
                (user_id, guild_id, limit, offset),
            )
        entries = []
        for event_id, kind, at, *song_row in rows:
            song = _song(song_row)
            event = ListenEvent(event_id, guild_id, user_id, song.id, EventKind(kind), utc(at))
            entries.append(HistoryEntry(event, song))
        return entries

    # -- settings --------------------------------------------------------------------------------

    async def user_settings(self, user_id: int) -> UserSettings:
        user_id = check_id("user", user_id)
        async with self._reading() as db:
            row = await self._one(db, "SELECT variety FROM users WHERE id = ?", (user_id,))
        if row is None or row[0] is None:
            return UserSettings(user_id)
        return UserSettings(user_id, variety=row[0])

    async def set_variety(self, user_id: int, variety: float) -> UserSettings:
        user_id, value = check_id("user", user_id), check_variety(variety)
        async with self._writing() as db:
            await self._ensure_user(db, user_id)
            await db.execute("UPDATE users SET variety = ? WHERE id = ?", (value, user_id))
        return UserSettings(user_id, variety=value)

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        guild_id = check_id("server", guild_id)
        async with self._reading() as db:
            return await self._guild_settings(db, guild_id)

    async def _guild_settings(self, db: aiosqlite.Connection, guild_id: int) -> GuildSettings:
        row = await self._one(db, "SELECT auto_pool, teacher_role FROM guilds WHERE id = ?", (guild_id,))
        channels = await db.execute_fetchall("SELECT channel_id FROM index_channels WHERE guild_id = ?", (guild_id,))
        return GuildSettings(
            guild_id,
            auto_pool=True if row is None else bool(row[0]),
            index_channels=frozenset(channel for (channel,) in channels),
            teacher_role=None if row is None else row[1],
        )

    async def set_auto_pool(self, guild_id: int, enabled: bool) -> GuildSettings:
        guild_id = check_id("server", guild_id)
        async with self._writing() as db:
            await self._ensure_guild(db, guild_id)
            await db.execute("UPDATE guilds SET auto_pool = ? WHERE id = ?", (int(enabled), guild_id))
            return await self._guild_settings(db, guild_id)

    async def set_index_channel(self, guild_id: int, channel_id: int, enabled: bool) -> GuildSettings:
        guild_id, channel_id = check_id("server", guild_id), check_id("channel", channel_id)
        async with self._writing() as db:
            await self._ensure_guild(db, guild_id)
            if enabled:
                await db.execute(
                    "INSERT INTO index_channels (guild_id, channel_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (guild_id, channel_id),
                )
            else:
                await db.execute(
                    "DELETE FROM index_channels WHERE guild_id = ? AND channel_id = ?",
                    (guild_id, channel_id),
                )
            return await self._guild_settings(db, guild_id)

    async def set_teacher_role(self, guild_id: int, role_id: int | None) -> GuildSettings:
        guild_id = check_id("server", guild_id)
        role_id = None if role_id is None else check_id("role", role_id)
        async with self._writing() as db:
            await self._ensure_guild(db, guild_id)
            await db.execute("UPDATE guilds SET teacher_role = ? WHERE id = ?", (role_id, guild_id))
            return await self._guild_settings(db, guild_id)

    # -- genres a server teaches ------------------------------------------------------------------

    async def teach(self, guild_id: int, song_id: int, label: str, *, taught_by: int | None = None) -> int:
        guild_id, song_id, label = check_id("server", guild_id), check_id("song", song_id), check_label(label)
        taught_by = None if taught_by is None else check_id("user", taught_by)
        async with self._writing() as db:
            await self._require_song(db, guild_id, song_id)
            await self._ensure_user(db, taught_by)
            await db.execute(
                "INSERT INTO taught_labels (guild_id, label, song_id, taught_by, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (guild_id, label, song_id, taught_by, time.time()),
            )
            (count,) = await self._one(
                db, "SELECT count(*) FROM taught_labels WHERE guild_id = ? AND label = ?", (guild_id, label)
            )
        return int(count)

    async def forget_label(self, guild_id: int, label: str) -> int:
        guild_id, label = check_id("server", guild_id), normalize_label(label)
        async with self._writing() as db:
            async with db.execute(
                "DELETE FROM taught_labels WHERE guild_id = ? AND label = ?", (guild_id, label)
            ) as cursor:
                removed = cursor.rowcount
            if not removed:
                raise UnknownLabelError(guild_id, label)
        return removed

    async def taught_examples(self, guild_id: int) -> dict[str, tuple[int, ...]]:
        guild_id = check_id("server", guild_id)
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT label, song_id FROM taught_labels WHERE guild_id = ? ORDER BY label, song_id",
                (guild_id,),
            )
        examples: dict[str, list[int]] = {}
        for label, song_id in rows:
            examples.setdefault(label, []).append(song_id)
        return {label: tuple(ids) for label, ids in examples.items()}

    async def save_taught_model(
        self, guild_id: int, version: int, state: bytes, *, model_id: str | None = None
    ) -> TaughtModel:
        guild_id = check_id("server", guild_id)
        now = time.time()
        async with self._writing() as db:
            await self._ensure_guild(db, guild_id)
            await db.execute(
                "INSERT INTO taught_models (guild_id, version, state, trained_at, model_id) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET version = excluded.version, state = excluded.state, "
                "trained_at = excluded.trained_at, model_id = excluded.model_id",
                (guild_id, int(version), bytes(state), now, model_id),
            )
        return TaughtModel(guild_id, int(version), bytes(state), utc(now), model_id)

    async def taught_model(self, guild_id: int) -> TaughtModel | None:
        guild_id = check_id("server", guild_id)
        async with self._reading() as db:
            row = await self._one(
                db, "SELECT version, state, trained_at, model_id FROM taught_models WHERE guild_id = ?", (guild_id,)
            )
        return None if row is None else TaughtModel(guild_id, row[0], bytes(row[1]), utc(row[2]), row[3])

    # -- privacy ---------------------------------------------------------------------------------

    async def forget_user(self, user_id: int, *, remove_shared_songs: bool = False) -> ForgetReport:
        user_id = check_id("user", user_id)
        async with self._writing() as db:
            if await self._one(db, "SELECT 1 FROM users WHERE id = ?", (user_id,)) is None:
                raise UnknownUserError(user_id)
            (events,) = await self._one(db, "SELECT count(*) FROM events WHERE user_id = ?", (user_id,))
            if remove_shared_songs:
                async with db.execute("DELETE FROM songs WHERE added_by = ?", (user_id,)) as cursor:
                    removed, anonymised = cursor.rowcount, 0
            else:
                async with db.execute(  # the links they shared go with their name
                    "UPDATE songs SET message_url = NULL, source_url = NULL WHERE added_by = ?",
                    (user_id,),
                ) as cursor:
                    removed, anonymised = 0, cursor.rowcount
            # cascades: the user's events go, songs they added lose their added_by
            await db.execute("DELETE FROM users WHERE id = ?", (user_id,))
            if removed or anonymised:
                self._pools.clear()
        return ForgetReport(events=events, songs_removed=removed, songs_anonymised=anonymised)


@tenacity.retry(
    retry=tenacity.retry_if_exception(
        lambda error: isinstance(error, sqlite3.OperationalError) and "locked" in str(error)
    ),
    wait=tenacity.wait_random_exponential(multiplier=0.01, max=0.5),
    stop=tenacity.stop_after_delay(10),
    reraise=True,
)
async def _switch_to_wal(db: aiosqlite.Connection) -> None:
    """``PRAGMA journal_mode = WAL``, tried again while another process holds the new file's lock:
    SQLite answers a journal-mode change with "database is locked" at once instead of waiting the
    busy timeout, which processes opening a new database together run into."""
    await db.execute("PRAGMA journal_mode = WAL")


def _file_error(path: str, error: sqlite3.DatabaseError) -> Exception:
    """The store's error for a database file SQLite refuses, or ``error`` itself if it is another."""
    code = getattr(error, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_NOTADB:
        return NotADatabaseError(path)
    if code == sqlite3.SQLITE_CANTOPEN:
        return CannotOpenDatabaseError(path)
    return error


__all__ = ["SQLiteStore"]
