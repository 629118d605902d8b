"""Storage errors.

Every error carries the facts it is about as attributes (for logs and tests) and a ``str()`` that is
a friendly sentence fit to show an end user as is, so the front ends map them to messages in one
place without parsing text.
"""

from __future__ import annotations

from genre_engine.errors import PortableError


class StorageError(PortableError):
    """Base of every error the store raises on purpose."""


class UnknownUserError(StorageError):
    """The bot has nothing stored about this user (e.g. ``forget`` of someone never seen)."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__(user_id)

    def __str__(self) -> str:
        return "I don't have anything stored about you."


class UnknownSongError(StorageError):
    """The song does not exist in this server (never added, removed, or from another server)."""

    def __init__(self, guild_id: int, song_id: int) -> None:
        self.guild_id = guild_id
        self.song_id = song_id
        super().__init__(guild_id, song_id)

    def __str__(self) -> str:
        return f"Song #{self.song_id} is not in this server's pool (it may have been removed)."


class InvalidVarietyError(StorageError, ValueError):
    """A variety outside [0, 1], NaN, or not a number."""

    def __init__(self, value: object) -> None:
        self.value = value
        super().__init__(value)

    def __str__(self) -> str:
        return f"Variety must be a number from 0.0 to 1.0 (got {self.value!r})."


class InvalidIdError(StorageError, ValueError):
    """A user, server, channel or song id that is not a positive 63-bit integer (Discord snowflake)."""

    def __init__(self, what: str, value: object) -> None:
        self.what = what
        self.value = value
        super().__init__(what, value)

    def __str__(self) -> str:
        return f"That is not a valid {self.what} id ({self.value!r})."


class InvalidEventKindError(StorageError, ValueError):
    """A listen event kind outside :class:`storage.base.EventKind`."""

    def __init__(self, value: object, allowed: tuple[str, ...]) -> None:
        self.value = value
        self.allowed = allowed
        super().__init__(value, allowed)

    def __str__(self) -> str:
        kinds = ", ".join(self.allowed)
        return f"Unknown kind of listen event {self.value!r}; expected one of: {kinds}."


class InvalidSongError(StorageError, ValueError):
    """A song whose fields cannot be stored (bad probability vector, embedding, hash or title)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return f"This song could not be saved: {self.reason}."


class IncompatibleEmbeddingError(StorageError):
    """The song's embedding size differs from the rest of the server's pool.

    Happens when the genre model changed between indexing runs; mixing sizes would make similarity
    meaningless, so the song is refused rather than silently stored.
    """

    def __init__(self, guild_id: int, expected: int, got: int) -> None:
        self.guild_id = guild_id
        self.expected = expected
        self.got = got
        super().__init__(guild_id, expected, got)

    def __str__(self) -> str:
        return (
            "This song was analysed by a different model version than the rest of this server's "
            f"pool (embedding size {self.got}, pool uses {self.expected}); re-index the pool first."
        )


class SchemaTooNewError(StorageError):
    """The database file was written by a newer genrebot; opening it could corrupt it."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        self.path = path
        self.found = found
        self.supported = supported
        super().__init__(path, found, supported)

    def __str__(self) -> str:
        return (
            f"The database {self.path} uses schema version {self.found}, newer than this genrebot "
            f"supports ({self.supported}); upgrade genrebot to open it."
        )


class MigrationFailedError(StorageError):
    """The database's schema could not be brought up to this genrebot's: a statement of a migration
    failed (a table of the same name made by something else, a read-only file, a full disk). The
    migrations run in one transaction, rolled back, so the database is as it was; what the database
    said is in the log, not in this sentence."""

    def __init__(self, path: str, found: int, target: int) -> None:
        self.path = path
        self.found = found
        self.target = target
        super().__init__(path, found, target)

    def __str__(self) -> str:
        return (
            f"I couldn't update the database {self.path} from schema version {self.found} to {self.target} "
            "for this genrebot. Nothing was changed: the database is as it was. The log says why; "
            "free disk space or write permission, or point --db at a genrebot database, then start again."
        )


class NotADatabaseError(StorageError):
    """The file exists but is not a SQLite database (e.g. ``--db README.md``); it is left untouched."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(path)

    def __str__(self) -> str:
        return (
            f"{self.path} is not a genrebot database (not a SQLite file); give a new file name "
            "or an existing genrebot database."
        )


class CannotOpenDatabaseError(StorageError):
    """SQLite cannot open or create the file: a folder, no permission, a missing parent it cannot make."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(path)

    def __str__(self) -> str:
        return f"I can't open or create the database file {self.path} (is it a folder, or not writable?)."


class StoreClosedError(StorageError):
    """A method was called before ``open()`` or after ``close()``."""

    def __str__(self) -> str:
        return "The song database is not open (the bot is starting up or shutting down)."


class DatabaseUnavailableError(StorageError):
    """The database server could not be reached or refused the connection at start-up.

    ``where`` names the server and database without the password; ``reason`` is the driver's
    one-line account (refused, unknown host, authentication failed)."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(where, reason)

    def __str__(self) -> str:
        return f"Cannot open the database {self.where}: {self.reason}"


class TransferSourceMissingError(StorageError):
    """``migrate-db`` was pointed at a SQLite file that does not exist."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(path)

    def __str__(self) -> str:
        return f"There is no SQLite database at {self.path} to copy (see --db / GENREBOT_DB)."


class TransferMismatchError(StorageError):
    """After a copy, a table of the target does not hold as many rows as the SQLite file: the
    target was not empty (or held another bot's data) when the copy started."""

    def __init__(self, table: str, source: int, target: int) -> None:
        self.table = table
        self.source = source
        self.target = target
        super().__init__(table, source, target)

    def __str__(self) -> str:
        return (
            f"The copy does not match: {self.table} has {self.source} rows in the SQLite file but "
            f"{self.target} in PostgreSQL. Copy into an empty database (or one this command filled)."
        )


class InvalidLabelError(StorageError, ValueError):
    """A genre label a server teaches that is empty, too long, or holds characters other than letters,
    digits, spaces and ``- & ' + . / ! ?``."""

    def __init__(self, label: object, max_chars: int) -> None:
        self.label = label
        self.max_chars = max_chars
        super().__init__(label, max_chars)

    def __str__(self) -> str:
        return (
            f"A genre label is a name of 1 to {self.max_chars} letters, digits, spaces and - & ' + . / ! ?, "
            "e.g. `synthwave` or `lo-fi`."
        )


class UnknownLabelError(StorageError):
    """No song of this server is taught the label."""

    def __init__(self, guild_id: int, label: str) -> None:
        self.guild_id = guild_id
        self.label = label
        super().__init__(guild_id, label)

    def __str__(self) -> str:
        return f"No song here is taught the genre `{self.label[:40]}`; `/genre list` shows the taught ones."
