"""Analyse again, with the serving model, every stored song another model analysed.

When the bot starts with other weights than the songs were analysed by (``python -m training.train``
refreshed them, or the shipped model came back), their genres and embeddings are another model's:
their sound can't be compared with the new songs'. :class:`Reanalysis` works through them
(``Store.other_model_songs``), one song at a time through the classification jobs (so members'
songs wait behind at most one of them, and never on the event loop), from the audio the bot keeps:
the media store's copy or the indexed file it references, else the link fetched again within the
link policy (kept only if it is still the same audio, by its hash). A new analysis replaces the old
one of that audio in every server at once (``Store.replace_analysis``). A song whose audio is nowhere
is marked missing (``audio_missing``): counted and listed as unavailable, kept out of sound
comparisons, and analysed again when someone shares it again (``Services.classify``). Each song is
one transaction, so a kill loses nothing and the next run goes on from where it stopped. When a
server's songs are done, the genres it taught are fitted again on the new embeddings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.jobs.errors import BusyError
from bot.jobs.threads import Jobs
from bot.links.errors import LinkError
from bot.media_store import MediaStore
from bot.teaching import Teaching
from genre_engine import Prediction
from genre_engine.engine import content_hash
from genre_engine.errors import GenreEngineError
from storage import Analysis, ModelCounts, Song, Store

log = logging.getLogger("genrebot.reanalysis")

BATCH = 50  # songs read from the store at a time
BUSY_WAIT_S = 5.0  # how long a song waits before it asks again for a place in a full line


def analysis_of(prediction: Prediction) -> Analysis:
    """A prediction as the analysis the store keeps for a song (its title and sharer aside)."""
    return Analysis(
        model_id=prediction.model_id,
        probabilities=prediction.vector,
        embedding=prediction.embedding,
        duration_s=prediction.duration_s,
        tags=prediction.tag_vector,
        confident=prediction.confident if prediction.tags else None,
    )


@dataclass(frozen=True)
class ReanalysisReport:
    """Where the songs of one server (or all) stand after a run: ``model`` the serving model's id,
    ``songs`` how many there are, ``reanalysed`` how many this run analysed again, ``current`` how many
    the serving model has analysed, ``unavailable`` how many of another model have no audio to be had."""

    model: str
    songs: int
    reanalysed: int
    current: int
    unavailable: int

    def as_json(self) -> dict[str, object]:
        """The interface of ``python -m bot reanalyse --json``."""
        return {
            "model": self.model,
            "songs": self.songs,
            "reanalysed": self.reanalysed,
            "current": self.current,
            "unavailable": self.unavailable,
        }


@dataclass
class Progress:
    """How far a run is: ``done`` of ``total`` songs (those of another model when it started)."""

    total: int = 0
    done: int = 0
    reanalysed: int = 0
    running: bool = False
    guilds: set[int] = field(default_factory=set)


class Reanalysis:
    """The re-analysis of one store for one model. ``classify`` is the services' classification
    jobs, ``refetch`` fetches a link song's audio again (``Services.refetch``)."""

    def __init__(
        self,
        store: Store,
        media: MediaStore,
        jobs: Jobs,
        teaching: Teaching,
        refetch: Callable[[Song], Awaitable[bytes]],
    ) -> None:
        if store.model is None:
            raise ValueError("re-analysis needs a store that knows its serving model")
        self.store = store
        self.media = media
        self.jobs = jobs
        self.teaching = teaching
        self.refetch = refetch
        self.progress = Progress()
        self._task: asyncio.Task[ReanalysisReport] | None = None

    @property
    def model_id(self) -> str:
        return self.store.model.id

    async def run(
        self,
        *,
        guild_id: int | None = None,
        on_song: Callable[[int, int], None] | None = None,
        concurrency: int = 1,
    ) -> ReanalysisReport:
        """Analyse again every song of another model (of one server, or all) whose audio can be had,
        ``concurrency`` at once (1 in the background, so members' songs wait behind one at most);
        ``on_song(done, total)`` after each. Returns where the songs stand at the end."""
        progress = self.progress = Progress(total=(await self.store.model_counts(guild_id=guild_id)).other_model)
        progress.running = True
        slots = asyncio.Semaphore(concurrency)

        async def one(song: Song) -> None:
            async with slots:
                analysed = await self._analyse(song)
            if analysed:
                progress.guilds.add(song.guild_id)
                progress.reanalysed += 1
            progress.done += 1
            if on_song is not None:
                on_song(progress.done, progress.total)

        try:
            after = 0
            while batch := await self.store.other_model_songs(guild_id=guild_id, after_id=after, limit=BATCH):
                await asyncio.gather(*(one(song) for song in batch))
                after = batch[-1].id
            for server in sorted(progress.guilds):
                await self.teaching.retrain_all(server)
        finally:
            progress.running = False
        counts = await self.store.model_counts(guild_id=guild_id)
        log.info("re-analysis done", extra={"model": self.model_id, "songs": progress.done, **vars(counts)})
        return report(self.model_id, counts, progress.reanalysed)

    def start(self) -> asyncio.Task[ReanalysisReport]:
        """Run in the background (the bot answers meanwhile); cancelled by :meth:`stop`."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="genrebot-reanalysis")
        return self._task

    async def stop(self) -> None:
        """Cancel a background run; what it did is kept, the next start goes on from there."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _analyse(self, song: Song) -> bool:
        """Analyse ``song`` again (and every copy of its audio in other servers); False when its audio
        can't be had or can't be analysed now, and it is marked missing instead."""
        data = await self._audio(song)
        if data is not None:
            try:
                prediction = await self._classify(data, song.title)
            except GenreEngineError as error:
                log.warning("song not analysed again", extra={"song": song.id, "error": type(error).__name__})
            else:
                if prediction.model_id == self.model_id:
                    await self.store.replace_analysis(song.content_hash, analysis_of(prediction))
                    return True
                log.warning("song analysed by other weights", extra={"song": song.id, "model": prediction.model_id})
        await self.store.set_audio_missing(song.guild_id, song.id, True)
        return False

    async def _classify(self, data: bytes, title: str) -> Prediction:
        """The classification job, waiting for a place when the line is full (members go first)."""
        while True:
            try:
                return await self.jobs.classify(data, name=title, owner=None, on_place=None, max_wait_s=None)
            except BusyError:
                await asyncio.sleep(BUSY_WAIT_S)

    async def _audio(self, song: Song) -> bytes | None:
        """The song's audio: the media store's copy or reference, else its link fetched again when it
        still gives the same audio; None when it is nowhere."""
        handle = await asyncio.to_thread(self.media.open, song.content_hash)
        if handle is not None:
            with handle:
                return await asyncio.to_thread(handle.read)
        if not song.source_url:
            return None
        try:
            data = await self.refetch(song)
        except LinkError as error:
            log.info("link not fetched again", extra={"song": song.id, "error": type(error).__name__})
            return None
        if await asyncio.to_thread(content_hash, data) != song.content_hash:
            log.info("link gives other audio now", extra={"song": song.id})
            return None
        return data


def report(model: str, counts: ModelCounts, reanalysed: int = 0) -> ReanalysisReport:
    """Where the songs stand by ``counts``, after a run that analysed ``reanalysed`` of them again."""
    return ReanalysisReport(model, counts.songs, reanalysed, counts.current, counts.unavailable)
