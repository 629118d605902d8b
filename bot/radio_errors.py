"""What the radio refuses or reports; ``str()`` is the sentence a user reads, facts stay attributes."""

from __future__ import annotations


class RadioError(Exception):
    """Base of the radio's own errors."""


class EmptyPoolError(RadioError):
    """The server's pool has no song at all."""

    def __init__(self, guild_id: int) -> None:
        self.guild_id = guild_id
        super().__init__(guild_id)

    def __str__(self) -> str:
        return ("This server's song pool is empty, so there is nothing to play. "
                "Share some music with /classify first, then start the radio.")


class NothingPlayableError(RadioError):
    """Every song of the pool lacks its audio."""

    def __init__(self, guild_id: int, missing: int) -> None:
        self.guild_id = guild_id
        self.missing = missing
        super().__init__(guild_id, missing)

    def __str__(self) -> str:
        return (f"None of the {self.missing} song(s) in this server's pool can be played: their audio "
                "is no longer available. Share them again to bring them back.")


class SongAudioMissing(RadioError):
    """One song's audio could not be had; the radio skips it and goes on (a note, not a failure)."""

    def __init__(self, song_id: int, title: str) -> None:
        self.song_id = song_id
        self.title = title
        super().__init__(song_id, title)

    def __str__(self) -> str:
        return f"Skipped “{self.title}”: its audio is no longer available. Share it again to bring it back."


class InvalidSongCountError(RadioError):
    """A render asked for a number of songs outside 1..limit."""

    def __init__(self, value: object, limit: int) -> None:
        self.value = value
        self.limit = limit
        super().__init__(value, limit)

    def __str__(self) -> str:
        return f"A radio render can have from 1 to {self.limit} songs (you asked for {self.value!r})."


class RenderWriteError(RadioError):
    """The rendered file could not be written."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(path, reason)

    def __str__(self) -> str:
        return f"Could not write {self.path}: {self.reason}."
