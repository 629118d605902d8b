"""The bot's own refusals, and the one place any exception becomes what a user reads.

Engine, storage, recommender and bot errors all carry a ``str()`` written for end users, so mapping
them is a matter of recognising them; everything else is a bug, logged with its traceback and
answered with an apology that promises nothing technical. Like ``storage.errors``, each error keeps
the facts it is about as attributes and builds its sentence in ``__str__``.

Framework-free: a front end maps its own framework's errors (e.g. discord.py's cooldowns and
permission checks, in ``cogs.replies``) and hands everything else to :func:`user_message`.
"""

from __future__ import annotations

import logging

from bot.render import duration
from genre_engine.errors import CheckpointError, GenreEngineError
from recommender.errors import RecommenderError
from storage.errors import StorageError, StoreClosedError

log = logging.getLogger("genrebot.errors")

GENERIC_APOLOGY = "Sorry, something went wrong on my side. It has been logged; please try again later."
NOT_STARTED = "I'm not fully started (or I'm shutting down). Please try again in a minute."


def mib(size_bytes: int) -> str:
    return f"{size_bytes / 2**20:.3g} MiB"


def _cut(text: str) -> str:
    """User-given text quoted back, cut short so a huge link cannot flood the reply."""
    return text[:100]


class GenreBotError(Exception):
    """A refusal the bot makes on purpose; ``str()`` is the sentence the user sees."""


class BusyError(GenreBotError):
    """Every worker is busy and the line is full (or the bot is shutting down)."""

    def __str__(self) -> str:
        return "I'm busy classifying other songs right now. Please try again in a moment."


class TooManyJobsError(GenreBotError):
    """The caller already has as many requests waiting or running as one person may."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(limit)

    def __str__(self) -> str:
        return (f"You already have {self.limit} request(s) in line, as many as I take from one person. "
                "Wait for one to finish, then try again.")


class QueueTooLongError(GenreBotError):
    """The line is so long that the request could not be answered before the caller stops waiting.
    ``ahead``: songs running or waiting before it; ``eta_s``: the estimate; ``limit_s``: the caller's."""

    def __init__(self, ahead: int, eta_s: float, limit_s: float) -> None:
        self.ahead = ahead
        self.eta_s = eta_s
        self.limit_s = limit_s
        super().__init__(ahead, eta_s, limit_s)

    def __str__(self) -> str:
        return (f"{self.ahead} song(s) are ahead of yours; that would take about {duration(self.eta_s)}, "
                "longer than I can keep your request open. Please try again later.")


class JobFailedError(GenreBotError):
    """A queued classification ended without a result: its workers failed it on every attempt (a
    crash that is not bad audio), or it was cancelled. ``status``: the job's last status."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(status)

    def __str__(self) -> str:
        return "Sorry, I couldn't analyse that song this time. It has been logged; please try again later."


class NotInServerError(GenreBotError):
    """A server-scoped action asked outside a server (a DM)."""

    def __str__(self) -> str:
        return "This command works inside a server, where there is a song pool to draw from."


class NotSharerError(GenreBotError):
    """Only the song's sharer or a server admin may put a history-only song into the pool."""

    def __init__(self, song_id: int) -> None:
        self.song_id = song_id
        super().__init__(song_id)

    def __str__(self) -> str:
        return "Only the person who shared this song or a server admin can add it to the pool."


class NotTeacherError(GenreBotError):
    """Teaching genres is for admins (Manage Server) and the role an admin named."""

    def __str__(self) -> str:
        return ("Only server admins (Manage Server) or members with the role an admin chose "
                "(`/genre role`) can teach genres.")


class OutOfRangeError(GenreBotError):
    """A count, page or other number a user gave outside what the command takes."""

    def __init__(self, what: str, value: object, low: int, high: int) -> None:
        self.what = what
        self.value = value
        self.low = low
        self.high = high
        super().__init__(what, value, low, high)

    def __str__(self) -> str:
        return f"{self.what} must be a whole number from {self.low} to {self.high} (got {_cut(str(self.value))})."


