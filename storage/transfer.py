"""Copy a SQLite database into PostgreSQL (``python -m bot migrate-db --to postgresql://...``).

Everything is copied with its ids (users, servers, index channels, songs with their vectors bit for
bit, listen events), so links in messages and histories stay valid. Each chunk is streamed with
binary COPY into a temporary table and inserted with ``ON CONFLICT DO NOTHING``: running the copy
again adds only what is missing, which makes it idempotent and resumable. At the end the identity
sequences move past the copied ids, every server's pool version moves on (running processes reload
their cached pools), and the row counts of both databases are compared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.common import BULK_CHUNK, utc
from storage.errors import TransferMismatchError, TransferSourceMissingError
from storage.postgres import PostgresStore
from storage.sqlite import SQLiteStore

TransferProgress = Callable[[str, int, int], None]
"""Called with (table, rows done, rows in the table) after each chunk."""


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]  # PostgreSQL types, for binary COPY
    key: str  # SQLite ordering for keyset paging
    times: tuple[int, ...] = ()  # columns kept as Unix seconds in SQLite
    flags: tuple[int, ...] = ()  # columns kept as 0/1 (or NULL) in SQLite


# in foreign-key order
TABLES = (
    _Table(
        "models",
        ("id", "labels", "embedding_dim", "first_served"),
        ("text", "text", "int4", "timestamptz"),
        "id",
        (3,),
    ),
    _Table("users", ("id", "variety", "created_at"), ("int8", "float8", "timestamptz"), "id", (2,)),
    _Table(
        "guilds",
        ("id", "auto_pool", "created_at", "teacher_role"),
        ("int8", "bool", "timestamptz", "int8"),
        "id",
        (2,),
        (1,),
    ),
    _Table("index_channels", ("guild_id", "channel_id"), ("int8", "int8"), "guild_id, channel_id"),
    _Table(
        "songs",
        (
            "id",
            "guild_id",
            "content_hash",
            "title",
            "source_url",
            "message_url",
            "duration_s",
            "probabilities",
            "embedding",
            "added_by",
            "added_at",
            "in_pool",
            "loudness_lufs",
            "audio_missing",
            "tags",
            "confident",
            "model_id",
        ),
        (
            "int8",
            "int8",
            "text",
            "text",
            "text",
            "text",
            "float8",
            "bytea",
            "bytea",
            "int8",
            "timestamptz",
            "bool",
            "float8",
            "bool",
            "bytea",
            "bool",
            "text",
        ),
        "id",
        (10,),
        (11, 13, 15),
    ),  # fmt: skip
    _Table(
        "events",
        ("id", "guild_id", "user_id", "song_id", "kind", "at"),
        ("int8", "int8", "int8", "int8", "text", "timestamptz"),
        "id",
        (5,),
    ),
    _Table(
        "taught_labels",
        ("guild_id", "label", "song_id", "taught_by", "at"),
        ("int8", "text", "int8", "int8", "timestamptz"),
        "guild_id, label, song_id",
        (4,),
    ),
    _Table(
        "taught_models",
        ("guild_id", "version", "state", "trained_at", "model_id"),
        ("int8", "int4", "bytea", "timestamptz", "text"),
        "guild_id",
        (3,),
    ),
)


@dataclass(frozen=True)
class TransferReport:
    """Rows per table in the SQLite file (and now in PostgreSQL), and how many this run added."""

    counts: dict[str, int]
    copied: dict[str, int]


def _convert(table: _Table, row: Sequence) -> tuple:
    values = list(row)
    for index in table.times:
        values[index] = utc(values[index])
    for index in table.flags:
        values[index] = None if values[index] is None else bool(values[index])
    return tuple(values)


async def _copy_chunk(store: PostgresStore, table: _Table, rows: list[tuple]) -> int:
    columns = ", ".join(table.columns)
    async with store._writing() as conn:
        await conn.execute(
            f"CREATE TEMPORARY TABLE stage ON COMMIT DROP AS SELECT {columns} FROM {table.name} WITH NO DATA"
        )
        async with conn.cursor() as cursor:
            async with cursor.copy(f"COPY stage ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(table.types)
                for row in rows:
                    await copy.write_row(row)
            await cursor.execute(
                f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM stage ON CONFLICT DO NOTHING"
            )
            return cursor.rowcount


async def _copy_table(
    source: aiosqlite.Connection,
    store: PostgresStore,
    table: _Table,
    progress: TransferProgress | None,
) -> tuple[int, int]:
    (total,) = await (await source.execute(f"SELECT count(*) FROM {table.name}")).fetchone()
    done = copied = 0
    cursor = await source.execute(f"SELECT {', '.join(table.columns)} FROM {table.name} ORDER BY {table.key}")
    try:
        while rows := await cursor.fetchmany(BULK_CHUNK):
            copied += await _copy_chunk(store, table, [_convert(table, row) for row in rows])
            done += len(rows)
            if progress is not None:
                progress(table.name, done, total)
    finally:
        await cursor.close()
    return total, copied


async def _finish(store: PostgresStore) -> dict[str, int]:
    """Move the id sequences past the copied ids, tell running processes the pools changed, and
    return the row counts of the target."""
    async with store._writing() as conn:
        for name in ("songs", "events"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), coalesce(max(id), 0) + 1, false) FROM {name}"
            )
        await conn.execute("UPDATE guilds SET pool_version = pool_version + 1")
        counts = {}
        for table in TABLES:
            cursor = await conn.execute(f"SELECT count(*) FROM {table.name}")
            (counts[table.name],) = await cursor.fetchone()
    return counts


async def copy_sqlite_to_postgres(
    sqlite_path: str | Path, url: str, *, progress: TransferProgress | None = None
) -> TransferReport:
    """Copy the SQLite database at ``sqlite_path`` into the PostgreSQL database at ``url`` (which
    must exist; its tables are created if missing) and check that every table's count matches.

    Raises TransferSourceMissingError (no such file), DatabaseUnavailableError, SchemaTooNewError,
    and TransferMismatchError when the target held other rows.
    """
    path = Path(sqlite_path)
    if not path.is_file():
        raise TransferSourceMissingError(str(path))
    async with SQLiteStore(path):  # brings an older file up to the current schema
        pass
    counts: dict[str, int] = {}
    copied: dict[str, int] = {}
    async with PostgresStore(url) as store:
        async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as source:
            for table in TABLES:
                counts[table.name], copied[table.name] = await _copy_table(source, store, table, progress)
        found = await _finish(store)
    for table in TABLES:
        if found[table.name] != counts[table.name]:
            raise TransferMismatchError(table.name, counts[table.name], found[table.name])
    return TransferReport(counts=counts, copied=copied)


__all__ = ["TABLES", "TransferReport", "copy_sqlite_to_postgres"]
