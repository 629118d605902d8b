"""Versioned schema of the SQLite store, applied at start-up.

The schema version lives in SQLite's ``PRAGMA user_version``. Each migration is a tuple of
statements; the pending ones run in one transaction together with the version bump, so a crash or a
failing statement leaves the file as it was (MigrationFailedError says so), never half-migrated.
Migrations are append-only: a released one is never edited; a change to the schema is a new entry at
the end.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

import aiosqlite

from storage.errors import MigrationFailedError, SchemaTooNewError

log = logging.getLogger("genrebot.storage")

Migration = tuple[str, ...]

_EVENT_KINDS = "('shared', 'listened', 'liked', 'disliked', 'skipped')"

V1_INITIAL: Migration = (
    """CREATE TABLE guilds (
        id INTEGER PRIMARY KEY,
        auto_pool INTEGER NOT NULL DEFAULT 1 CHECK (auto_pool IN (0, 1)),
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE index_channels (
        guild_id INTEGER NOT NULL REFERENCES guilds(id) ON DELETE CASCADE,
        channel_id INTEGER NOT NULL,
        PRIMARY KEY (guild_id, channel_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        variety REAL CHECK (variety BETWEEN 0.0 AND 1.0),
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE songs (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL REFERENCES guilds(id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        source_url TEXT,
        message_url TEXT,
        duration_s REAL,
        probabilities BLOB NOT NULL,
        embedding BLOB NOT NULL,
        added_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        added_at REAL NOT NULL,
        in_pool INTEGER NOT NULL DEFAULT 1 CHECK (in_pool IN (0, 1)),
        UNIQUE (guild_id, content_hash)
    )""",
    # pool reads and sizes: rows of one server's pool in id order
    "CREATE INDEX songs_by_pool ON songs (guild_id, in_pool)",
    # forget: the songs a user added
    "CREATE INDEX songs_by_adder ON songs (added_by)",
    f"""CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL REFERENCES guilds(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN {_EVENT_KINDS}),
        at REAL NOT NULL
    )""",
    # a user's history in a server, covering, so /playlist reads no table rows for it
    "CREATE INDEX events_by_user ON events (user_id, guild_id, at, song_id, kind)",
    # cascade when a song is removed
    "CREATE INDEX events_by_song ON events (song_id)",
)

# the radio: a song's loudness is measured once (EBU R128 integrated, LUFS, before normalisation),
# and a song whose audio cannot be had is skipped until someone shares it again
V2_RADIO: Migration = (
    "ALTER TABLE songs ADD COLUMN loudness_lufs REAL",
    "ALTER TABLE songs ADD COLUMN audio_missing INTEGER NOT NULL DEFAULT 0 CHECK (audio_missing IN (0, 1))",
)

# Issue 13: what the tagger says about each song, the genres a server teaches, and the classifier
# fitted on them.
TAGS_AND_TAUGHT_GENRES: Migration = (
    # the tagger's probabilities (float32, genre_engine.tags order); NULL: analysed without tags
    "ALTER TABLE songs ADD COLUMN tags BLOB",
    # whether the engine stood by its ten-genre answer; NULL: analysed before it could say
    "ALTER TABLE songs ADD COLUMN confident INTEGER CHECK (confident IN (0, 1))",
    # the role whose members may teach genres besides admins
    "ALTER TABLE guilds ADD COLUMN teacher_role INTEGER",
    """CREATE TABLE taught_labels (
        guild_id INTEGER NOT NULL REFERENCES guilds(id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
        taught_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        at REAL NOT NULL,
        PRIMARY KEY (guild_id, label, song_id)
    ) WITHOUT ROWID""",
    # cascade when a song is removed
    "CREATE INDEX taught_labels_by_song ON taught_labels (song_id)",
    # forget: the labels a user taught
    "CREATE INDEX taught_labels_by_teacher ON taught_labels (taught_by)",
    """CREATE TABLE taught_models (
        guild_id INTEGER PRIMARY KEY REFERENCES guilds(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        state BLOB NOT NULL,
        trained_at REAL NOT NULL
    )""",
)

# Issue 19: every analysis names the model that made it, and the models a store has served are known
# by their labels and embedding size, so analyses of two models are never compared by sound.
MODEL_IDS: Migration = (
    # genre_engine.engine.model_id; NULL: analysed before analyses named their model
    "ALTER TABLE songs ADD COLUMN model_id TEXT",
    """CREATE TABLE models (
        id TEXT PRIMARY KEY,
        labels TEXT NOT NULL,
        embedding_dim INTEGER NOT NULL,
        first_served REAL NOT NULL
    ) WITHOUT ROWID""",
    # a new analysis replaces the old one of the same audio in every server
    "CREATE INDEX songs_by_hash ON songs (content_hash)",
    # the embeddings of which model a server's taught genres were fitted on
    "ALTER TABLE taught_models ADD COLUMN model_id TEXT",
)

# A server's recent events ("this week" under /pool stats) read without scanning every server's.
EVENTS_BY_TIME: Migration = ("CREATE INDEX events_by_guild_time ON events (guild_id, at)",)

MIGRATIONS: tuple[Migration, ...] = (V1_INITIAL, V2_RADIO, TAGS_AND_TAUGHT_GENRES, MODEL_IDS, EVENTS_BY_TIME)


async def schema_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


async def migrate(db: aiosqlite.Connection, path: str, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the pending migrations in order, in one transaction, and return the resulting version.

    ``db`` must be in autocommit mode (``isolation_level=None``) so that the explicit transaction
    here is the only one. The version is read inside the write transaction (``BEGIN IMMEDIATE``
    takes the write lock first), so processes opening a new file at once migrate it one after the
    other instead of both creating the tables. Raises SchemaTooNewError for a file from a newer
    genrebot, MigrationFailedError (the file untouched) when a statement fails.
    """
    await db.execute("BEGIN IMMEDIATE")
    current = 0
    try:
        current = await schema_version(db)
        if current > len(migrations):
            raise SchemaTooNewError(path, current, len(migrations))
        for version in range(current + 1, len(migrations) + 1):
            for statement in migrations[version - 1]:
                await db.execute(statement)
        await db.execute(f"PRAGMA user_version = {len(migrations)}")
    except sqlite3.Error as error:
        await db.execute("ROLLBACK")
        log.error("database migration failed", extra={"db": path, "from": current, "error": str(error)})
        raise MigrationFailedError(path, current, len(migrations)) from error
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
    return len(migrations)
