"""The console front end: the bot's commands typed (or piped) line by line, as a local user in a local
server, so the product can be tried in a minute without a Discord account.

``printf '/classify song.mp3\\n/playlist\\n' | python -m bot`` works as well as typing; the console
exits 0 at the end of its input. Output goes to standard output, logs and progress bars to standard
error.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TextIO

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from bot import render, texts
from bot.errors import GenreBotError, user_message
from bot.jobs.threads import Place
from bot.services import Caller, Classified, IndexReport, Services
from bot.teaching import quality_text
from recommender.service import Playlist
from storage import EventKind

LOCAL_GUILD_ID = 1
DEFAULT_USER = "me"
MAP_FILE = "pool-map{}.png"  # in the config's maps folder: one per genre picked out, replaced each time


class UsageError(GenreBotError):
    """A console command typed wrongly; ``hint`` says how to type it."""

    def __init__(self, hint: str) -> None:
        self.hint = hint
        super().__init__(hint)

    def __str__(self) -> str:
        return self.hint


async def index_with_progress(services: Services, guild_id: int, folder: Path) -> IndexReport:
    """:meth:`Services.index_folder` with a progress bar on standard error (hidden when not a tty).

    The bar is drawn once the number of files is known (not first empty, then again), and log lines
    printed meanwhile go above it (tqdm's ``logging_redirect_tqdm``) instead of through it."""
    bars: list[tqdm] = []

    def total(count: int) -> None:
        bars.append(tqdm(total=count, desc="classifying", unit="file", file=sys.stderr, disable=None))

    def progress(done: int) -> None:
        bars[0].update(done - bars[0].n)

    with logging_redirect_tqdm():
        try:
            return await services.index_folder(guild_id, folder, total=total, progress=progress)
        finally:
            for bar in bars:
                bar.close()


def help_text() -> str:
    lines = [f"  {command.console:<23} {command.text}" for command in texts.COMMANDS if command.console]
    return "\n".join(
        ["Commands (the same as the Discord bot's, plus /index and /user):", *lines, "End of input (Ctrl-D) quits."]
    )


def local_user_id(name: str) -> int:
    """A stable positive id per local name, so each name keeps its own history across runs."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big") or 1


def _playlist_args(args: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The positional count and the ``name:value`` filters after it (``style:electronic``,
    ``genre:lo-fi``); a value may go on over the next words (``genre:hard rock``)."""
    positional: list[str] = []
    filters: list[tuple[str, str]] = []
    for arg in args:
        name, colon, value = arg.partition(":")
        if colon and name:
            filters.append((name.lower(), value))
        elif filters:
            filters[-1] = (filters[-1][0], f"{filters[-1][1]} {arg}")
        else:
            positional.append(arg)
    if any(not value.strip() for _, value in filters):
        raise UsageError("A filter is `name:value`, e.g. `/playlist 10 style:electronic` or `mood:chill`.")
    return positional, filters


def _ids(args: list[str], example: str) -> list[int]:
    """Song ids typed as ``12`` or ``#12``; ``example`` is the command's own usage, for the error."""
    try:
        ids = [int(arg.lstrip("#")) for arg in args]
    except ValueError:
        raise UsageError(f"Song ids are numbers, e.g. `{example}`.") from None
    if not ids:
        raise UsageError(f"Which song? Give its id, as shown after # in /playlist: `{example}`.")
    return ids


def suggestion(name: str, known: Iterable[str]) -> str:
    """``Unknown command `/playlst`. Did you mean /playlist?`` (difflib's closest match, if any)."""
    close = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    return f"Unknown command `{name}`.{hint} Type /help for the list."


class Console:
    def __init__(self, services: Services, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
        self.services = services
        self.stdin = stdin
        self.stdout = stdout
        self.user = DEFAULT_USER
        self.names = {local_user_id(DEFAULT_USER): DEFAULT_USER}  # the local users this console has been
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.commands: dict[str, Callable[[list[str], str], Awaitable[None]]] = {
            "/help": self.help,
            "/classify": self.classify,
            "/playlist": self.playlist,
            "/variety": self.variety,
            "/taste": self.taste,
            "/history": self.history,
            "/like": self.like,
            "/dislike": self.dislike,
            "/listened": self.listened,
            "/more": self.more,
            "/pool": self.pool,
            "/index": self.index,
            "/user": self.switch_user,
            "/forget": self.forget,
            "/genre": self.genre,
            "/radio": self.radio,
            "/journey": self.journey,
        }

    @property
    def caller(self) -> Caller:
        return Caller(LOCAL_GUILD_ID, local_user_id(self.user))

    def say(self, text: str = "") -> None:
        print(text, file=self.stdout, flush=True)

    def _read_lines(self, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
        """Feed standard input to the event loop. A daemon thread, not the loop's executor: a thread
        blocked in readline() must not keep Ctrl-C from ending the program."""
        try:
            for line in iter(self.stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)
        except RuntimeError:  # the loop closed first: the console is already gone
            pass

    async def readline(self) -> str | None:
        """The next line, or None at end of input."""
        if self.stdin.isatty():
            self.stdout.write(f"{self.user}> ")
            self.stdout.flush()
        line = await self._lines.get()
        return None if line is None else line.strip()

    async def run(self) -> int:
        threading.Thread(
            target=self._read_lines, args=(asyncio.get_running_loop(), self._lines), name="genrebot-stdin", daemon=True
        ).start()
        self.say(f"genrebot console: you are '{self.user}' in a local server. Type /help for commands.")
        while (line := await self.readline()) is not None:
            if line and not line.startswith("#"):
                await self.execute(line)
        return 0

    async def execute(self, line: str) -> None:
        """Run one command line; every error becomes a message, never a traceback."""
        if not self.stdin.isatty():
            self.say(f"> {line}")  # piped: echo, so the output reads like a session
        name, _, rest = line.partition(" ")
        command = self.commands.get(name.lower())
        if command is None:
            self.say(suggestion(name, self.commands))
            return
        try:
            await command(rest.split(), rest.strip())
        except Exception as error:  # noqa: BLE001 - the one place errors become messages
            self.say(f"⚠ {user_message(error)}")

    # -- commands --------------------------------------------------------------------------------

    async def help(self, args: list[str], rest: str) -> None:
        self.say(help_text())

    async def classify(self, args: list[str], rest: str) -> None:
        target = rest.strip().strip("'\"")
        if not target:
            raise UsageError("Give a file or a link: `/classify path/to/song.mp3`.")
        if target.startswith(("http://", "https://")) or "://" in target:
            audio = await self.services.fetch_link(target, self.caller, on_place=self._show_place)
        else:
            audio = await self.services.read_file(self.services.config.user_path(target), target)
        self._show_classified(await self.services.classify(self.caller, audio, on_place=self._show_place))

    def _show_place(self, place: Place) -> None:
        if place.place:  # waiting behind others (e.g. an /index still running); silent when it starts at once
            self.say(texts.place_in_line(place))

    def _show_classified(self, result: Classified) -> None:
        song = result.song
        where = "in the server pool" if song.in_pool else "in your history only (auto-pool is off)"
        known = "" if result.new else " (already known: reused the stored analysis)"
        genre = result.genre if result.confident else "not sure"
        self.say(f"🎵 {song.title}: {genre} · {render.duration(song.duration_s)} · song #{song.id} {where}{known}")
        self.say(f"   {texts.verdict(result)}")
        for line in render.bars(result.probabilities, top=5):
            self.say(f"   {line}")
        for heading, text in texts.tag_lines(result):
            self.say(f"   {heading}: {text}")

    async def playlist(self, args: list[str], rest: str) -> None:
        count_args, filters = _playlist_args(args)
        playlist = await self.services.playlist(self.caller, self._count(count_args, default=10), filters=filters)
        self.say(
            f"{texts.playlist_title(self.user, cold_start=playlist.cold_start)} (variety {playlist.variety:.2f}), "
            f"target mix: {render.mix_summary(self.services.genre_mix(playlist.target))}"
        )
        for place, entry in enumerate(playlist.entries, 1):
            song = entry.song
            self.say(f"{place:2d}. #{song.id} {song.title} ({render.duration(song.duration_s)}) — {entry.reason}")
        if playlist.hint:
            self.say(f"💡 {playlist.hint}")
        await self._first_day(playlist)

    async def _first_day(self, playlist: Playlist) -> None:
        """Under the server's mix a member with no history gets: songs covering the pool's sound,
        and the one command that likes them."""
        if not (playlist.cold_start and playlist.entries):
            return
        songs = await self.services.starter_songs(LOCAL_GUILD_ID)
        self.say(texts.STARTER)
        for song in songs:
            self.say(
                f"   #{song.id} {song.title} ({render.mix_summary(self.services.genre_mix(song.probabilities), 1)})"
            )
        self.say(f"   /like {' '.join(str(song.id) for song in songs)}")

    async def radio(self, args: list[str], rest: str) -> None:
        count_args, filters = _playlist_args(args)
        plan = await self.services.radio_plan(self.caller, self._count(count_args, default=5), filters=filters)
        if not plan.entries:
            self.say(plan.hint or "Nothing to play.")
            return
        mix = " the server's mix" if plan.cold_start else ""
        self.say(f"The radio would play{mix} for {self.user} (variety {plan.variety:.2f}):")
        for place, entry in enumerate(plan.entries, 1):
            song = entry.song
            self.say(f"{place:2d}. #{song.id} {song.title} ({render.duration(song.duration_s)}) — {entry.reason}")
        await self._first_day(plan)

    async def variety(self, args: list[str], rest: str) -> None:
        if not args:
            self.say(texts.variety_shown(await self.services.variety(self.caller)))
            return
        try:
            wanted = float(args[0])
        except ValueError:
            raise UsageError("Variety is a number from 0.0 to 1.0, e.g. `/variety 0.3`.") from None
        self.say(texts.variety_set(await self.services.set_variety(self.caller, wanted)))

    async def taste(self, args: list[str], rest: str) -> None:
        if args:
            if args[0].lower() != "compare" or len(args) < 2:
                raise UsageError("Use `/taste` for yours, or `/taste compare NAME` beside another local user's.")
            await self._compare(" ".join(args[1:]))
            return
        profile = await self.services.taste(self.caller)
        if profile.empty:
            self.say(texts.NO_TASTE)
            return
        self.say(f"Taste of {self.user}, {texts.taste_basis(profile)}:")
        for line in render.bars(self.services.genre_mix(profile.vector), top=5):
            self.say(f"   {line}")

    async def _compare(self, name: str) -> None:
        comparison = await self.services.compare_taste(self.caller, local_user_id(name))
        labels = self.services.labels
        self.say(f"{texts.compatibility_line(name, comparison.score)} ({texts.compatibility_basis(comparison)})")
        shared_styles = set(self.services.styles_of(comparison.their_tags))
        styles = [style for style in self.services.styles_of(comparison.my_tags) if style in shared_styles]
        self.say(f"You share: {texts.shared_text(comparison, labels, styles)}")
        self.say(f"Where you differ: {texts.difference_text(comparison, labels, name)}")
        mine, theirs = (self.services.genre_mix(p.vector) for p in (comparison.mine, comparison.theirs))
        for line in render.pair_bars(mine, theirs, ("you", name[:10])):
            self.say(f"   {line}")
        if comparison.suggestions:
            self.say(f"Songs from {name} you would probably like:")
        for place, suggestion in enumerate(comparison.suggestions, 1):
            song = suggestion.song
            self.say(f"{place:2d}. #{song.id} {song.title} — {texts.suggestion_reason(suggestion, name)}")

    async def journey(self, args: list[str], rest: str) -> None:
        if len(args) not in (2, 3):
            raise UsageError("Give two song ids and how many songs, if not 10: `/journey 12 40 8`.")
        from_id, to_id = _ids(args[:2], "/journey 12 40 8")
        journey = await self.services.journey(self.caller, from_id, to_id, self._count(args[2:], default=10))
        self.say(texts.journey_heading(journey) + ":")
        for place, song in enumerate(journey.songs, 1):
            self.say(f"{place}. #{song.id} {song.title}")
        if journey.hint:
            self.say(f"💡 {journey.hint}")

    async def history(self, args: list[str], rest: str) -> None:
        page = self._count(args[1:], default=1)
        entries = await self.services.history(self.caller, limit=self._count(args, default=10), page=page)
        if not entries:
            self.say(texts.history_empty(page))
        for entry in entries:
            song = entry.song
            self.say(
                f"{entry.event.at:%Y-%m-%d %H:%M} {entry.event.kind.value:<8} #{song.id} {song.title} "
                f"({render.mix_summary(self.services.genre_mix(song.probabilities), top=2)})"
            )

    async def _mark(self, args: list[str], kind: EventKind, command: str) -> None:
        songs = await self.services.mark(self.caller, _ids(args, f"{command} 12 15"), kind)
        self.say(f"Marked {kind.value}: " + ", ".join(f"#{song.id} {song.title}" for song in songs))

    async def like(self, args: list[str], rest: str) -> None:
        await self._mark(args, EventKind.LIKED, "/like")

    async def dislike(self, args: list[str], rest: str) -> None:
        await self._mark(args, EventKind.DISLIKED, "/dislike")

    async def listened(self, args: list[str], rest: str) -> None:
        await self._mark(args, EventKind.LISTENED, "/listened")

    async def more(self, args: list[str], rest: str) -> None:
        (song_id,) = _ids(args[:1], "/more 12")
        similar = await self.services.similar(LOCAL_GUILD_ID, song_id)
        if not similar:
            self.say("No other songs in the pool yet.")
        for found in similar:
            self.say(f"#{found.song.id} {found.song.title} — similarity {found.similarity:.2f}")

    async def pool(self, args: list[str], rest: str) -> None:
        action = args[0].lower() if args else "stats"
        if action == "stats":
            await self._pool_stats()
        elif action == "map":
            await self._pool_map(" ".join(args[1:]) or None)
        elif action == "remove":
            (song_id,) = _ids(args[1:2], "/pool remove 12")
            song = await self.services.remove_from_pool(LOCAL_GUILD_ID, song_id)
            self.say(f"Removed #{song.id} {song.title} from the pool.")
        elif action == "auto" and args[1:2] in (["on"], ["off"]):
            settings = await self.services.set_auto_pool(LOCAL_GUILD_ID, args[1] == "on")
            self.say(f"Auto-pool is {'on' if settings.auto_pool else 'off'}.")
        else:
            raise UsageError("Use `/pool stats`, `/pool map [GENRE]`, `/pool remove ID` or `/pool auto on|off`.")

    async def _pool_stats(self) -> None:
        stats = await self.services.pool_stats(LOCAL_GUILD_ID)
        self.say(
            f"Pool: {stats.songs} song(s), {render.duration(stats.total_duration_s)} of music, "
            f"from {stats.contributors} contributor(s)."
        )
        if stats.songs:
            counts = ", ".join(
                f"{genre} {int(n)}" for genre, n in render.ranked(self.services.genre_mix(stats.top_genre_counts)) if n
            )
            self.say(f"Songs by top genre: {counts}")
            self.say("All time:")
            for line in render.bars(self.services.genre_mix(stats.genre_mix), top=5):
                self.say(f"   {line}")
            for heading, text in texts.pool_tag_lines(await self.services.pool_tags(LOCAL_GUILD_ID)):
                self.say(f"{heading}: {text}")
        await self._week()
        self.say(texts.pool_cache_line(self.services.pool_cache_stats()))  # the local user is the admin
        reanalysing = texts.reanalysis_line(await self.services.model_state(LOCAL_GUILD_ID))
        if reanalysing:
            self.say(reanalysing)

    async def _week(self) -> None:
        week = await self.services.trends(LOCAL_GUILD_ID)
        if not week.played:
            self.say(f"This week: {texts.NO_ACTIVITY}")
            return
        self.say(f"This week: {texts.week_summary(week)}")
        for line in render.bars(self.services.genre_mix(week.mix), top=5):
            self.say(f"   {line}")
        self.say(f"Rising this week: {texts.rising_text(week, self.services.labels)}")
        active = ", ".join(f"{self.names.get(user, f'user {user}')} ({count})" for user, count in week.active)
        self.say(f"Most active this week: {active}")

    async def _pool_map(self, genre: str | None) -> None:
        drawn = await self.services.pool_map(self.caller, genre=genre)
        picked = "" if drawn.genre is None else "-" + re.sub(r"[^a-z0-9]+", "-", drawn.genre.lower()).strip("-")[:40]
        path = self.services.config.maps_folder / MAP_FILE.format(picked)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(drawn.png)

        await asyncio.to_thread(write)
        self.say(f"Map: {path}")

    async def genre(self, args: list[str], rest: str) -> None:
        """/genre teach ID LABEL | /genre forget LABEL | /genre list; the local user is the admin."""
        action = args[0].lower() if args else "list"
        teaching = self.services.teaching
        if action == "teach" and len(args) >= 3:
            (song_id,) = _ids(args[1:2], "/genre teach 12 synthwave")
            taught = await teaching.teach(
                LOCAL_GUILD_ID, self.caller.user_id, song_id, " ".join(args[2:]), is_admin=True
            )
            self.say(
                f"Taught: #{taught.song.id} {taught.song.title} is {taught.quality.label} "
                f"({quality_text(taught.quality)})."
            )
        elif action == "forget" and len(args) >= 2:
            removed = await teaching.forget(LOCAL_GUILD_ID, " ".join(args[1:]), is_admin=True)
            self.say(f"Forgot {' '.join(args[1:]).lower()} ({removed} example(s)).")
        elif action == "list":
            for line in texts.label_lines(await teaching.labels(LOCAL_GUILD_ID)):
                self.say(line)
        else:
            raise UsageError("Use `/genre teach ID LABEL`, `/genre forget LABEL` or `/genre list`.")

    async def index(self, args: list[str], rest: str) -> None:
        typed = rest.strip().strip("'\"")
        if not typed:
            raise UsageError("Which folder? `/index path/to/music` adds every audio file under it to the pool.")
        report = await index_with_progress(self.services, LOCAL_GUILD_ID, self.services.config.user_path(typed))
        for line in texts.index_lines(Path(typed), report):
            self.say(line)

    async def switch_user(self, args: list[str], rest: str) -> None:
        if not args:
            raise UsageError("Give a name: `/user alice`.")
        self.user = " ".join(args)
        self.names[local_user_id(self.user)] = self.user
        self.say(f"You are now '{self.user}'.")

    async def forget(self, args: list[str], rest: str) -> None:
        self.say(
            f"This deletes everything genrebot stores about '{self.user}' (history, settings). Type yes to confirm:"
        )
        answer = await self.readline()
        if (answer or "").lower() not in ("y", "yes"):
            self.say("Nothing deleted.")
            return
        report = await self.services.forget(self.caller)
        self.say(
            f"Forgotten: {report.events} event(s) deleted, {report.songs_anonymised} shared song(s) "
            "kept in the pool without your name."
        )

    @staticmethod
    def _count(args: list[str], default: int) -> int:
        if not args:
            return default
        try:
            return int(args[0])
        except ValueError:
            raise UsageError(f"`{args[0]}` is not a whole number.") from None
