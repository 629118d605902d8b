"""One server's radio, without Discord: who is listening, what plays next, and what the way a song
was heard says about each listener.

The Discord layer owns the voice connection and the buttons; it tells a :class:`RadioSession` who
joins and leaves, asks it for the next track (from the player thread through the event loop), and
reports how each song ended. The rules that turn listening into history events are plain functions
so they can be read and tested on their own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO

import av

from bot.media_store import MediaStore, Owner
from bot.radio.errors import EmptyPoolError, NothingPlayableError, RadioError, SongAudioMissing
from bot.radio.loudness import gain_db, measure
from bot.radio.stream import Track, decode_48k
from genre_engine.engine import content_hash
from genre_engine.errors import NoSoundTrackError
from recommender.config import RecommenderConfig
from recommender.filters import PoolFilter
from recommender.genres import GENRES
from recommender.service import (
    DEFAULT_CONFIG,
    Playlist,
    PlaylistEntry,
    group_playlist_for,
)
from storage import EventKind, Song, Store

log = logging.getLogger("genrebot.radio")

QUEUE_SIZE = 5  # /queue shows the next five planned songs
LISTEN_FRACTION = 0.5  # the scrobbling rule: half the song...
LISTEN_CAP_S = 240.0  # ...or four minutes, whichever comes first
EARLY_SKIP_S = 30.0  # a skip this early says "not this song"
EMPTY_CHANNEL_LEAVE_S = 120.0  # leave a channel with no human for this long

Refetch = Callable[[Song], Awaitable[bytes | None]]


# -- the rules, as pure functions -----------------------------------------------------------------


def listen_threshold_s(duration_s: float | None) -> float:
    """Seconds after which a song counts as listened: half its length or 4 minutes, whichever is
    first (an unknown length: 4 minutes)."""
    if duration_s is None or duration_s <= 0:
        return LISTEN_CAP_S
    return min(duration_s * LISTEN_FRACTION, LISTEN_CAP_S)


def end_of_song_events(
    played_s: float, duration_s: float | None, *, finished: bool, skipped_by: int | None, listeners: Iterable[int]
) -> list[tuple[int, EventKind]]:
    """What the way a song ended records, as (user_id, kind) pairs.

    Played to its end, or for at least :func:`listen_threshold_s`: ``listened`` for every listener
    present. Skipped within its first 30 s: ``skipped`` for whoever skipped (nothing for the others).
    Skipped in between: nothing.
    """
    if finished or played_s >= listen_threshold_s(duration_s):
        return [(user_id, EventKind.LISTENED) for user_id in sorted(set(listeners))]
    if skipped_by is not None and played_s < EARLY_SKIP_S:
        return [(skipped_by, EventKind.SKIPPED)]
    return []


def button_event(button: str) -> EventKind:
    """The event a Like or Dislike button records for who pressed it."""
    return {"like": EventKind.LIKED, "dislike": EventKind.DISLIKED}[button]


def should_leave(alone_since: float | None, now: float, grace_s: float = EMPTY_CHANNEL_LEAVE_S) -> bool:
    """Whether to leave: the channel has had no human since ``alone_since`` (None: someone is there)
    for at least ``grace_s`` seconds (same clock as ``now``)."""
    return alone_since is not None and now - alone_since >= grace_s


def journey_entries(songs: Sequence[Song]) -> list[PlaylistEntry]:
    """A journey's songs as the radio plays them, each with its place: ``journey, step 3 of 8``."""
    return [PlaylistEntry(song, 1.0, f"journey, step {place} of {len(songs)}") for place, song in enumerate(songs, 1)]


# -- audio of a song ------------------------------------------------------------------------------


def _measure_file(handle) -> float:
    """Integrated loudness of an open audio file, which is rewound for playing."""
    loudness = measure(decode_48k(handle)).integrated_lufs
    handle.seek(0)
    return loudness


async def open_audio(media: MediaStore, song: Song, refetch: Refetch | None = None):
    """The song's audio as an open binary file, or None. A copy evicted from the media store is
    fetched again through ``refetch`` (the bot's guarded downloader) when the song came from a link,
    and kept only if it is the very audio the song was analysed from (its content hash): whatever a
    site serves now under that link is another song, and never stored under this one's hash."""
    handle = await asyncio.to_thread(media.open, song.content_hash)
    if handle is not None or refetch is None or not song.source_url:
        return handle
    try:
        data = await refetch(song)
    except Exception as error:  # any failure of the download: the song is just unavailable
        log.info("refetch failed", extra={"song": song.id, "error": repr(error)})
        return None
    if not data:
        return None
    if await asyncio.to_thread(content_hash, data) != song.content_hash:
        log.info("the link's audio changed", extra={"song": song.id, "guild": song.guild_id})
        return None
    await asyncio.to_thread(media.put, song.content_hash, data, Owner(song.guild_id, song.added_by or 0))
    return await asyncio.to_thread(media.open, song.content_hash)