class TooManySongsError(GenreBotError):
    """More song ids in one request than a command takes."""

    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(count, limit)

    def __str__(self) -> str:
        return f"That is {self.count} songs; I take up to {self.limit} at once."


class UnknownSongsError(GenreBotError):
    """Some of the song ids given are not in this server (nothing was marked)."""

    def __init__(self, song_ids: tuple[int, ...]) -> None:
        self.song_ids = song_ids
        super().__init__(song_ids)

    def __str__(self) -> str:
        ids = _cut(", ".join(f"#{song_id}" for song_id in self.song_ids))
        if len(self.song_ids) == 1:
            return f"Song {ids} is not in this server's pool (it may have been removed), so nothing was marked."
        return f"Songs {ids} are not in this server's pool (they may have been removed), so nothing was marked."


class NoAudioGivenError(GenreBotError):
    """/classify got neither or both of a file and a link."""

    def __str__(self) -> str:
        return "Attach an audio file (`file:`) or give a link (`url:`), just one of the two."


class AttachmentTooLargeError(GenreBotError):
    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        super().__init__(size_bytes, limit_bytes)

    def __str__(self) -> str:
        return f"That file is {mib(self.size_bytes)}; I accept up to {mib(self.limit_bytes)}."


class TooLongError(GenreBotError):
    def __init__(self, duration_s: float, limit_s: float) -> None:
        self.duration_s = duration_s
        self.limit_s = limit_s
        super().__init__(duration_s, limit_s)

    def __str__(self) -> str:
        return f"That track is {duration(self.duration_s)} long; I classify tracks up to {duration(self.limit_s)}."


