"""What genrebot does, independent of how it is asked: the Discord cogs and the console both call these.

Each method is one user-facing action (classify a song, build a playlist, forget me, ...). Blocking
work (decoding, the model, downloads) runs in bounded worker pools; storage is async. Errors are
the specific types of bot.errors, genre_engine.errors and storage.errors, which bot.errors turns into
user messages.

Everything is passed in: the config (with the recommender's), the genre model (any
:class:`~bot.classifier.Classifier`, whose labels name every probability vector) and a store opened
for that many genres. Nothing here knows a front end or its framework.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.arguments import (
    DEFAULT_JOURNEY_SONGS,
    check_history_page,
    check_journey_songs,
    check_song_id,
    check_song_ids,
)
from bot.classifier import Classifier
from bot.config import Config
from bot.errors import (
    AttachmentTooLargeError,
    FileMissingError,
    IsAFolderError,
    NothingToMapError,
    NotInServerError,
    NotSharerError,
    TooLongError,
    UnknownSongsError,
)
from bot.jobs.children import InChildren, InThread, Work, load_engine
from bot.jobs.threads import Jobs, PlaceCallback, ThreadJobs, WorkerPool
from bot.links.fetch import LinkPolicy
from bot.media_store import MediaStore, Owner
from bot.pool_map import draw_map
from bot.radio.errors import RadioError
from bot.radio.session import QUEUE_SIZE, RadioSession, journey_entries, upcoming
from bot.reanalysis import Progress, Reanalysis, analysis_of
from bot.teaching import Teaching
from genre_engine import GenreEngine, Prediction
from genre_engine.audio import FolderScan, scan_folder
from genre_engine.engine import content_hash
from genre_engine.errors import GenreEngineError, NotAudioError
from genre_engine.tags import TagReport, TagVocabulary, report
from recommender.ann import AnnIndexes
from recommender.errors import UnknownFilterError
from recommender.filters import PoolFilter, genre_filter, tag_filter
from recommender.layout import layout_of
from recommender.profile import TasteProfile
from recommender.service import (
    Playlist,
    SimilarSong,
    more_like_this,
    playlist_for,
    taste_of,
)
from recommender.starter import covering_rows_of
from recommender.together import (
    Journey,
    TasteComparison,
    compare_tastes,
    journey_between,
    recent_trends,
    starter_songs,
)
from recommender.trends import Trends
from storage import (
    EventKind,
    ForgetReport,
    GuildSettings,
    HistoryEntry,
    ModelCounts,
    NewSong,
    PoolCacheStats,
    PoolStats,
    ServingModel,
    Song,
    Store,
    describe_location,
    open_store,
)
from storage.errors import InvalidSongError
from storage.validation import check_song

log = logging.getLogger("genrebot.services")

RATINGS = (EventKind.LIKED, EventKind.DISLIKED)
MAP_TITLES = 8  # song titles written on the server's map


@dataclass(frozen=True)
class Caller:
    """Who asks, and in which server: None when asked outside one (a Discord DM), which is enough
    for the user's own settings and data but not for a server's pool (the console uses fixed local
    ids)."""

    guild_id: int | None
    user_id: int

    @property
    def server_id(self) -> int:
        """The server asked from; NotInServerError outside one."""
        if self.guild_id is None:
            raise NotInServerError()
        return self.guild_id


@dataclass(frozen=True)
class AudioInput:
    """Audio to classify, with what we know about where it came from."""

    data: bytes
    title: str
    source_url: str | None = None  # the link or the attachment's URL
    message_url: str | None = None  # the Discord message it was shared in


@dataclass(frozen=True)
class Classified:
    """A song after /classify. ``new``: this audio was not in the server before (otherwise the stored
    analysis was reused and nothing was re-computed). ``labels``: the model's genre names.
    ``tags``: its styles, moods, eras and whether the genre is a verdict (None: the model has no
    tagger); ``taught``: the server's own genres it has (taught or predicted)."""

    song: Song
    new: bool
    labels: Sequence[str]
    tags: TagReport | None = None
    taught: tuple[str, ...] = ()

    @property
    def confident(self) -> bool:
        return self.tags is None or self.tags.confident

    @property
    def probabilities(self) -> dict[str, float]:
        return genre_mix(self.labels, self.song.probabilities)

    @property
    def genre(self) -> str:
        return self.labels[int(np.argmax(self.song.probabilities))]


