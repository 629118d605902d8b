"""The Store on a PostgreSQL server, for a bot spread over processes and machines (psycopg 3).

Selected by a ``postgresql://`` URL (``GENREBOT_DATABASE_URL`` / ``--database-url``). Same
semantics as the SQLite store; the differences are in how:

- A pool of connections (psycopg_pool) in autocommit mode; every write is one explicit transaction,
  rolled back on any error, so concurrent coroutines and processes each see whole writes only.
- Migrations run at start-up under an advisory lock (storage/postgres_schema.py).
- Pool matrices are cached per server (within a byte budget, ``storage.pool_cache``) beside the
  server's ``pool_version``, which every write that changes the pool bumps in its own transaction.
  Reading a pool asks the database for that one number and reloads only when it moved, so a write
  from any process on any machine is seen by the next ``/playlist`` everywhere, and a server nobody
  wrote to keeps its cache.
- Bulk adds stream each chunk into a temporary table with binary COPY, then insert it with one
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (content-hash dedup per server, as SQLite).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
from psycopg import conninfo
from psycopg_pool import AsyncConnectionPool

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
    aware_utc,
    check_same_dims,
    chunks,
    comparable_models,
    matrix_from_rows,
    pool_stats,
)
from storage.errors import (
    DatabaseUnavailableError,
    IncompatibleEmbeddingError,
    StoreClosedError,
    UnknownLabelError,
    UnknownSongError,
    UnknownUserError,
)
from storage.pool_cache import DEFAULT_POOL_CACHE_MB, CachedPool, PoolCache, budget_bytes
from storage.postgres_schema import migrate
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

MAX_CONNECTIONS = 10
CONNECT_TIMEOUT_S = 10
_SONG_COLUMNS = (
    "id, guild_id, title, content_hash, probabilities, embedding, added_by, duration_s, "
    "source_url, message_url, added_at, in_pool, loudness_lufs, audio_missing, tags, confident, model_id"
)
_INSERT_COLUMNS = (
    "guild_id, content_hash, title, source_url, message_url, duration_s, probabilities, "
    "embedding, added_by, added_at, in_pool, tags, confident, model_id"
)
_STAGE_TYPES = (
    "int4", "int8", "text", "text", "text", "text", "float8", "bytea", "bytea", "int8",
    "timestamptz", "bool", "bytea", "bool", "text",
)  # fmt: skip


def describe(url: str) -> str:
    """``host:port/dbname`` of a connection string, without user or password (for messages)."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable PostgreSQL URL)"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def _song(row: Sequence) -> Song:
    return Song(
        id=row[0],
        guild_id=row[1],
        title=row[2],
        content_hash=row[3],
        probabilities=_floats(row[4]),
        embedding=_floats(row[5]),
        added_by=row[6],
        duration_s=row[7],
        source_url=row[8],
        message_url=row[9],
        added_at=row[10].astimezone(UTC),
        in_pool=row[11],
        loudness_lufs=row[12],
        audio_missing=row[13],
        tags=None if row[14] is None else _floats(row[14]),
        confident=row[15],
        model_id=row[16],
    )


async def _fetch_song(cursor: psycopg.AsyncCursor) -> Song | None:
    row = await cursor.fetchone()
    return None if row is None else _song(row)


def _floats(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def _song_row(song: CheckedSong, new: NewSong) -> tuple:
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
        aware_utc(new.added_at),
        song.in_pool,
        song.tags,
        None if song.confident is None else bool(song.confident),
        song.model_id,
    )


def _bulk_rows(chunk: list[NewSong], genre_count: int) -> tuple[list[CheckedSong], list[tuple]]:
    """Checked songs and their staging rows (``ord`` first, to keep the order of the input)."""
    checked = check_songs(chunk, genre_count)
    check_same_dims(checked)
    rows = [(index, *_song_row(song, new)) for index, (song, new) in enumerate(zip(checked, chunk))]
    return checked, rows