class FileMissingError(GenreBotError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(path)

    def __str__(self) -> str:
        return f"There is no file or folder at `{self.path}`."


class IsAFolderError(GenreBotError):
    """/classify was given a folder, which /index takes."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(path)

    def __str__(self) -> str:
        return (f"`{self.path}` is a folder; /classify takes one file. "
                f"To add every song in it to the pool, use `/index {self.path}`.")


class LinkError(GenreBotError):
    """A ``url:`` that was refused or could not be fetched."""


class UnsupportedLinkError(LinkError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(url)

    def __str__(self) -> str:
        return f"I can only fetch http:// and https:// links, and `{_cut(self.url)}` isn't one."


class InternalAddressError(LinkError):
    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(host)

    def __str__(self) -> str:
        return f"I won't fetch from `{_cut(self.host)}`: it points to a private or internal network address."


class UnresolvableHostError(LinkError):
    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(host)

    def __str__(self) -> str:
        return f"I couldn't find the server `{_cut(self.host)}`. Check the link for typos."


class PlaylistLinkError(LinkError):
    def __str__(self) -> str:
        return "That link is a playlist; send a link to a single song."


class DownloadTooLargeError(LinkError):
    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(limit_bytes)

    def __str__(self) -> str:
        return f"The audio behind that link is larger than {mib(self.limit_bytes)}, my limit."


class DownloadTimeoutError(LinkError):
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        super().__init__(timeout_s)

    def __str__(self) -> str:
        return f"Fetching that link took longer than {self.timeout_s:.0f} s, so I gave up. Try a file instead."


class NoAudioAtLinkError(LinkError):
    def __str__(self) -> str:
        return "I couldn't find any audio I can download at that link."


class LiveStreamLinkError(LinkError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(url)

    def __str__(self) -> str:
        return "That link is a live stream; send a link to a recording of a single song."


class NoSafeFormatError(LinkError):
    """The site offers the audio only through protocols the guarded downloader doesn't speak."""

    def __init__(self, url: str, protocols: tuple[str, ...]) -> None:
        self.url = url
        self.protocols = protocols
        super().__init__(url, protocols)

    def __str__(self) -> str:
        return "That site only offers the audio in a form I don't download (a stream, not a file). Try another link."


class GeoBlockedLinkError(LinkError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(url)

    def __str__(self) -> str:
        return "The site doesn't offer that audio in the country I'm running from."


class LinkRefusedError(LinkError):
    """The site answered 401/403, or said the item is private or needs a login."""

    def __init__(self, url: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(url, status)

    def __str__(self) -> str:
        return "The site wouldn't give me that audio: it may be private or need a login."


class LinkNotFoundError(LinkError):
    def __init__(self, url: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(url, status)

    def __str__(self) -> str:
        return "There's nothing at that link any more (the site says it's not found). Check the link."


class SiteError(LinkError):
    """The site answered, but not with something usable (an error page, a broken reply, a redirect to a
    place I don't go such as file:// or ftp://)."""

    def __init__(self, url: str, host: str) -> None:
        self.url = url
        self.host = host
        super().__init__(url, host)

    def __str__(self) -> str:
        return f"I couldn't get the audio from `{self.host[:100]}`: the site's answer wasn't something I can use."


class UnreachableSiteError(LinkError):
    def __init__(self, url: str, host: str) -> None:
        self.url = url
        self.host = host
        super().__init__(url, host)

    def __str__(self) -> str:
        return f"I couldn't reach `{self.host[:100]}` (the connection failed). Try again later or send a file."


class RadioError(GenreBotError):
    """What the radio refuses or reports: the voice channel, the pool, a render."""


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
        return (f"**{_cut(self.channel)}** is a stage channel; I only play in ordinary voice channels. "
                "Join one and start the radio there.")


class VoicePermissionError(RadioError):
    """The bot lacks permissions it needs in the voice channel (``missing``: their names)."""

    def __init__(self, channel: str, missing: tuple[str, ...]) -> None:
        self.channel = channel
        self.missing = missing
        super().__init__(channel, missing)

    def __str__(self) -> str:
        needed = " and ".join(self.missing)
        return (f"I can't play in **{_cut(self.channel)}**: I'm missing the {needed} permission there. "
                "Ask an admin to grant it to me (Connect and Speak are both needed).")


class ChannelFullError(RadioError):
    """The voice channel is at its user limit."""

    def __init__(self, channel: str, limit: int) -> None:
        self.channel = channel
        self.limit = limit
        super().__init__(channel, limit)

    def __str__(self) -> str:
        return (f"**{_cut(self.channel)}** is full ({self.limit} member(s) at most), so I can't join. "
                "Make room or raise its limit.")


class VoiceConnectError(RadioError):
    """Joining the voice channel failed or timed out (Discord's voice servers, the network)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        super().__init__(channel)

    def __str__(self) -> str:
        return f"I couldn't connect to **{_cut(self.channel)}** just now. Please try again in a moment."


class RadioBusyError(RadioError):
    """The server's one radio already plays in another voice channel."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        super().__init__(channel)

    def __str__(self) -> str:
        return (f"The radio is already playing in **{_cut(self.channel)}**; a server has one radio. "
                "Join it there, or /radio stop it first.")


class NoRadioError(RadioError):
    """/skip, /nowplaying, /queue or /radio stop while no radio plays in the server."""

    def __str__(self) -> str:
        return "The radio isn't playing in this server. Start it with /radio start from a voice channel."


class NotListeningError(RadioError):
    """Only someone in the radio's voice channel may skip."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        super().__init__(channel)

    def __str__(self) -> str:
        return f"Only listeners can skip: join **{_cut(self.channel)}** first."


class SongNotPlayingError(RadioError):
    """A Skip button of a song that has already ended."""

    def __init__(self, song_id: int) -> None:
        self.song_id = song_id
        super().__init__(song_id)

    def __str__(self) -> str:
        return "That song has already ended."


def user_message(error: BaseException) -> str:
    """What to tell the user about ``error``; unexpected errors are logged here, once."""
    if isinstance(error, CheckpointError | StoreClosedError):
        log.error("service unavailable", extra={"error": repr(error)})
        return NOT_STARTED
    if isinstance(error, GenreBotError | GenreEngineError | StorageError | RecommenderError):
        return str(error)
    log.error("unexpected error", exc_info=error)
    return GENERIC_APOLOGY
