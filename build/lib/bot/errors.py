"""The bot's own refusals, and the one place any exception becomes what a user reads.

Engine, storage and bot errors all carry a ``str()`` written for end users, so mapping them is a
matter of recognising them; everything else is a bug, logged with its traceback and answered with
an apology that promises nothing technical.
"""

from __future__ import annotations

import logging

from discord import app_commands

from bot.render import duration
from genre_engine.errors import CheckpointError, GenreEngineError
from recommender.errors import RecommenderError
from storage.errors import StorageError, StoreClosedError

log = logging.getLogger("genrebot.errors")

GENERIC_APOLOGY = "Sorry, something went wrong on my side. It has been logged; please try again later."


def mib(size_bytes: int) -> str:
    return f"{size_bytes / 2**20:.3g} MiB"


class GenreBotError(Exception):
    """A refusal the bot makes on purpose; ``str()`` is the sentence the user sees."""


class BusyError(GenreBotError):
    def __init__(self) -> None:
        super().__init__("I'm busy classifying other songs right now. Please try again in a moment.")


class NotInServerError(GenreBotError):
    def __init__(self) -> None:
        super().__init__("This command works inside a server, where there is a song pool to draw from.")


class NotAllowedError(GenreBotError):
    """The user may not do this here; the message says who may."""


class NoAudioGivenError(GenreBotError):
    def __init__(self) -> None:
        super().__init__("Attach an audio file (`file:`) or give a link (`url:`), just one of the two.")


class AttachmentTooLargeError(GenreBotError):
    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(f"That file is {mib(size_bytes)}; I accept up to {mib(limit_bytes)}.")


class NotAudioAttachmentError(GenreBotError):
    def __init__(self, filename: str) -> None:
        super().__init__(f"`{filename}` doesn't look like an audio file. Try mp3, ogg, wav, flac, m4a or opus.")


class TooLongError(GenreBotError):
    def __init__(self, duration_s: float, limit_s: float) -> None:
        super().__init__(f"That track is {duration(duration_s)} long; I classify tracks up to {duration(limit_s)}.")


class FileMissingError(GenreBotError):
    def __init__(self, path: str) -> None:
        super().__init__(f"There is no file or folder at `{path}`.")


class LinkError(GenreBotError):
    """A ``url:`` that was refused or could not be fetched."""


class UnsupportedLinkError(LinkError):
    def __init__(self, url: str) -> None:
        super().__init__(f"I can only fetch http:// and https:// links, and `{url[:100]}` isn't one.")


class InternalAddressError(LinkError):
    def __init__(self, host: str) -> None:
        super().__init__(f"I won't fetch from `{host[:100]}`: it points to a private or internal network address.")


class UnresolvableHostError(LinkError):
    def __init__(self, host: str) -> None:
        super().__init__(f"I couldn't find the server `{host[:100]}`. Check the link for typos.")


class PlaylistLinkError(LinkError):
    def __init__(self) -> None:
        super().__init__("That link is a playlist; send a link to a single song.")


class DownloadTooLargeError(LinkError):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"The audio behind that link is larger than {mib(limit_bytes)}, my limit.")


class DownloadTimeoutError(LinkError):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"Fetching that link took longer than {timeout_s:.0f} s, so I gave up. Try a file instead.")


class NoAudioAtLinkError(LinkError):
    def __init__(self) -> None:
        super().__init__("I couldn't find any audio I can download at that link.")


def user_message(error: BaseException) -> str:
    """What to tell the user about ``error``; unexpected errors are logged here, once."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, CheckpointError | StoreClosedError):
        log.error("service unavailable", extra={"error": repr(error)})
        return "I'm not fully started (or I'm shutting down). Please try again in a minute."
    if isinstance(error, GenreBotError | GenreEngineError | StorageError | RecommenderError):
        return str(error)
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Easy there! You can do that again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.NoPrivateMessage):
        return str(NotInServerError())
    if isinstance(error, app_commands.MissingPermissions):
        return "Only server admins (Manage Server permission) can do that."
    if isinstance(error, app_commands.TransformerError):
        return f"`{error.value}` isn't a valid value there."
    log.error("unexpected error", exc_info=error)
    return GENERIC_APOLOGY