class PostgresStore(Store):
    """The Store on the PostgreSQL database at ``url`` (``postgresql://user:pass@host:port/db`` or
    a libpq key=value string). The database must exist; the tables are created on first open.

    ``genre_count``: the length of every probability vector, i.e. the number of labels of the model
    in use (default: the shipped model's ``genre_engine.labels.GENRES``, or ``model``'s labels); songs
    with another length are refused with InvalidSongError. ``pool_cache_mb``: the pool cache's budget
    in MiB (None: no limit). ``model``: the genre model in use (:class:`ServingModel`): analyses of
    others are told apart (None: every analysis counts as current)."""

    def __init__(
        self,
        url: str,
        *,
        genre_count: int = len(GENRES),
        max_connections: int = MAX_CONNECTIONS,
        pool_cache_mb: float | None = DEFAULT_POOL_CACHE_MB,
        model: ServingModel | None = None,
    ) -> None:
        genre_count = len(model.labels) if model is not None else genre_count
        if genre_count < 2:
            raise ValueError(f"a genre model has at least 2 labels, not {genre_count}")
        self.url = url
        self.genre_count = genre_count
        self.model = model
        self.where = describe(url)
        self._max_connections = max_connections
        self._pool: AsyncConnectionPool | None = None
        self._pools = PoolCache(budget_bytes(pool_cache_mb))  # entries carry the pool_version read at

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else "unreachable"
            raise DatabaseUnavailableError(self.where, reason) from None
        async with conn:
            await migrate(conn, self.where)
            if self.model is not None:
                await conn.execute(
                    "INSERT INTO models (id, labels, embedding_dim) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    (self.model.id, json.dumps(self.model.labels), self.model.embedding_dim),
                )
        pool = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=self._max_connections,
            kwargs={"autocommit": True, "options": "-c TimeZone=UTC"},
            open=False,
        )
        await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        self._pool = pool

    async def close(self) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        self._pools.clear()
        await pool.close()

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[psycopg.AsyncConnection]:
        if self._pool is None:
            raise StoreClosedError()
        async with self._pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def _writing(self, *, pipelined: bool = False) -> AsyncIterator[psycopg.AsyncConnection]:
        """One transaction; rolled back on any error so a failed write changes nothing.

        ``pipelined`` sends statements without waiting for each answer (libpq's pipeline mode):
        those whose results are not fetched travel with the next fetch, in one round trip. Only
        for writes that read results by fetching (``rowcount`` is unknown until then)."""
        async with self._reading() as conn:
            if not pipelined:
                async with conn.transaction():
                    yield conn
                return
            async with conn.pipeline(), conn.transaction():
                yield conn

    @staticmethod
    async def _one(conn: psycopg.AsyncConnection, sql: str, params: Sequence = ()) -> Any:
        cursor = await conn.execute(sql, params)
        return await cursor.fetchone()

    @staticmethod
    async def _all(conn: psycopg.AsyncConnection, sql: str, params: Sequence = ()) -> list:
        cursor = await conn.execute(sql, params)
        return await cursor.fetchall()

    @staticmethod
    async def _ensure_guilds(conn: psycopg.AsyncConnection, guild_ids: Sequence[int]) -> None:
        await conn.execute(
            "INSERT INTO guilds (id) SELECT unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
            (sorted(guild_ids),),
        )

    @staticmethod
    async def _ensure_users(conn: psycopg.AsyncConnection, user_ids: Iterable[int | None]) -> None:
        known = sorted({user for user in user_ids if user is not None})
        if known:
            await conn.execute(
                "INSERT INTO users (id) SELECT unnest(%s::bigint[]) ON CONFLICT DO NOTHING",
                (known,),
            )

    async def _bump(self, conn: psycopg.AsyncConnection, guild_ids: Sequence[int]) -> list[int]:
        """Move the servers' pool versions on, in this transaction; rows locked in id order so two
        writers on the same servers cannot deadlock, and with NO KEY UPDATE, which does not wait
        for the KEY SHARE locks that foreign-key checks of concurrent inserts hold on the same
        rows. Returns the new versions in id order."""
        rows = await self._all(
            conn,
            "UPDATE guilds SET pool_version = pool_version + 1 WHERE id IN "
            "(SELECT id FROM guilds WHERE id = ANY(%s::bigint[]) ORDER BY id FOR NO KEY UPDATE) "
            "RETURNING id, pool_version",
            (sorted(set(guild_ids)),),
        )
        for guild_id, _ in rows:
            self._pools.pop(guild_id)
        return [version for _, version in sorted(rows)]

    async def _check_dim(self, conn: psycopg.AsyncConnection, guild_id: int, dim: int, model_id: str | None) -> None:
        """Songs one model analysed in one server have one embedding size."""
        row = await self._one(
            conn,
            "SELECT length(embedding) FROM songs WHERE guild_id = %s AND model_id IS NOT DISTINCT FROM %s LIMIT 1",
            (guild_id, model_id),
        )
        if row is not None and row[0] // 4 != dim:
            raise IncompatibleEmbeddingError(guild_id, row[0] // 4, dim)

    async def _song_by(self, conn: psycopg.AsyncConnection, where: str, params: Sequence) -> Song | None:
        return await _fetch_song(await conn.execute(f"SELECT {_SONG_COLUMNS} FROM songs WHERE {where}", params))

    async def _require_song(self, conn: psycopg.AsyncConnection, guild_id: int, song_id: int) -> Song:
        song = await self._song_by(conn, "id = %s AND guild_id = %s", (song_id, guild_id))
        if song is None:
            raise UnknownSongError(guild_id, song_id)
        return song

    # -- songs and pools -------------------------------------------------------------------------

    async def add_song(self, song: NewSong) -> AddedSong:
        checked = check_song(song, self.genre_count)
        cached = self._pools.get(checked.guild_id)
        async with self._writing(pipelined=True) as conn:
            added, version = await self._add_song(conn, checked, song)
        if added.created and added.song.in_pool:
            self._grow_cache(cached, version, added.song)  # only once committed
        return added

    async def _add_song(
        self, conn: psycopg.AsyncConnection, checked: CheckedSong, song: NewSong
    ) -> tuple[AddedSong, int]:
        """The song added or found, and the server's pool version after this transaction (0 when
        the pool did not change)."""
        by_hash = ("guild_id = %s AND content_hash = %s", (checked.guild_id, checked.content_hash))
        # pipelined: these four statements travel in one round trip with the BEGIN, sent when
        # the dimension check fetches its answer
        await self._ensure_guilds(conn, [checked.guild_id])
        await self._ensure_users(conn, [checked.added_by])
        found = await conn.execute(f"SELECT {_SONG_COLUMNS} FROM songs WHERE {by_hash[0]}", by_hash[1])
        await self._check_dim(conn, checked.guild_id, checked.embedding_dim, checked.model_id)
        existing = await _fetch_song(found)
        if existing is None:
            row = await self._one(
                conn,
                f"INSERT INTO songs ({_INSERT_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                f"ON CONFLICT (guild_id, content_hash) DO NOTHING RETURNING {_SONG_COLUMNS}",
                _song_row(checked, song),
            )
            if row is not None:
                created = _song(row)
                version = (await self._bump(conn, [checked.guild_id]))[0] if created.in_pool else 0
                return AddedSong(created, created=True), version
            # another process stored the same audio since the first look
            existing = await self._song_by(conn, *by_hash)
        if existing.audio_missing:  # shared again: the radio may try it again
            await conn.execute("UPDATE songs SET audio_missing = false WHERE id = %s", (existing.id,))
            existing = await self._require_song(conn, checked.guild_id, existing.id)
        if checked.in_pool and not existing.in_pool:
            await conn.execute("UPDATE songs SET in_pool = true WHERE id = %s", (existing.id,))
            await self._bump(conn, [checked.guild_id])
            existing = await self._require_song(conn, checked.guild_id, existing.id)
        return AddedSong(existing, created=False), 0

    def _grow_cache(self, cached: CachedPool | None, version: int, song: Song) -> None:
        """Keep a cached matrix in step with one new song when it was current just before it."""
        if cached is None or cached.version != version - 1:
            return
        if self.model is not None and song.model_id != self.model.id:
            return  # another model's song: the pool is read again (its version moved on), with its mask
        grown = cached.with_song(song, version)
        if grown is not None:
            self._pools.put(song.guild_id, grown)

    async def add_songs(self, songs: Iterable[NewSong], *, progress: ProgressCallback | None = None) -> BulkAddReport:
        added = done = 0
        for chunk in chunks(songs, BULK_CHUNK):
            checked, rows = await asyncio.to_thread(_bulk_rows, chunk, self.genre_count)
            added += await self._insert_chunk(checked, rows)
            done += len(rows)
            if progress is not None:
                progress(done)
        return BulkAddReport(added=added, duplicates=done - added)

    async def _insert_chunk(self, checked: list[CheckedSong], rows: list[tuple]) -> int:
        """One transaction: COPY the chunk into a temporary table, insert the new songs from it,
        promote history-only duplicates into the pool. Returns how many songs were new."""
        guild_ids = sorted({song.guild_id for song in checked})
        async with self._writing() as conn:
            for guild_id, dim, model_id in sorted(
                {(song.guild_id, song.embedding_dim, song.model_id) for song in checked}, key=str
            ):
                await self._check_dim(conn, guild_id, dim, model_id)
            await self._ensure_guilds(conn, guild_ids)
            await self._ensure_users(conn, (song.added_by for song in checked))
            await self._bump(conn, guild_ids)
            await conn.execute(
                "CREATE TEMPORARY TABLE song_stage (ord int4, guild_id int8, content_hash text, "
                "title text, source_url text, message_url text, duration_s float8, "
                "probabilities bytea, embedding bytea, added_by int8, added_at timestamptz, "
                "in_pool bool, tags bytea, confident bool, model_id text) ON COMMIT DROP"
            )
            async with conn.cursor() as cursor:
                async with cursor.copy(f"COPY song_stage (ord, {_INSERT_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(_STAGE_TYPES)
                    for row in rows:
                        await copy.write_row(row)
                await cursor.execute(
                    f"INSERT INTO songs ({_INSERT_COLUMNS}) SELECT {_INSERT_COLUMNS} "
                    "FROM song_stage ORDER BY ord ON CONFLICT (guild_id, content_hash) DO NOTHING"
                )
                inserted = cursor.rowcount
            if inserted < len(rows):
                await conn.execute(
                    "UPDATE songs s SET in_pool = true FROM song_stage t "
                    "WHERE t.in_pool AND NOT s.in_pool "
                    "AND s.guild_id = t.guild_id AND s.content_hash = t.content_hash"
                )
                await conn.execute(  # shared again: the radio may try them again
                    "UPDATE songs s SET audio_missing = false FROM song_stage t WHERE s.audio_missing "
                    "AND s.guild_id = t.guild_id AND s.content_hash = t.content_hash"
                )
        return inserted

    async def get_song(self, guild_id: int, song_id: int) -> Song:
        guild_id, song_id = check_id("server", guild_id), check_id("song", song_id)
        async with self._reading() as conn:
            return await self._require_song(conn, guild_id, song_id)

    async def get_songs(self, guild_id: int, song_ids: Sequence[int]) -> list[Song]:
        guild_id = check_id("server", guild_id)
        wanted = [check_id("song", song_id) for song_id in song_ids]
        if not wanted:
            return []
        async with self._reading() as conn:
            rows = await self._all(
                conn,
                f"SELECT {_SONG_COLUMNS} FROM songs WHERE id = ANY(%s::bigint[]) AND guild_id = %s",
                (wanted, guild_id),
            )
        found = {row[0]: _song(row) for row in rows}
        return [found[song_id] for song_id in wanted if song_id in found]

    async def find_song(self, guild_id: int, content_hash: str) -> Song | None:
        guild_id = check_id("server", guild_id)
        async with self._reading() as conn:
            return await self._song_by(conn, "guild_id = %s AND content_hash = %s", (guild_id, content_hash))

    async def set_in_pool(self, guild_id: int, song_id: int, in_pool: bool) -> Song:
        guild_id, song_id = check_id("server", guild_id), check_id("song", song_id)
        async with self._writing() as conn:
            await self._require_song(conn, guild_id, song_id)
            await conn.execute("UPDATE songs SET in_pool = %s WHERE id = %s", (bool(in_pool), song_id))
            await self._bump(conn, [guild_id])
            return await self._require_song(conn, guild_id, song_id)

    async def remove_song(self, guild_id: int, song_id: int) -> Song:
        guild_id, song_id = check_id("server", guild_id), check_id("song", song_id)
        async with self._writing() as conn:
            song = await self._require_song(conn, guild_id, song_id)
            await conn.execute("DELETE FROM songs WHERE id = %s", (song_id,))
            await self._bump(conn, [guild_id])
        return song

    async def set_loudness(self, guild_id: int, song_id: int, loudness_lufs: float) -> Song:
        return await self._set_song_column(guild_id, song_id, "loudness_lufs", check_loudness(loudness_lufs))

    async def set_audio_missing(self, guild_id: int, song_id: int, missing: bool) -> Song:
        return await self._set_song_column(guild_id, song_id, "audio_missing", bool(missing))

    async def _set_song_column(self, guild_id: int, song_id: int, column: str, value: object) -> Song:
        """One column of one song of this server (``column`` is ours, never user input)."""
        guild_id, song_id = check_id("server", guild_id), check_id("song", song_id)
        async with self._writing() as conn:
            await self._require_song(conn, guild_id, song_id)
            await conn.execute(f"UPDATE songs SET {column} = %s WHERE id = %s", (value, song_id))
            return await self._require_song(conn, guild_id, song_id)

    async def audio_missing_ids(self, guild_id: int) -> list[int]:
        guild_id = check_id("server", guild_id)
        async with self._reading() as conn:
            cursor = await conn.execute(
                "SELECT id FROM songs WHERE guild_id = %s AND audio_missing ORDER BY id", (guild_id,)
            )
            rows = await cursor.fetchall()
        return [song_id for (song_id,) in rows]

    async def pool_size(self, guild_id: int) -> int:
        guild_id = check_id("server", guild_id)
        async with self._reading() as conn:
            row = await self._one(conn, "SELECT count(*) FROM songs WHERE guild_id = %s AND in_pool", (guild_id,))
        return int(row[0])

    async def pool_stats(self, guild_id: int) -> PoolStats:
        matrix = await self.pool_matrix(guild_id)
        async with self._reading() as conn:
            row = await self._one(
                conn,
                "SELECT coalesce(sum(duration_s), 0.0) FROM songs WHERE guild_id = %s AND in_pool",
                (guild_id,),
            )
            contributors = await self._all(
                conn,
                "SELECT added_by, count(*) AS songs FROM songs "
                "WHERE guild_id = %s AND in_pool AND added_by IS NOT NULL "
                "GROUP BY added_by ORDER BY songs DESC, added_by",
                (guild_id,),
            )
        return pool_stats(matrix, row[0], [(int(user), int(count)) for user, count in contributors], self.genre_count)

    async def pool_matrix(self, guild_id: int) -> PoolMatrix:
        guild_id = check_id("server", guild_id)
        async with self._reading() as conn:
            row = await self._one(conn, "SELECT pool_version FROM guilds WHERE id = %s", (guild_id,))
        version = 0 if row is None else row[0]
        cached = self._pools.lookup(guild_id, version)
        if cached is not None:
            return cached
        return await self._pools.load_once(guild_id, version, lambda: self._load_pool(guild_id, version))

    async def _load_pool(self, guild_id: int, version: int) -> PoolMatrix:
        """Read the server's pool and cache it at ``version``, the version read before: rows read after
        it are at least as new, so at worst the pool is read again once more later."""
        async with self._reading() as conn:
            cursor = conn.cursor(binary=True)
            await cursor.execute(
                "SELECT id, added_by, probabilities, embedding, tags, confident, model_id FROM songs "
                "WHERE guild_id = %s AND in_pool ORDER BY id",
                (guild_id,),
            )
            rows = await cursor.fetchall()
            comparable = await self._comparable_models(conn)
        # building the arrays takes seconds for a 1M-song pool: keep it off the event loop
        matrix = await asyncio.to_thread(matrix_from_rows, guild_id, rows, self.genre_count, self.model, comparable)
        self._pools.put(guild_id, CachedPool(matrix, version))
        return matrix

    def pool_cache_stats(self) -> PoolCacheStats:
        return self._pools.stats()

    async def _comparable_models(self, conn: psycopg.AsyncConnection) -> frozenset[str | None]:
        if self.model is None:
            return frozenset()
        return comparable_models(self.model, await self._all(conn, "SELECT id, labels FROM models"))

    # -- analyses by model -----------------------------------------------------------------------

    async def other_model_songs(
        self, *, guild_id: int | None = None, after_id: int = 0, limit: int = 100, missing: bool = False
    ) -> list[Song]:
        if self.model is None:
            return []
        server = None if guild_id is None else check_id("server", guild_id)
        async with self._reading() as conn:
            rows = await self._all(
                conn,
                f"SELECT {_SONG_COLUMNS} FROM songs WHERE model_id IS DISTINCT FROM %(model)s "
                "AND audio_missing = %(missing)s AND id > %(after)s "
                "AND (%(server)s::bigint IS NULL OR guild_id = %(server)s) ORDER BY id LIMIT %(limit)s",
                {"model": self.model.id, "after": after_id, "server": server, "limit": limit, "missing": missing},
            )
        return [_song(row) for row in rows]

    async def replace_analysis(self, content_hash: str, analysis: Analysis) -> list[Song]:
        checked = check_analysis(analysis, self.genre_count)
        async with self._writing() as conn:
            rows = await self._all(
                conn,
                "SELECT id, guild_id FROM songs WHERE content_hash = %s AND model_id IS DISTINCT FROM %s "
                "ORDER BY id FOR UPDATE",
                (content_hash, checked.model_id),
            )
            guild_ids = sorted({guild for _, guild in rows})
            for guild_id in guild_ids:
                await self._check_dim(conn, guild_id, checked.embedding_dim, checked.model_id)
            if guild_ids:
                await self._bump(conn, guild_ids)
            songs = []
            for song_id, _ in rows:
                row = await self._one(
                    conn,
                    "UPDATE songs SET probabilities = %s, embedding = %s, duration_s = coalesce(%s, duration_s), "
                    f"tags = %s, confident = %s, model_id = %s WHERE id = %s RETURNING {_SONG_COLUMNS}",
                    (*analysis_row(checked), song_id),
                )
                songs.append(_song(row))
        return songs

    async def model_counts(self, *, guild_id: int | None = None) -> ModelCounts:
        serving = None if self.model is None else self.model.id
        server = None if guild_id is None else check_id("server", guild_id)
        async with self._reading() as conn:
            row = await self._one(
                conn,
                "SELECT count(*) FILTER (WHERE %(model)s::text IS NULL OR model_id = %(model)s), "
                "count(*) FILTER (WHERE model_id IS DISTINCT FROM %(model)s AND NOT audio_missing "
                "AND %(model)s::text IS NOT NULL), "
                "count(*) FILTER (WHERE model_id IS DISTINCT FROM %(model)s AND audio_missing "
                "AND %(model)s::text IS NOT NULL) "
                "FROM songs WHERE %(server)s::bigint IS NULL OR guild_id = %(server)s",
                {"model": serving, "server": server},
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
        async with self._writing() as conn:
            await self._require_song(conn, guild_id, song_id)
            await self._ensure_users(conn, [user_id])
            event_id, moment = await self._one(
                conn,
                "INSERT INTO events (guild_id, user_id, song_id, kind, at) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id, at",
                (guild_id, user_id, song_id, kind.value, aware_utc(at)),
            )
        return ListenEvent(event_id, guild_id, user_id, song_id, kind, moment.astimezone(UTC))

    async def listen_events(self, guild_id: int, user_id: int) -> list[ListenEvent]:
        guild_id, user_id = check_id("server", guild_id), check_id("user", user_id)
        async with self._reading() as conn:
            rows = await self._all(
                conn,
                "SELECT id, song_id, kind, at FROM events WHERE user_id = %s AND guild_id = %s ORDER BY at, id",
                (user_id, guild_id),
            )
        return [
            ListenEvent(event_id, guild_id, user_id, song_id, EventKind(kind), at.astimezone(UTC))
            for event_id, song_id, kind, at in rows
        ]

    async def events_since(self, guild_id: int, since: datetime) -> list[ListenEvent]:
        guild_id = check_id("server", guild_id)
        async with self._reading() as conn:
            rows = await self._all(
                conn,
                "SELECT id, user_id, song_id, kind, at FROM events WHERE guild_id = %s AND at >= %s ORDER BY at, id",
                (guild_id, aware_utc(since)),
            )
        return [
            ListenEvent(event_id, guild_id, user_id, song_id, EventKind(kind), at.astimezone(UTC))
            for event_id, user_id, song_id, kind, at in rows
        ]

    async def history(self, guild_id: int, user_id: int, *, limit: int = 25, offset: int = 0) -> list[HistoryEntry]:
        guild_id, user_id = check_id("server", guild_id), check_id("user", user_id)
        limit, offset = max(int(limit), 0), max(int(offset), 0)
        song_columns = ", ".join(f"s.{column}" for column in _SONG_COLUMNS.split(", "))
        async with self._reading() as conn:
            rows = await self._all(
                conn,
                f"SELECT e.id, e.kind, e.at, {song_columns} FROM events e "
                "JOIN songs s ON s.id = e.song_id "
                "WHERE e.user_id = %s AND e.guild_id = %s ORDER BY e.at DESC, e.id DESC "
                "LIMIT %s OFFSET %s",
                (user_id, guild_id, limit, offset),
            )
        entries = []
        for event_id, kind, at, *song_row in rows:
            song = _song(song_row)
            event = ListenEvent(event_id, guild_id, user_id, song.id, EventKind(kind), at.astimezone(UTC))
            entries.append(HistoryEntry(event, song))
        return entries

    # -- settings --------------------------------------------------------------------------------

    async def user_settings(self, user_id: int) -> UserSettings:
        user_id = check_id("user", user_id)
        async with self._reading() as conn:
            row = await self._one(conn, "SELECT variety FROM users WHERE id = %s", (user_id,))
        if row is None or row[0] is None:
            return UserSettings(user_id)
        return UserSettings(user_id, variety=row[0])

    async def set_variety(self, user_id: int, variety: float) -> UserSettings:
        user_id, value = check_id("user", user_id), check_variety(variety)
        async with self._writing() as conn:
            await self._ensure_users(conn, [user_id])
            await conn.execute("UPDATE users SET variety = %s WHERE id = %s", (value, user_id))
        return UserSettings(user_id, variety=value)

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        guild_id = check_id("server", guild_id)
        async with self._reading() as conn:
            return await self._guild_settings(conn, guild_id)

    async def _guild_settings(self, conn: psycopg.AsyncConnection, guild_id: int) -> GuildSettings:
        row = await self._one(conn, "SELECT auto_pool, teacher_role FROM guilds WHERE id = %s", (guild_id,))
        channels = await self._all(conn, "SELECT channel_id FROM index_channels WHERE guild_id = %s", (guild_id,))
        return GuildSettings(
            guild_id,
            auto_pool=True if row is None else bool(row[0]),
            index_channels=frozenset(channel for (channel,) in channels),
            teacher_role=None if row is None else row[1],
        )

    async def set_auto_pool(self, guild_id: int, enabled: bool) -> GuildSettings:
        guild_id = check_id("server", guild_id)
        async with self._writing() as conn:
            await self._ensure_guilds(conn, [guild_id])
            await conn.execute("UPDATE guilds SET auto_pool = %s WHERE id = %s", (bool(enabled), guild_id))
            return await self._guild_settings(conn, guild_id)

    async def set_index_channel(self, guild_id: int, channel_id: int, enabled: bool) -> GuildSettings:
        guild_id, channel_id = check_id("server", guild_id), check_id("channel", channel_id)
        async with self._writing() as conn:
            await self._ensure_guilds(conn, [guild_id])
            if enabled:
                await conn.execute(
                    "INSERT INTO index_channels (guild_id, channel_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (guild_id, channel_id),
                )
            else:
                await conn.execute(
                    "DELETE FROM index_channels WHERE guild_id = %s AND channel_id = %s",
                    (guild_id, channel_id),
                )
            return await self._guild_settings(conn, guild_id)

    async def set_teacher_role(self, guild_id: int, role_id: int | None) -> GuildSettings:
        guild_id = check_id("server", guild_id)
        role_id = None if role_id is None else check_id("role", role_id)
        async with self._writing() as conn:
            await self._ensure_guilds(conn, [guild_id])
            await conn.execute("UPDATE guilds SET teacher_role = %s WHERE id = %s", (role_id, guild_id))
            return await self._guild_settings(conn, guild_id)

    # -- genres a server teaches ------------------------------------------------------------------

    async def teach(self, guild_id: int, song_id: int, label: str, *, taught_by: int | None = None) -> int:
        guild_id, song_id, label = check_id("server", guild_id), check_id("song", song_id), check_label(label)
        taught_by = None if taught_by is None else check_id("user", taught_by)
        async with self._writing() as conn:
            await self._require_song(conn, guild_id, song_id)
            await self._ensure_users(conn, [taught_by])
            await conn.execute(
                "INSERT INTO taught_labels (guild_id, label, song_id, taught_by) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (guild_id, label, song_id, taught_by),
            )
            (count,) = await self._one(
                conn, "SELECT count(*) FROM taught_labels WHERE guild_id = %s AND label = %s", (guild_id, label)
            )
        return int(count)

    async def forget_label(self, guild_id: int, label: str) -> int:
        guild_id, label = check_id("server", guild_id), normalize_label(label)
        async with self._writing() as conn:
            cursor = await conn.execute(
                "DELETE FROM taught_labels WHERE guild_id = %s AND label = %s", (guild_id, label)
            )
            if not cursor.rowcount:
                raise UnknownLabelError(guild_id, label)
        return cursor.rowcount

    async def taught_examples(self, guild_id: int) -> dict[str, tuple[int, ...]]:
        guild_id = check_id("server", guild_id)
        async with self._reading() as conn:
            rows = await self._all(
                conn,
                "SELECT label, song_id FROM taught_labels WHERE guild_id = %s ORDER BY label, song_id",
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
        async with self._writing() as conn:
            await self._ensure_guilds(conn, [guild_id])
            (trained_at,) = await self._one(
                conn,
                "INSERT INTO taught_models (guild_id, version, state, trained_at, model_id) "
                "VALUES (%s, %s, %s, now(), %s) "
                "ON CONFLICT (guild_id) DO UPDATE SET version = excluded.version, state = excluded.state, "
                "trained_at = excluded.trained_at, model_id = excluded.model_id RETURNING trained_at",
                (guild_id, int(version), bytes(state), model_id),
            )
        return TaughtModel(guild_id, int(version), bytes(state), trained_at.astimezone(UTC), model_id)

    async def taught_model(self, guild_id: int) -> TaughtModel | None:
        guild_id = check_id("server", guild_id)
        async with self._reading() as conn:
            row = await self._one(
                conn,
                "SELECT version, state, trained_at, model_id FROM taught_models WHERE guild_id = %s",
                (guild_id,),
            )
        if row is None:
            return None
        return TaughtModel(guild_id, row[0], bytes(row[1]), row[2].astimezone(UTC), row[3])

    # -- privacy ---------------------------------------------------------------------------------

    async def forget_user(self, user_id: int, *, remove_shared_songs: bool = False) -> ForgetReport:
        user_id = check_id("user", user_id)
        async with self._writing() as conn:
            if await self._one(conn, "SELECT 1 FROM users WHERE id = %s", (user_id,)) is None:
                raise UnknownUserError(user_id)
            (events,) = await self._one(conn, "SELECT count(*) FROM events WHERE user_id = %s", (user_id,))
            touched = await self._all(conn, "SELECT DISTINCT guild_id FROM songs WHERE added_by = %s", (user_id,))
            await self._bump(conn, [guild_id for (guild_id,) in touched])
            if remove_shared_songs:
                cursor = await conn.execute("DELETE FROM songs WHERE added_by = %s", (user_id,))
                removed, anonymised = cursor.rowcount, 0
            else:
                cursor = await conn.execute(  # the links they shared go with their name
                    "UPDATE songs SET message_url = NULL, source_url = NULL WHERE added_by = %s", (user_id,)
                )
                removed, anonymised = 0, cursor.rowcount
            # cascades: the user's events go, songs they added lose their added_by
            await conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
        return ForgetReport(events=events, songs_removed=removed, songs_anonymised=anonymised)


__all__ = ["PostgresStore", "describe"]
