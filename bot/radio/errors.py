"""What the radio refuses or reports: the voice channel, the pool, a render. ``str()`` is the
sentence the user sees (see :mod:`bot.errors`)."""

from __future__ import annotations

from bot.errors import GenreBotError, cut


class RadioError(GenreBotError):
    """What the radio refuses or reports: the voice channel, the pool, a render."""


class EmptyPoolError(RadioError):
    """The server's pool has no song at all."""

    def __init__(self, guild_id: int) -> None:
        self.guild_id = guild_id
        super().__init__(guild_id)

    def __str__(self) -> str:
        return (
            "This server's song pool is empty, so there is nothing to play. "
            "Share some music with /classify first, then start the radio."
        )


class NothingPlayableError(RadioError):
    """Every song of the pool lacks its audio."""

    def __init__(self, guild_id: int, missing: int) -> None:
        self.guild_id = guild_id
        self.missing = missing
        super().__init__(guild_id, missing)

    def __str__(self) -> str:
        return (
            f"None of the {self.missing} song(s) in this server's pool can be played: their audio "
            "is no longer available. Share them again to bring them back."
        )


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


class NotInVoiceError(RadioError):
    """/radio start from someone who is in no voice channel of the server."""

    def __str__(self) -> str:
        return "Join a voice channel first, then start the radio: I play where you are."


class StageChannelError(RadioError):
    """The caller is in a stage channel, where a bot would need to be made a speaker."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        super().__init__(channel)

    def __str__(self) -> str:
        return (
            f"**{cut(self.channel)}** is a stage channel; I only play in ordinary voice channels. "
            "Join one and start the radio there."
        )


class VoicePermissionError(RadioError):
    """The bot lacks permissions it needs in the voice channel (``missing``: their names)."""

    def __init__(self, channel: str, missing: tuple[str, ...]) -> None:
        self.channel = channel
        self.missing = missing
        super().__init__(channel, missing)

    def __str__(self) -> str:
        needed = " and ".join(self.missing)
        return (
            f"I can't play in **{cut(self.channel)}**: I'm missing the {needed} permission there. "
            "Ask an admin to grant it to me (Connect and Speak are both needed)."
        )


class ChannelFullError(RadioError):
    """The voice channel is at its user limit."""

    def __init__(self, channel: str, limit: int) -> None:
        self.channel = channel
        self.limit = limit
        super().__init__(channel, limit)

    def __str__(self) -> str:
        return (
            f"**{cut(self.channel)}** is full ({self.limit} member(s) at most), so I can't join. "
            "Make room or raise its limit."
        )


class VoiceConnectError(RadioError):
    """Joining the voice channel failed or timed out (Discord's voice servers, the network)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        super().__init__(channel)

    def __str__(self) -> str:
        return f"I couldn't connect to **{cut(self.channel)}** just now. Please try again in a moment."


class RadioBusyError(RadioError):
    """The server's one radio already plays in another voice channel."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        super().__init__(channel)

    def __str__(self) -> str:
        return (
            f"The radio is already playing in **{cut(self.channel)}**; a server has one radio. "
            "Join it there, or /radio stop it first."
        )


class NoRadioError(RadioError):
    """/skip, /nowplaying, /queue or /radio stop while no radio plays in the server."""

    def __str__(self) -> str:
        return "The radio isn't playing in this server. Start it with /radio start from a voice channel."


class NotListeningError(RadioError):
    """Only someone in the radio's voice channel may skip or stop it (and an admin may stop it)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        super().__init__(channel)

    def __str__(self) -> str:
        return (
            f"Only listeners can skip or stop the radio (admins can stop it from anywhere): "
            f"join **{cut(self.channel)}** first."
        )


class SongNotPlayingError(RadioError):
    """A Skip button of a song that has already ended."""

    def __init__(self, song_id: int) -> None:
        self.song_id = song_id
        super().__init__(song_id)

    def __str__(self) -> str:
        return "That song has already ended."


class HalfJourneyError(RadioError):
    """``/radio start`` given one end of a journey (``from:`` or ``to:``) without the other."""

    def __str__(self) -> str:
        return "A journey needs both ends: give `from:` and `to:` (two song numbers), or neither."