@dataclass(frozen=True)
class PoolTags:
    """What the pool's songs sound like beyond the ten genres: songs per style and per mood that
    applies (most first), songs whose ten-genre answer was not a verdict, songs per taught genre."""

    styles: dict[str, int]
    moods: dict[str, int]
    unsure: int
    taught: dict[str, int]


@dataclass(frozen=True)
class ModelState:
    """The serving model (``model``: its id) and the songs by the model that analysed them
    (``counts``), with the re-analysis' progress in this process (None: no model told apart)."""

    model: str
    counts: ModelCounts
    progress: Progress | None


@dataclass(frozen=True)
class PoolMap:
    """The server's map (``bot.pool_map``): ``png`` bytes, how many ``songs`` it shows, how many of
    them are the asker's (``yours``), and the genre picked out (None: every song by its top genre)."""

    png: bytes
    songs: int
    yours: int
    genre: str | None


@dataclass(frozen=True)
class IndexReport:
    """``failed``: audio files that could not be added (damaged, silent, too long, refused by
    storage); ``skipped``: files that are not audio by their content (a cover image, a video
    without sound); each as (file, why), the file's path within the folder indexed."""

    added: int
    duplicates: int
    failed: tuple[tuple[str, str], ...]
    skipped: tuple[tuple[str, str], ...] = ()


