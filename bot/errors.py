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
from collections.abc import Callable

from bot.render import duration
from genre_engine.errors import CheckpointError, GenreEngineError, PortableError
from recommender.errors import RecommenderError
from storage.errors import StorageError, StoreClosedError

log = logging.getLogger("genrebot.errors")

GENERIC_APOLOGY = "Sorry, something went wrong on my side. It has been logged; please try again later."
NOT_STARTED = "I'm not fully started (or I'm shutting down). Please try again in a minute."


def mib(size_bytes: int) -> str:
    return f"{size_bytes / 2**20:.3g} MiB"


def cut(text: str) -> str:
    """User-given text quoted back, cut short so a huge link cannot flood the reply."""
    return text[:100]


class GenreBotError(PortableError):
    """A refusal the bot makes on purpose; ``str()`` is the sentence the user sees."""


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
        return (
            "Only server admins (Manage Server) or members with the role an admin chose "
            "(`/genre role`) can teach genres."
        )


class TooManyLabelsError(GenreBotError):
    """A server already teaches as many genres as one server may (the ``--max-taught-labels`` setting)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(limit)

    def __str__(self) -> str:
        return (
            f"This server already teaches {self.limit} genres, as many as I keep for one server. "
            "Forget one (`/genre forget`) before teaching a new one; existing genres can still get examples."
        )


class OutOfRangeError(GenreBotError):
    """A count, page or other number a user gave outside what the command takes."""

    def __init__(self, what: str, value: object, low: int, high: int) -> None:
        self.what = what
        self.value = value
        self.low = low
        self.high = high
        super().__init__(what, value, low, high)

    def __str__(self) -> str:
        return f"{self.what} must be a whole number from {self.low} to {self.high} (got {cut(str(self.value))})."


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
        ids = cut(", ".join(f"#{song_id}" for song_id in self.song_ids))
        if len(self.song_ids) == 1:
            return f"Song {ids} is not in this server's pool (it may have been removed), so nothing was marked."
        return f"Songs {ids} are not in this server's pool (they may have been removed), so nothing was marked."


class NothingToMapError(GenreBotError):
    """``/pool map`` of a server whose pool is empty, or whose ``waiting`` songs all wait to be
    analysed again by the model in use (``bot.reanalysis``), so none can be placed by sound yet."""

    def __init__(self, waiting: int = 0) -> None:
        self.waiting = waiting
        super().__init__(waiting)

    def __str__(self) -> str:
        if self.waiting:
            return (
                f"All {self.waiting:,} song(s) of this server's pool are waiting to be analysed again by the model "
                "I use now, so none can be placed on the map yet. Ask again in a little while."
            )
        return "This server's song pool is empty, so there is no map yet. Share some music with /classify first."


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
        return (
            f"`{self.path}` is a folder; /classify takes one file. "
            f"To add every song in it to the pool, use `/index {self.path}`."
        )


def _same_facts(error: BaseException) -> BaseException:
    """A copy of ``error`` with the same facts, made without calling its ``__init__`` (whose
    parameters need not be its ``args``), as the job queue rebuilds the errors workers send."""
    shown = type(error).__new__(type(error))
    shown.args = error.args
    shown.__dict__.update(vars(error))
    return shown


def _as_is(text: str) -> str:
    return text


def sentence(
    error: BaseException, literal: Callable[[str], str] = _as_is, quoted: Callable[[str], str] = _as_is
) -> str:
    """``str(error)`` with every fact of it that is text (what a member typed or named: a value, a
    link, a title, a label) shown as a front end shows such text: through ``quoted`` where the
    sentence quotes it as code (between backticks), through ``literal`` elsewhere (Discord escapes its
    markdown; the console leaves text as it is). Only a fact the front end would show otherwise is
    touched (at most 100 characters of it): a marker stands in for it while the sentence is built,
    and a marker is no more one of the names a sentence tells apart than such a fact is."""
    shown, facts = _same_facts(error), {}
    for name, value in vars(error).items():
        if isinstance(value, str) and (literal(value) != value or quoted(value) != value):
            marker = f"\ue000{len(facts)}\ue001"
            facts[marker] = cut(value)
            setattr(shown, name, marker)
    text = str(shown)
    for marker, value in facts.items():
        before, found, after = text.partition(marker)
        if found:
            text = before + (quoted if before.count("`") % 2 else literal)(value) + after
    return text


def user_message(
    error: BaseException, literal: Callable[[str], str] = _as_is, quoted: Callable[[str], str] = _as_is
) -> str:
    """What to tell the user about ``error`` (its facts shown through ``literal`` and ``quoted``, see
    :func:`sentence`); unexpected errors are logged here, once."""
    if isinstance(error, CheckpointError | StoreClosedError):
        log.error("service unavailable", extra={"error": repr(error)})
        return NOT_STARTED
    if isinstance(error, GenreBotError | GenreEngineError | StorageError | RecommenderError):
        return sentence(error, literal, quoted)
    log.error("unexpected error", exc_info=error)
    return GENERIC_APOLOGY