async def upcoming(
    store: Store,
    guild_id: int,
    user_ids: Sequence[int],
    limit: int = QUEUE_SIZE,
    *,
    variety: float | None = None,
    exclude: Iterable[int] = (),
    seed: int | None = None,
    config: RecommenderConfig = DEFAULT_CONFIG,
    labels: Sequence[str] = GENRES,
    only: Sequence[PoolFilter] = (),
) -> Playlist:
    """The next ``limit`` songs the radio would play for these listeners, with reasons (the
    console's ``/radio [N]``, and the session's plan). Songs marked as missing their audio and the
    ids in ``exclude`` are left out; with ``only``, every song passes those filters (style, mood,
    genre; NothingMatchesError when no pool song does). ``config`` and ``labels``: the
    recommender's settings and the model's genre names, as for
    :func:`recommender.service.playlist_for`."""
    missing = await store.audio_missing_ids(guild_id)
    return await group_playlist_for(
        store,
        guild_id,
        list(user_ids),
        limit,
        variety=variety,
        exclude=sorted(set(exclude) | set(missing)),
        seed=seed,
        config=config,
        labels=labels,
        only=only,
    )


# -- the session ----------------------------------------------------------------------------------


@dataclass(eq=False)
class RadioTrack:
    """A song as the radio plays it: the stored song, why it was picked, and its audio track."""

    song: Song
    reason: str
    track: Track


