"""The one place where the numbers users type are checked: counts, pages and song ids.

Both front ends hand user numbers to :class:`bot.services.Services` as they got them (Discord's option
ranges are a hint to Discord's client, not a guarantee: discord.py passes any integer through, and
the console passes whatever was typed), and the services check them here before any storage call,
so an absurd value gets a sentence instead of an ``OverflowError`` from SQLite or an empty answer.

Each check returns the value as an ``int`` or raises :class:`~bot.errors.OutOfRangeError` or
:class:`~bot.errors.TooManySongsError`; unknown song ids are storage's
:class:`~storage.errors.UnknownSongError` (an id outside SQLite's integer range cannot name a song).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.errors import OutOfRangeError, TooManySongsError
from storage.errors import UnknownSongError

# Largest id SQLite's INTEGER holds; Discord snowflakes and song ids fit below it.
MAX_ID = 2**63 - 1
# /history: entries per page (Discord shows them in one embed) and the last page anyone may ask for.
MAX_HISTORY_COUNT = 25
MAX_HISTORY_PAGE = 10_000
# Songs one /like (/dislike, /listened) may mark at once: a playlist menu's size.
MAX_MARKED_SONGS = 25
# /journey: songs in a journey, its two ends included (at most the recommender's playlist cap).
MIN_JOURNEY_SONGS = 3
DEFAULT_JOURNEY_SONGS = 10


def check_range(what: str, value: object, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``; OutOfRangeError for anything else (bools, floats, None)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise OutOfRangeError(what, value, low, high)
    return value


def check_history_page(limit: object, page: object) -> tuple[int, int]:
    """``(limit, offset)`` for storage from a /history ``limit`` (1..25 entries) and ``page`` (from 1)."""
    limit = check_range("The number of history entries", limit, 1, MAX_HISTORY_COUNT)
    page = check_range("The page", page, 1, MAX_HISTORY_PAGE)
    return limit, (page - 1) * limit


def check_song_ids(guild_id: int, song_ids: Sequence[object]) -> list[int]:
    """Distinct song ids in the order given; UnknownSongError for one that cannot exist (not a
    positive integer within SQLite's range), TooManySongsError beyond MAX_MARKED_SONGS."""
    if not song_ids:
        raise OutOfRangeError("The number of songs", 0, 1, MAX_MARKED_SONGS)
    unique = list(dict.fromkeys(song_ids))
    if len(unique) > MAX_MARKED_SONGS:
        raise TooManySongsError(len(unique), MAX_MARKED_SONGS)
    for song_id in unique:
        if isinstance(song_id, bool) or not isinstance(song_id, int) or not 0 < song_id <= MAX_ID:
            raise UnknownSongError(guild_id, song_id)
    return unique


def check_song_id(guild_id: int, song_id: object) -> int:
    """One song id, as :func:`check_song_ids`."""
    return check_song_ids(guild_id, [song_id])[0]


def check_journey_songs(value: object, limit: int) -> int:
    """The length of a journey, its ends included: from MIN_JOURNEY_SONGS to ``limit``."""
    return check_range("The number of songs in a journey", value, MIN_JOURNEY_SONGS, limit)