def _most_first(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def genre_mix(labels: Sequence[str], vector: np.ndarray) -> dict[str, float]:
    """``{genre: share}`` for a probability vector in the order of ``labels``."""
    return {genre: float(p) for genre, p in zip(labels, vector)}


def check_upload(size_bytes: int, limit_bytes: int) -> None:
    """Refuse an upload before downloading it when it is too large. Whether it is audio is judged
    by its content when classified (``genre_engine.audio``), never by its name or media type: a
    Musepack file or a voice note without an extension is taken, a zip named ``.mp3`` is refused,
    with the same words as in the engine's CLI and the console."""
    if size_bytes > limit_bytes:
        raise AttachmentTooLargeError(size_bytes, limit_bytes)


def link_policy(config: Config) -> LinkPolicy:
    """The limits every link download runs under, from the config (front end and workers alike)."""
    return LinkPolicy(
        max_bytes=config.max_attachment_bytes,
        max_duration_s=config.max_duration_s,
        timeout_s=config.download_timeout_s,
        allowed_internal_networks=config.allowed_internal_networks,
    )


def _within(path: str | Path, folder: Path) -> str:
    """``path`` as the indexing report names it: below ``folder``, or by its name when it is ``folder``."""
    path = Path(path)
    return path.name if path == folder else str(path.relative_to(folder))


def bounded_work(config: Config, make_engine: Callable[[], Classifier], *, workers: int | None = None) -> InChildren:
    """Classifications (``workers`` at once, default ``config.workers``) and link fetches in child
    processes, within the job limits of the config (front end and workers alike)."""
    return InChildren(
        make_engine,
        link_policy(config),
        workers=workers or config.workers,
        fetchers=config.download_workers,
        time_limit_s=config.job_timeout_s,
        memory_limit_bytes=config.job_memory_bytes,
    )


def audio_files(folder: Path) -> FolderScan:
    """The files under ``folder``, recursively (or ``folder`` alone when it is a file), sorted by
    content into audio and skipped."""
    if not folder.exists():
        raise FileMissingError(str(folder))
    return scan_folder(folder)


def serving_model(engine: Classifier) -> ServingModel:
    """What the store needs to tell ``engine``'s analyses from other models' (storage.ServingModel)."""
    return ServingModel(engine.model_id, tuple(engine.labels), engine.embedding_dim)


class Services:
    """The bot's actions over one engine and one store; create with :meth:`start` (or :meth:`open`
    for an engine already loaded), end with :meth:`close`. ``store.genre_count`` must equal the
    engine's label count (ValueError otherwise)."""

    def __init__(
        self, config: Config, engine: Classifier, store: Store, jobs: Jobs | None = None, work: Work | None = None
    ) -> None:
        if store.genre_count != len(engine.labels):
            raise ValueError(
                f"the store holds {store.genre_count} genres per song, the model has {len(engine.labels)} labels"
            )
        self.config = config
        self.engine = engine
        self.store = store
        self.labels = tuple(engine.labels)
        self.vocabulary: TagVocabulary | None = engine.vocabulary
        self.media = MediaStore(config.media_folder, config.media_cap_bytes)
        self.ann = AnnIndexes()  # "more like this" in large pools (recommender.ann)
        self.classifier = WorkerPool(
            "classify",
            config.workers,
            max_waiting=config.queue_size,
            max_waiting_bytes=config.queue_bytes,
            per_owner=config.per_user_jobs,
        )
        # apart, so that slow links never hold the workers classification needs
        self.downloader = WorkerPool(
            "download", config.download_workers, max_waiting=config.queue_size, per_owner=config.per_user_jobs
        )
        # teaching fits in a pool of its own, one job per server: never in front of a classification
        self.teacher = WorkerPool("teach", 1, max_waiting=config.queue_size, per_owner=1)
        self.teaching = Teaching(store, self.teacher, max_labels=config.max_taught_labels)
        self.link_policy = link_policy(config)
        # who classifies uploads and fetches links: this process's pools (each job in a child process
        # with its time and memory limits, or ``work`` in the thread), or workers through the job
        # queue (bot.jobs.queue); folders (index) are always classified here
        self.jobs = jobs or ThreadJobs(work or InThread(engine, self.link_policy), self.classifier, self.downloader)
        # songs another model analysed, analysed again (background at start-up, or `reanalyse`)
        self.reanalysis = Reanalysis(store, self.media, self.jobs, self.teaching, self.refetch) if store.model else None

    @classmethod
    async def start(cls, config: Config) -> Services:
        """Load the model (off the event loop) and open the database; uploads and links are
        classified and fetched in child processes within the job limits (bot.jobs.children)."""
        engine = await asyncio.to_thread(GenreEngine.from_checkpoint, config.checkpoint)
        services = await cls.open(config, engine, make_engine=functools.partial(load_engine, config.checkpoint))
        log.info(
            "services started",
            extra={
                "db": describe_location(config.store_location),
                "workers": config.workers,
                "embedding_dim": engine.embedding_dim,
                "model": engine.model_id,
            },
        )
        return services

    @classmethod
    async def open(
        cls, config: Config, engine: Classifier, *, make_engine: Callable[[], Classifier] | None = None
    ) -> Services:
        """Services over ``engine``, with the database opened for the engine's label count. With a
        database URL, uploads are classified by ``python -m bot worker`` processes through the job
        queue (bot.jobs.queue); else in this process: in child processes, each with the engine
        ``make_engine`` builds, when it is given, else by ``engine`` in the pool's threads."""
        store = await open_store(config.store_location, pool_cache_mb=config.pool_cache_mb, model=serving_model(engine))
        jobs = None
        if config.database_url:
            from bot.jobs.queue import QueueJobs  # procrastinate: only for the queue

            try:
                jobs = await QueueJobs.open(
                    config.database_url,
                    model_id=engine.model_id,
                    max_waiting=config.queue_size,
                    per_owner=config.per_user_jobs,
                )
            except BaseException:
                await store.close()
                raise
        work = None if make_engine is None or jobs is not None else bounded_work(config, make_engine)
        return cls(config, engine, store, jobs, work)

    def genre_mix(self, vector: np.ndarray) -> dict[str, float]:
        """``{genre: share}`` for a stored probability vector, in the model's labels."""
        return genre_mix(self.labels, vector)

    async def close(self) -> None:
        """Graceful shutdown: stop re-analysing (what it did is kept), let running classifications
        finish, then close the database."""
        if self.reanalysis is not None:
            await self.reanalysis.stop()
        await self.jobs.close()
        await self.classifier.close()
        await self.downloader.close()
        await self.teacher.close()
        await self.store.close()
        log.info("services stopped")

    # -- getting audio ---------------------------------------------------------------------------

    async def fetch_link(
        self,
        url: str,
        caller: Caller | None = None,
        *,
        on_place: PlaceCallback | None = None,
        max_wait_s: float | None = None,
    ) -> AudioInput:
        """Download the audio behind ``url`` (bot.links.fetch), in the download pool: at most
        ``config.per_user_jobs`` at once per caller; ``on_place``/``max_wait_s`` as in :meth:`classify`."""
        fetched = await self.jobs.fetch(
            url, owner=None if caller is None else caller.user_id, on_place=on_place, max_wait_s=max_wait_s
        )
        return AudioInput(fetched.data, fetched.title, source_url=fetched.url)

    async def refetch(self, song: Song) -> bytes:
        """The audio of a song shared as a link, fetched again through the guarded downloader (its
        copy was evicted from the media store). Raises the link errors of :meth:`fetch_link`."""
        if not song.source_url:
            raise ValueError(f"song {song.id} was not shared as a link")
        return (await self.fetch_link(song.source_url)).data

    async def read_file(self, path: Path, typed: str | None = None) -> AudioInput:
        """A local file, under the same checks as an upload (the console's /classify); errors name it
        as the user ``typed`` it (default: ``path``)."""
        if path.is_dir():
            raise IsAFolderError(typed or str(path))
        if not path.is_file():
            raise FileMissingError(typed or str(path))
        check_upload(path.stat().st_size, self.config.max_attachment_bytes)
        return AudioInput(await asyncio.to_thread(path.read_bytes), path.stem)

    # -- classifying -----------------------------------------------------------------------------

    async def classify(
        self,
        caller: Caller,
        audio: AudioInput,
        *,
        pool: bool | None = None,
        on_place: PlaceCallback | None = None,
        max_wait_s: float | None = None,
    ) -> Classified:
        """Classify ``audio``, record it as shared by the caller and (by the server's auto-pool setting
        unless ``pool`` says otherwise) add it to the server pool. Known audio is not re-analysed.

        New audio waits its turn in the classification line: ``on_place`` is called with a
        :class:`~bot.jobs.threads.Place` when it joins and whenever it moves up (place 0: being analysed);
        QueueTooLongError if it could not be done within ``max_wait_s``, TooManyJobsError if the
        caller already has ``config.per_user_jobs`` songs in line, BusyError if the line is full."""
        guild_id = caller.server_id
        digest = await asyncio.to_thread(content_hash, audio.data)
        in_pool = (await self.store.guild_settings(guild_id)).auto_pool if pool is None else pool
        known = await self.store.find_song(guild_id, digest)
        if known is None:
            prediction = await self.jobs.classify(
                audio.data, name=audio.title, owner=caller.user_id, on_place=on_place, max_wait_s=max_wait_s
            )
            self._check_duration(prediction.duration_s)
            added = await self.store.add_song(
                self._new_song(
                    guild_id,
                    audio.title,
                    prediction,
                    added_by=caller.user_id,
                    in_pool=in_pool,
                    source_url=audio.source_url,
                    message_url=audio.message_url,
                )
            )
            song, new = added.song, added.created
            log.info(
                "classified",
                extra={
                    "guild": guild_id,
                    "song": song.id,
                    "genre": prediction.genre,
                    "ms": round(prediction.timings_ms["total"]),
                },
            )
        else:
            song, new = known, False
            if not self.store.analysed_by_serving_model(known):  # another model's: analysed again now
                prediction = await self.jobs.classify(
                    audio.data, name=audio.title, owner=caller.user_id, on_place=on_place, max_wait_s=max_wait_s
                )
                await self.store.replace_analysis(digest, analysis_of(prediction))
                song = await self.store.get_song(guild_id, known.id)
            if in_pool and not known.in_pool:
                song = await self.store.set_in_pool(guild_id, known.id, True)
            if known.audio_missing:  # shared again: playable again
                song = await self.store.set_audio_missing(guild_id, known.id, False)
        await asyncio.to_thread(self.media.put, digest, audio.data, Owner(guild_id, caller.user_id))  # for the radio
        await self.store.record_event(guild_id, caller.user_id, song.id, EventKind.SHARED)
        return Classified(song, new, self.labels, self.tag_report(song), await self.teaching.labels_of(song))

    def tag_report(self, song: Song) -> TagReport | None:
        """The song's styles, moods, eras and verdict by the current thresholds (None without tags)."""
        if self.vocabulary is None or song.tags is None or song.tags.shape[0] != len(self.vocabulary.tags):
            return None
        return report(self.vocabulary, song.probabilities, song.tags)

    def _check_duration(self, duration_s: float) -> None:
        """The duration cap, checked on the decoded audio (a link's metadata may have lied):
        TooLongError beyond it."""
        if duration_s > self.config.max_duration_s:
            raise TooLongError(duration_s, self.config.max_duration_s)

    @staticmethod
    def _new_song(
        guild_id: int,
        title: str,
        prediction: Prediction,
        *,
        added_by: int | None,
        in_pool: bool,
        source_url: str | None = None,
        message_url: str | None = None,
    ) -> NewSong:
        return NewSong(
            guild_id=guild_id,
            title=title or "untitled",  # the store cuts it to storage's MAX_TITLE_CHARS
            content_hash=prediction.content_hash,
            probabilities=prediction.vector,
            embedding=prediction.embedding,
            added_by=added_by,
            duration_s=prediction.duration_s,
            source_url=source_url,
            message_url=message_url,
            in_pool=in_pool,
            tags=prediction.tag_vector,
            confident=prediction.confident if prediction.tags else None,
            model_id=prediction.model_id or None,
        )

    async def add_to_pool(self, caller: Caller, song_id: int, *, is_admin: bool) -> Song:
        """Put a history-only song (auto-pool was off) into the pool: its sharer or an admin may."""
        song = await self.store.get_song(caller.server_id, check_song_id(caller.server_id, song_id))
        if not is_admin and song.added_by != caller.user_id:
            raise NotSharerError(song_id)
        return await self.store.set_in_pool(caller.server_id, song_id, True)

    async def mark(self, caller: Caller, song_ids: Sequence[int], kind: EventKind) -> list[Song]:
        """Record that the caller listened to / liked / disliked songs; returns the songs marked.
        All or nothing: UnknownSongsError names the ids not in this server (then nothing is marked);
        see :func:`bot.arguments.check_song_ids` for the other refusals. A rating is a state, not an
        event to count: a song the caller already likes (or dislikes) is not liked (disliked) twice,
        so marking again, e.g. after a reply that never arrived, stores nothing more."""
        wanted = check_song_ids(caller.server_id, song_ids)
        songs = await self.store.get_songs(caller.server_id, wanted)
        if len(songs) < len(wanted):
            found = {song.id for song in songs}
            raise UnknownSongsError(tuple(song_id for song_id in wanted if song_id not in found))
        rated = await self._ratings(caller) if kind in RATINGS else {}
        for song in songs:
            if rated.get(song.id) != kind:
                await self.store.record_event(caller.server_id, caller.user_id, song.id, kind)
        return songs

    async def _ratings(self, caller: Caller) -> dict[int, EventKind]:
        """The caller's standing rating of each song they rated here: their latest like or dislike."""
        events = await self.store.listen_events(caller.server_id, caller.user_id)
        return {event.song_id: event.kind for event in events if event.kind in RATINGS}

    # -- recommending ---------------------------------------------------------------------------

    async def playlist(
        self, caller: Caller, limit: int = 10, *, seed: int | None = None, filters: Sequence[tuple[str, str]] = ()
    ) -> Playlist:
        """Up to ``limit`` songs (InvalidCountError beyond ``config.recommender.max_playlist``),
        only from the songs every ``(kind, value)`` filter selects (``style``, ``mood``, ``genre``;
        UnknownFilterError for a name the bot doesn't know, NothingMatchesError if none is left)."""
        only = await self.pool_filters(caller.server_id, filters)
        return await playlist_for(
            self.store,
            caller.server_id,
            caller.user_id,
            limit,
            seed=seed,
            config=self.config.recommender,
            labels=self.labels,
            only=only,
        )

    async def pool_filters(self, guild_id: int, filters: Sequence[tuple[str, str]]) -> list[PoolFilter]:
        """The filters ``(kind, value)`` of a playlist or radio in this server (UnknownFilterError)."""
        return [await self.pool_filter(guild_id, kind, value) for kind, value in filters]

    async def pool_filter(self, guild_id: int, kind: str, value: str) -> PoolFilter:
        """The filter ``kind:value`` of a playlist in this server."""
        kind = kind.strip().lower()
        if kind in ("style", "mood"):
            return tag_filter(kind, value, self.vocabulary)
        if kind == "genre":
            return genre_filter(
                value, self.labels, await self.store.taught_examples(guild_id), await self.teaching.classifier(guild_id)
            )
        raise UnknownFilterError(kind, value, ())

    async def filter_choices(self, guild_id: int, kind: str) -> tuple[str, ...]:
        """The values a playlist filter of ``kind`` may take here (for autocompletion)."""
        if kind in ("style", "mood"):
            return self.vocabulary.group(kind) if self.vocabulary else ()
        return (*self.labels, *sorted(await self.store.taught_examples(guild_id)))

    async def similar(self, guild_id: int, song_id: int, limit: int = 5) -> list[SimilarSong]:
        return await more_like_this(
            self.store, guild_id, check_song_id(guild_id, song_id), limit, config=self.config.recommender, ann=self.ann
        )

    async def radio_plan(
        self, caller: Caller, limit: int = QUEUE_SIZE, *, filters: Sequence[tuple[str, str]] = ()
    ) -> Playlist:
        """The next ``limit`` songs the radio would play for the caller alone, with reasons, only
        from the songs every filter selects (as for :meth:`playlist`)."""
        only = await self.pool_filters(caller.server_id, filters)
        return await upcoming(
            self.store,
            caller.server_id,
            [caller.user_id],
            limit,
            config=self.config.recommender,
            labels=self.labels,
            only=only,
        )

    def radio(
        self,
        guild_id: int,
        *,
        variety: float | None = None,
        only: Sequence[PoolFilter] = (),
        on_note: Callable[[RadioError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        journey: Journey | None = None,
    ) -> RadioSession:
        """A radio for ``guild_id`` over this store and media store, playing only songs every filter
        of ``only`` selects (:meth:`pool_filters`), the songs of ``journey`` first (:meth:`journey`);
        evicted links are fetched again through :meth:`refetch`."""
        return RadioSession(
            self.store,
            self.media,
            guild_id,
            variety=variety,
            refetch=self.refetch,
            on_note=on_note,
            clock=clock,
            config=self.config.recommender,
            labels=self.labels,
            only=only,
            journey=journey_entries(journey.songs) if journey is not None else (),
        )

    async def taste(self, caller: Caller) -> TasteProfile:
        return await taste_of(self.store, caller.server_id, caller.user_id, config=self.config.recommender)

    async def compare_taste(self, caller: Caller, other_id: int) -> TasteComparison:
        """The caller's taste here beside another member's (``recommender.together``): the score,
        what they share, and songs of the other's history for the caller. Raises SameMemberError,
        NoHistoryError (a member with no history here, or who asked to be forgotten)."""
        return await compare_tastes(
            self.store, caller.server_id, caller.user_id, other_id, config=self.config.recommender, labels=self.labels
        )

    def styles_of(self, tags: np.ndarray | None, top: int = 5) -> list[str]:
        """The styles a tag profile (``TasteComparison.my_tags``) reaches the threshold of, strongest
        first (none without a tagger)."""
        vocabulary = self.vocabulary
        if vocabulary is None or tags is None or len(tags) != len(vocabulary.tags):
            return []
        applying = [
            (float(share), tag.name)
            for tag, share, threshold in zip(vocabulary.tags, tags, vocabulary.thresholds())
            if tag.group == "style" and share >= threshold
        ]
        return [name for _, name in sorted(applying, reverse=True)[:top]]

    async def journey(
        self,
        caller: Caller,
        from_id: int,
        to_id: int,
        songs: int = DEFAULT_JOURNEY_SONGS,
        *,
        variety: float | None = None,
        exclude: Sequence[int] = (),
        seed: int | None = None,
    ) -> Journey:
        """A sonic journey of ``songs`` songs (its ends included; OutOfRangeError outside 3 to the
        playlist cap) from one song of this server to another through its pool, loosened by
        ``variety`` (default: the caller's). Raises SameSongError, UnknownSongError."""
        limit = self.config.recommender.max_playlist
        songs = check_journey_songs(songs, limit)
        guild_id = caller.server_id
        from_id, to_id = check_song_id(guild_id, from_id), check_song_id(guild_id, to_id)
        return await journey_between(
            self.store,
            guild_id,
            from_id,
            to_id,
            songs,
            variety=await self.variety(caller) if variety is None else variety,
            exclude=exclude,
            seed=seed,
            config=self.config.recommender,
        )

    async def trends(self, guild_id: int) -> Trends:
        """What the server shared and played in the last seven days (``recommender.trends``)."""
        return await recent_trends(self.store, guild_id)

    async def starter_songs(self, guild_id: int) -> list[Song]:
        """A few songs covering the pool's sound, for a member with no history to like some of."""
        return await starter_songs(self.store, guild_id)

    async def pool_map(self, caller: Caller, *, genre: str | None = None) -> PoolMap:
        """The server's map (``bot.pool_map``): songs placed by sound (``recommender.layout``),
        coloured by top genre, or with ``genre`` (one of the model's, or one the server taught) its
        songs picked out; the caller's songs ringed. Raises NothingToMapError for an empty pool,
        UnknownFilterError for a genre nobody knows here."""
        guild_id = caller.server_id
        whole = await self.store.pool_matrix(guild_id)
        matrix = whole.comparable  # another model's songs have no place by this model's sound
        if len(matrix) == 0:
            raise NothingToMapError(waiting=len(whole))
        only = await self.pool_filter(guild_id, "genre", genre) if genre else None
        history = [event.song_id for event in await self.store.listen_events(guild_id, caller.user_id)]
        mine = np.isin(matrix.ids, history) | (matrix.added_by == caller.user_id)
        if only is None:
            groups, names = matrix.probabilities.argmax(axis=1), self.labels
        else:
            groups, names = np.where(only.select(matrix), 0, -1), (only.value,)
        rows = await asyncio.to_thread(covering_rows_of, matrix, min(MAP_TITLES, len(matrix)))
        titles = {song.id: song.title for song in await self.store.get_songs(guild_id, matrix.ids[rows].tolist())}
        labelled = [
            (int(row), f"#{int(matrix.ids[row])} {titles[int(matrix.ids[row])]}")
            for row in rows
            if int(matrix.ids[row]) in titles
        ]
        title = f"This server's {len(matrix):,} song(s), placed by sound"
        if len(whole) > len(matrix):
            title += f" ({len(whole) - len(matrix):,} waiting to be analysed again)"
        png = await asyncio.to_thread(lambda: draw_map(layout_of(matrix), groups, names, mine, labelled, title))
        return PoolMap(png, len(matrix), int(mine.sum()), None if only is None else only.value)

    # -- indexing --------------------------------------------------------------------------------

    async def index_folder(
        self,
        guild_id: int,
        folder: Path,
        *,
        progress: Callable[[int], None] | None = None,
        total: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Classify every audio file under ``folder`` not already in the pool, and add them in bulk.
        Indexed songs belong to nobody's history, so they are suggested to everyone, the indexer too.
        The radio plays them from their paths (references in the media store, no copies).

        Every file is judged by its content: one that is not audio (a cover image, a text, a video
        without sound) is skipped and reported with why, beside the audio files that failed.

        ``total`` is called once with the number of files to classify, ``progress`` with the count
        done so far (from a worker thread)."""
        scan = await asyncio.to_thread(audio_files, folder)
        paths = scan.audio
        skipped = [(_within(path, folder), str(reason)) for path, reason in scan.skipped]
        hashes = await asyncio.to_thread(lambda: [content_hash(path) for path in paths])
        fresh, duplicates = [], 0
        for path, digest in zip(paths, hashes):
            known = await self.store.find_song(guild_id, digest)
            if known is None:
                fresh.append(path)
            else:
                duplicates += 1
                if not known.in_pool:
                    await self.store.set_in_pool(guild_id, known.id, True)
                if known.audio_missing:  # its file is here again
                    await self.store.set_audio_missing(guild_id, known.id, False)
        await asyncio.to_thread(lambda: [self.media.put_reference(digest, path) for path, digest in zip(paths, hashes)])
        if total:
            total(len(fresh))
        outcomes = await self.classifier.run(
            lambda: list(self.engine.classify_many(fresh, progress=progress)), timed=False
        )  # a whole folder: not a typical job
        songs, failed = [], []
        for path, outcome in outcomes:  # one bad file is reported beside the others, never costs the batch
            if isinstance(outcome, NotAudioError):  # its first bytes looked like a container: one without sound
                skipped.append((_within(path, folder), str(outcome)))
                continue
            try:
                if isinstance(outcome, GenreEngineError):
                    raise outcome
                self._check_duration(outcome.duration_s)
                song = self._new_song(guild_id, Path(path).stem, outcome, added_by=None, in_pool=True)
                check_song(song, self.store.genre_count)  # what add_songs would refuse for the whole batch
            except (GenreEngineError, TooLongError, InvalidSongError) as problem:
                failed.append((_within(path, folder), str(problem)))
            else:
                songs.append(song)
        report = await self.store.add_songs(songs)
        log.info(
            "indexed",
            extra={
                "guild": guild_id,
                "folder": folder,
                "added": report.added,
                "duplicates": duplicates + report.duplicates,
                "failed": len(failed),
                "skipped": len(skipped),
            },
        )
        return IndexReport(report.added, duplicates + report.duplicates, tuple(failed), tuple(sorted(skipped)))

    # -- settings, history, privacy, pool --------------------------------------------------------

    async def variety(self, caller: Caller) -> float:
        """The caller's variety (global across servers, so it works outside one too)."""
        return (await self.store.user_settings(caller.user_id)).variety

    async def set_variety(self, caller: Caller, value: float) -> float:
        return (await self.store.set_variety(caller.user_id, value)).variety

    async def history(self, caller: Caller, *, limit: int = 10, page: int = 1) -> list[HistoryEntry]:
        """The caller's events in this server, newest first, ``limit`` (1..25) per page, page 1 first
        (OutOfRangeError outside those; a page past the end is empty)."""
        limit, offset = check_history_page(limit, page)
        return await self.store.history(caller.server_id, caller.user_id, limit=limit, offset=offset)

    async def forget(self, caller: Caller, *, remove_shared_songs: bool = False) -> ForgetReport:
        """Everything about the caller in every server (works outside a server too)."""
        report = await self.store.forget_user(caller.user_id, remove_shared_songs=remove_shared_songs)
        log.info("forgot user", extra={"events": report.events, "songs_removed": report.songs_removed})
        return report

    async def pool_stats(self, guild_id: int) -> PoolStats:
        return await self.store.pool_stats(guild_id)

    async def reanalyse_in_background(self) -> bool:
        """Start analysing again, in the background, the songs another model analysed (the bot
        answers meanwhile; see ``bot.reanalysis``); False when there are none."""
        if self.reanalysis is None or not (await self.store.model_counts()).other_model:
            return False
        log.info("songs of other models: re-analysing them in the background", extra={"model": self.engine.model_id})
        self.reanalysis.start()
        return True

    async def model_state(self, guild_id: int | None = None) -> ModelState:
        """The serving model and where the songs (of one server, or all) stand against it."""
        counts = await self.store.model_counts(guild_id=guild_id)
        progress = None if self.reanalysis is None else self.reanalysis.progress
        return ModelState(self.engine.model_id, counts, progress)

    def pool_cache_stats(self) -> PoolCacheStats:
        """This process's pool cache, for its admins (the same figures are logged now and then)."""
        return self.store.pool_cache_stats()

    async def pool_tags(self, guild_id: int) -> PoolTags:
        """Styles, moods, unsure answers and taught genres across the server's pool."""
        matrix = await self.store.pool_matrix(guild_id)
        styles: dict[str, int] = {}
        moods: dict[str, int] = {}
        vocabulary = self.vocabulary
        if vocabulary is not None and matrix.tags is not None and matrix.tags.shape[1] == len(vocabulary.tags):
            applies = np.nan_to_num(matrix.tags, nan=-1.0) >= vocabulary.thresholds()
            for tag, count in zip(vocabulary.tags, applies.sum(axis=0)):
                if count and tag.group in ("style", "mood"):
                    (styles if tag.group == "style" else moods)[tag.name] = int(count)
        unsure = 0 if matrix.confident is None else int((~matrix.confident).sum())
        return PoolTags(_most_first(styles), _most_first(moods), unsure, await self.teaching.pool_counts(guild_id))

    async def remove_from_pool(self, guild_id: int, song_id: int) -> Song:
        return await self.store.remove_song(guild_id, check_song_id(guild_id, song_id))

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        return await self.store.guild_settings(guild_id)

    async def set_auto_pool(self, guild_id: int, enabled: bool) -> GuildSettings:
        return await self.store.set_auto_pool(guild_id, enabled)

    async def set_index_channel(self, guild_id: int, channel_id: int, enabled: bool) -> GuildSettings:
        return await self.store.set_index_channel(guild_id, channel_id, enabled)

    async def set_teacher_role(self, guild_id: int, role_id: int | None) -> GuildSettings:
        return await self.store.set_teacher_role(guild_id, role_id)
