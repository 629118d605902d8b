"""What both front ends say, written once: the command list of /help, variety, taste and indexing
messages. Markup is the front end's business: functions take ``strong``, which Discord makes
``**bold**`` and the console leaves plain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.render import duration
from bot.services import IndexReport
from bot.workers import Place
from recommender.profile import TasteProfile

Markup = Callable[[str], str]

INTRO = ("I listen to the music this server shares, tell its genre, and build each member "
         "a playlist from the server's own songs.")
NO_TASTE = "No taste profile yet: share songs with /classify or rate some from /playlist."
VARIETY_SCALE = "0 = exactly your taste, 1 = the whole pool"


def plain(text: str) -> str:
    return text


@dataclass(frozen=True)
class Command:
    """One line of /help: how Discord and the console spell it (None: that front end lacks it)."""

    discord: str | None
    console: str | None
    text: str


COMMANDS = (
    Command("/classify file: or url:", "/classify FILE_OR_URL",
            "The genre of a song, with a chart. It joins your history and the server pool."),
    Command("/playlist [count]", "/playlist [COUNT]",
            "Songs from the server pool for your taste, each with a reason; rate them below it."),
    Command("/variety [value]", "/variety [0..1]",
            f"Show or set how far playlists stray: {VARIETY_SCALE}."),
    Command("/taste", "/taste", "Your genre profile, and how many songs it rests on."),
    Command("/history [count] [page]", "/history [COUNT] [PAGE]", "What you shared, heard and rated here."),
    Command(None, "/like ID... | /dislike ID... | /listened ID...", "Rate songs (ids from /playlist)."),
    Command(None, "/more ID", "Songs that sound like song ID."),
    Command("/radio start [variety] · /radio stop", None,
            "Play the pool in your voice channel without end, picked for everyone listening there."),
    Command("/skip · /nowplaying · /queue", None,
            "Skip the song (early skips teach the radio), see what plays and why, and what comes next."),
    Command(None, "/radio [N]", "The next N songs the radio would play for you, with reasons."),
    Command("/forget", "/forget", "Delete everything I store about you (asks first)."),
    Command("/pool stats", "/pool stats", "The server pool at a glance."),
    Command("/pool remove · auto · channel", None,
            "Admins: remove a song, switch auto-pooling, index a channel's uploads."),
    Command(None, "/pool remove ID", "Take a song out of the pool."),
    Command(None, "/pool auto on|off", "Whether classified songs join the pool."),
    Command(None, "/index FOLDER", "Add every audio file under FOLDER to the pool."),
    Command(None, "/user NAME", "Act as another local user."),
    Command(None, "/help", "This list."),
)


def variety_shown(value: float, strong: Markup = plain) -> str:
    return f"Your variety is {strong(f'{value:.2f}')} ({VARIETY_SCALE})."


def variety_set(value: float, strong: Markup = plain) -> str:
    return f"Variety set to {strong(f'{value:.2f}')}."


def place_in_line(place: Place, strong: Markup = plain) -> str:
    """``You're #3 in line (about 0:12)…``, or that the song is being analysed (place 0)."""
    if place.place == 0:
        return "Your turn: analysing the song…"
    return f"You're {strong(f'#{place.place}')} in line (about {duration(place.eta_s)} to go)…"


def history_empty(page: int) -> str:
    """What /history says when a page has no entries."""
    if page == 1:
        return "Your history here is empty: share songs with /classify or rate some from /playlist."
    return f"Page {page} of your history is empty: it has fewer entries than that."


def taste_basis(profile: TasteProfile) -> str:
    """``from 3 song(s) and 5 event(s)``: what a taste profile rests on."""
    return f"from {profile.songs} song(s) and {profile.events} event(s)"


def index_lines(folder: Path, report: IndexReport, *, guild_id: int | None = None) -> list[str]:
    """The summary of an indexing run, then one line per file that failed and why."""
    where = f"{folder}" if guild_id is None else f"{folder} into server {guild_id}"
    summary = (f"Indexed {where}: {report.added} added, {report.duplicates} already in the pool, "
               f"{len(report.failed)} failed.")
    return [summary] + [f"   ✗ {path}: {why}" for path, why in report.failed]