class RadioSession:
    """The radio of one server.

    ``variety``: the /radio start option (None: the mean of the listeners' own settings).
    ``refetch``: fetches a link's audio again when its copy was evicted. ``on_note``: receives short
    notes for the channel (a song skipped because its audio is missing), as the RadioError whose
    sentence is the note, so a front end shows its facts (a title) as it shows member text. ``clock``: seconds, for the
    empty-channel rule. ``seed``: pins the exploration (tests, renders). ``only``: the /radio start
    filters (style, mood, genre), fixed for the session. ``config``, ``labels``: as for
    :func:`upcoming`. ``journey``: songs played first, in order (:func:`journey_entries`), before the
    radio picks for who listens. ``cold_start``: the last plan was the server's mix (nobody listening
    has a history).
    """

    def __init__(
        self,
        store: Store,
        media: MediaStore,
        guild_id: int,
        *,
        variety: float | None = None,
        refetch: Refetch | None = None,
        on_note: Callable[[RadioError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
        config: RecommenderConfig = DEFAULT_CONFIG,
        labels: Sequence[str] = GENRES,
        only: Sequence[PoolFilter] = (),
        journey: Sequence[PlaylistEntry] = (),
    ) -> None:
        self.store = store
        self.media = media
        self.guild_id = guild_id
        self.variety = variety
        self.refetch = refetch
        self.on_note = on_note
        self.clock = clock
        self.seed = seed
        self.config = config
        self.labels = labels
        self.only = tuple(only)
        self.listeners: set[int] = set()
        self.played: list[int] = []  # this session, in order
        self.planned: list[PlaylistEntry] = []
        self.journey: list[PlaylistEntry] = list(journey)
        self.cold_start = False
        self.alone_since: float | None = clock()
        self._opening = asyncio.Lock()
        self._plans = 0

    # listeners

    async def join(self, user_id: int, *, is_bot: bool = False) -> None:
        """A member entered the channel (bots are not listeners); the plan follows."""
        if is_bot or user_id in self.listeners:
            return
        self.listeners.add(user_id)
        self.alone_since = None
        await self.replan()

    async def leave(self, user_id: int) -> None:
        if user_id not in self.listeners:
            return
        self.listeners.discard(user_id)
        if not self.listeners:
            self.alone_since = self.clock()
        await self.replan()

    def should_leave(self) -> bool:
        return should_leave(self.alone_since, self.clock())

    # planning

    async def replan(self) -> None:
        """Plan the next songs for who is here now, leaving out what this session played."""
        seed = None if self.seed is None else self.seed + self._plans
        self._plans += 1
        limit = min(QUEUE_SIZE, self.config.max_playlist)  # a server may cap lists below five
        plan = await upcoming(
            self.store,
            self.guild_id,
            sorted(self.listeners),
            limit,
            variety=self.variety,
            exclude=self.played,
            seed=seed,
            config=self.config,
            labels=self.labels,
            only=self.only,
        )
        self.planned = list(plan.entries)
        self.cold_start = plan.cold_start

    async def queue(self, limit: int = QUEUE_SIZE) -> list[PlaylistEntry]:
        """The next ``limit`` songs: what is left of the journey, then the plan (a plan that playing
        has shortened is made anew)."""
        if len(self.journey) + len(self.planned) < limit:
            await self.replan()
        return [*self.journey, *self.planned][:limit]

    async def _next_entry(self) -> PlaylistEntry:
        if self.journey:
            return self.journey.pop(0)
        if not self.planned:
            await self.replan()
        if not self.planned and self.played:  # every song played: start over, not with the last one
            self.played = self.played[-1:]
            await self.replan()
            if not self.planned:
                self.played = []
                await self.replan()
        if not self.planned:
            missing = len(await self.store.audio_missing_ids(self.guild_id))
            if missing:
                raise NothingPlayableError(self.guild_id, missing)
            raise EmptyPoolError(self.guild_id)
        return self.planned.pop(0)

    async def next_track(self) -> RadioTrack:
        """The next song to play, its audio open and its gain known. A song whose audio cannot be had
        is marked missing in the store, reported through ``on_note``, and passed over. Raises
        EmptyPoolError, NothingPlayableError."""
        while True:
            entry = await self._next_entry()
            opened = await self._open_measured(entry.song)
            if opened is None:
                await self._missing(entry.song)
                continue
            handle, song = opened
            self.played.append(song.id)
            return RadioTrack(song, entry.reason, Track(song.id, song.title, handle, gain_db(song.loudness_lufs)))

    async def prepare(self) -> None:
        """Get the next planned song ready while the current one plays: a link's evicted copy fetched
        again, its loudness measured and stored, so that the pick between two songs is quick. A
        song whose audio cannot be had is left for its turn, when :meth:`next_track` notes it."""
        if not self.journey and not self.planned:
            await self.replan()
        upcoming_songs = self.journey or self.planned
        if not upcoming_songs:
            return
        entry = upcoming_songs[0]
        song = entry.song
        if song.loudness_lufs is not None and await asyncio.to_thread(self.media.has, song.content_hash):
            return
        opened = await self._open_measured(song)
        if opened is None:
            return
        handle, song = opened
        handle.close()
        if upcoming_songs and upcoming_songs[0] is entry:  # not re-planned (or played) meanwhile
            upcoming_songs[0] = replace(entry, song=song)

    async def _open_measured(self, song: Song) -> tuple[BinaryIO, Song] | None:
        """The song's audio, open, and the song with its loudness (measured and stored the first
        time); None when the audio cannot be had or read. One at a time, so a song being prepared
        is not fetched twice."""
        async with self._opening:
            handle = await open_audio(self.media, song, self.refetch)
            if handle is None or song.loudness_lufs is not None:
                return None if handle is None else (handle, song)
            try:
                loudness = await asyncio.to_thread(_measure_file, handle)
            except (av.FFmpegError, NoSoundTrackError, OSError):  # damaged, or no audio track
                handle.close()
                return None
            return handle, await self.store.set_loudness(self.guild_id, song.id, loudness)

    async def _missing(self, song: Song) -> None:
        await self.store.set_audio_missing(self.guild_id, song.id, True)
        note = SongAudioMissing(song.id, song.title)
        log.info("audio missing", extra={"guild": self.guild_id, "song": song.id})
        if self.on_note is not None:
            self.on_note(note)

    # feedback

    async def song_ended(self, played: RadioTrack, *, skipped_by: int | None = None) -> list[tuple[int, EventKind]]:
        """Record what the end of a song says (:func:`end_of_song_events`) for who is here now, and
        re-plan. ``played.track`` carries how long it played and whether it was skipped."""
        track = played.track
        finished = not track.skipped and track.error is None
        events = end_of_song_events(
            track.played_s,
            played.song.duration_s,
            finished=finished,
            skipped_by=skipped_by if track.skipped else None,
            listeners=self.listeners,
        )
        for user_id, kind in events:
            await self.store.record_event(self.guild_id, user_id, played.song.id, kind)
        if events:
            await self.replan()
        return events

    async def press(self, user_id: int, song_id: int, button: str) -> EventKind:
        """Like or Dislike pressed by ``user_id`` on ``song_id``; the plan follows."""
        kind = button_event(button)
        await self.store.record_event(self.guild_id, user_id, song_id, kind)
        await self.replan()
        return kind
