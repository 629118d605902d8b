"""The store interface: what genrebot keeps and how the rest of the code asks for it.

Everything outside ``storage/`` talks to :class:`Store`, never to SQLite, so a PostgreSQL store can
be added later for a bot that outgrows one machine. Conventions shared by every implementation:

- Ids are Discord snowflakes (positive integers below 2**63); song ids are assigned by the store.
  A bad id raises :class:`~storage.errors.InvalidIdError`.
- Servers ("guilds") and users need no registration: they come into being with their first song,
  event or setting. Reading an unknown server gives an empty pool; reading an unknown user gives
  default settings and an empty history.
- Probability vectors are float32 of shape (10,) in the genre engine's ``GENRES`` order; embeddings
  are float32 of shape (D,), L2-normalised. The store keeps them bit for bit and knows nothing about
  genres; it only checks shape and finiteness. Tag vectors (the tagger's probabilities, float32 in
  [0, 1], ``genre_engine.tags`` names them) are kept the same way, or None for a model without tags.
- Labels a server teaches are short texts, kept trimmed and in lower case (``storage.validation``).
- Times are timezone-aware UTC ``datetime`` objects.
- Every write is one short transaction; a failed write changes nothing.
"""

from __future__ import annotations

import abc
import enum
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import NamedTuple, Self

import numpy as np

#: Variety of a user who never set one: mostly their own taste, with a little exploration.
DEFAULT_VARIETY = 0.25


class EventKind(enum.StrEnum):
    """What a user did with a song. The recommender weighs them (liked > listened > shared; disliked
    and skipped push the taste away); the store only records them."""

    SHARED = "shared"
    LISTENED = "listened"
    LIKED = "liked"
    DISLIKED = "disliked"
    SKIPPED = "skipped"


@dataclass(frozen=True, kw_only=True)
class NewSong:
    """A song as the genre engine and the bot know it, before the store gives it an id.

    ``content_hash`` (sha256 hex of the audio bytes, ``Prediction.content_hash``) de-duplicates within
    one server. ``in_pool=False`` keeps the song only for histories (a server with auto-pooling
    off); :meth:`Store.set_in_pool` can add it to the pool later.
    """

    guild_id: int
    title: str
    content_hash: str
    probabilities: np.ndarray = field(repr=False)
    embedding: np.ndarray = field(repr=False)
    added_by: int | None = None
    duration_s: float | None = None
    source_url: str | None = None
    message_url: str | None = None
    added_at: datetime | None = None  # None: now
    in_pool: bool = True
    tags: np.ndarray | None = field(default=None, repr=False)
    confident: bool | None = None  # the engine's verdict on its ten-genre answer; None: unknown
    model_id: str | None = None  # the model that analysed it (genre_engine.engine.model_id); None: unknown


@dataclass(frozen=True, kw_only=True)
class Song:
    """A stored song. Equality and hashing are by (guild_id, id); the arrays are read-only."""

    id: int
    guild_id: int
    title: str
    content_hash: str = field(compare=False)
    probabilities: np.ndarray = field(repr=False, compare=False)
    embedding: np.ndarray = field(repr=False, compare=False)
    added_by: int | None = field(compare=False)
    duration_s: float | None = field(compare=False)
    source_url: str | None = field(compare=False)
    message_url: str | None = field(compare=False)
    added_at: datetime = field(compare=False)
    in_pool: bool = field(compare=False)
    # EBU R128 integrated loudness of the audio before normalisation, None until the radio measured it
    loudness_lufs: float | None = field(default=None, compare=False)
    # the radio could not get this song's audio; cleared when the same audio is shared again
    audio_missing: bool = field(default=False, compare=False)
    tags: np.ndarray | None = field(default=None, repr=False, compare=False)
    confident: bool | None = field(default=None, compare=False)
    # the model whose analysis this is (genre_engine.engine.model_id); None: analysed before analyses
    # named their model
    model_id: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ServingModel:
    """The genre model a store serves analyses for: ``id`` (``genre_engine.engine.model_id``),
    ``labels`` (the genres of its probability vectors, in order) and ``embedding_dim``.

    Songs another model analysed stay in the store until they are analysed again: in a pool matrix
    they count by their genres when that model had the same labels (its embeddings, which live in
    another space, are zeros there and ``PoolMatrix.current`` is False), and not at all otherwise."""

    id: str
    labels: tuple[str, ...]
    embedding_dim: int


@dataclass(frozen=True)
class Analysis:
    """What a model said about one song's audio (see :class:`NewSong` for the fields), to replace
    the analysis of another model (:meth:`Store.replace_analysis`)."""

    model_id: str
    probabilities: np.ndarray = field(repr=False)
    embedding: np.ndarray = field(repr=False)
    duration_s: float | None = None
    tags: np.ndarray | None = field(default=None, repr=False)
    confident: bool | None = None


@dataclass(frozen=True)
class ModelCounts:
    """Songs by the model that analysed them: ``current`` (the serving model), ``other_model``
    (another one, and the audio may still be had: to analyse again) and ``unavailable`` (another
    one, and its audio could not be had: analysed again only when shared again)."""

    current: int
    other_model: int
    unavailable: int

    @property
    def songs(self) -> int:
        return self.current + self.other_model + self.unavailable


class AddedSong(NamedTuple):
    """Result of :meth:`Store.add_song`: the stored song and whether this call created it (False:
    the same audio was already in the server, and that song is returned)."""

    song: Song
    created: bool


@dataclass(frozen=True)
class BulkAddReport:
    """Result of :meth:`Store.add_songs`."""

    added: int
    duplicates: int


@dataclass(frozen=True)
class ListenEvent:
    """One thing a user did with a song in a server."""

    id: int
    guild_id: int
    user_id: int
    song_id: int
    kind: EventKind
    at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """A listen event with its song, for showing a user their history."""

    event: ListenEvent
    song: Song


@dataclass(frozen=True)
class UserSettings:
    """Per-user settings (global across servers). New settings get a column and a default here."""

    user_id: int
    variety: float = DEFAULT_VARIETY


@dataclass(frozen=True)
class GuildSettings:
    """Per-server settings. ``auto_pool``: songs classified in this server join its pool by default.
    ``index_channels``: channels whose audio attachments are indexed into the pool automatically.
    ``teacher_role``: the role whose members may teach genres (admins always may)."""

    guild_id: int
    auto_pool: bool = True
    index_channels: frozenset[int] = frozenset()
    teacher_role: int | None = None  # besides admins, members with this role may teach genres


@dataclass(frozen=True)
class PoolStats:
    """What ``/pool stats`` shows. ``genre_mix`` is the mean probability vector of the pool (GENRES
    order, sums to 1; all zeros for an empty pool); ``top_genre_counts`` counts songs by their most
    likely genre; ``top_contributors`` is ((user_id, songs), ...) most songs first, at most 10."""

    guild_id: int
    songs: int
    contributors: int
    total_duration_s: float
    genre_mix: np.ndarray = field(repr=False)
    top_genre_counts: np.ndarray = field(repr=False)
    top_contributors: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, eq=False)
class PoolMatrix:
    """A server's pool as arrays, for vectorised recommendation without reading rows per request.

    Row ``i`` is song ``ids[i]``; ``ids`` is sorted ascending. ``added_by`` is 0 where unknown. The
    arrays are read-only and shared between callers: copy before modifying. Only songs with
    ``in_pool`` are included.
    """

    guild_id: int
    ids: np.ndarray  # int64 [N]
    probabilities: np.ndarray  # float32 [N, 10]
    embeddings: np.ndarray  # float32 [N, D]
    added_by: np.ndarray  # int64 [N]
    tags: np.ndarray | None = None  # float32 [N, T], NaN rows for songs without tags; None: no song has any
    confident: np.ndarray | None = None  # bool [N]: the engine's verdict stood (unknown counts as True)
    # bool [N]: analysed by the serving model; the embeddings of the other rows are zeros and their
    # sound is never compared (ServingModel). None: every row is.
    current: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def locate(self, song_ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, found): for each song id its row position and whether it is in the pool at all
        (rows of ids not found are meaningless). A song can be in a history but not in the pool."""
        wanted = np.asarray(song_ids, dtype=np.int64)
        if len(self) == 0:
            return np.zeros(wanted.shape, np.int64), np.zeros(wanted.shape, bool)
        rows = np.searchsorted(self.ids, wanted).clip(max=len(self) - 1)
        return rows, self.ids[rows] == wanted

    def rows_of(self, song_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row positions of the given song ids that are in the pool, silently dropping the others."""
        rows, found = self.locate(song_ids)
        return rows[found]

    def sounding(self) -> np.ndarray:
        """Bool ``[N]``: the rows whose sound may be compared (analysed by the serving model)."""
        return np.ones(len(self), bool) if self.current is None else self.current

    @functools.cached_property
    def comparable(self) -> PoolMatrix:
        """The matrix of the :meth:`sounding` rows only (this one when every row is): what is placed
        by sound (map, journeys, starter songs) while another model's songs wait to be analysed again.
        Built once per matrix."""
        if self.current is None or self.current.all():
            return self
        keep = self.current

        def rows(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[keep]

        return PoolMatrix(
            guild_id=self.guild_id,
            ids=self.ids[keep],
            probabilities=self.probabilities[keep],
            embeddings=self.embeddings[keep],
            added_by=self.added_by[keep],
            tags=rows(self.tags),
            confident=rows(self.confident),
        )


@dataclass(frozen=True)
class PoolCacheStats:
    """What a store's pool cache holds and how well it serves (:meth:`Store.pool_cache_stats`), for
    the process's logs and its admins. ``budget_bytes`` None: no limit. ``hits`` and ``misses``
    count pool reads since the store opened; ``evictions`` the pools that left to keep the budget."""

    budget_bytes: int | None
    bytes: int
    pools: int
    hits: int
    misses: int
    evictions: int

    @property
    def hit_rate(self) -> float | None:
        """Hits per read, None before the first read."""
        reads = self.hits + self.misses
        return self.hits / reads if reads else None

    def as_dict(self) -> dict[str, int | float | None]:
        """The figures as JSON-ready fields (with ``hit_rate``), as logs and status output show them."""
        rate = self.hit_rate
        return {
            "budget_bytes": self.budget_bytes,
            "bytes": self.bytes,
            "pools": self.pools,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
            "hit_rate": None if rate is None else round(rate, 4),
        }


@dataclass(frozen=True)
class TaughtModel:
    """A server's stored classifier for the genres it teaches: ``version`` says how ``state`` is
    encoded (``recommender.taught`` reads it), ``trained_at`` when it was fitted, ``model_id`` on the
    embeddings of which model (None: not recorded, from before models were)."""

    guild_id: int
    version: int
    state: bytes = field(repr=False)
    trained_at: datetime
    model_id: str | None = None


@dataclass(frozen=True)
class ForgetReport:
    """What :meth:`Store.forget_user` deleted, so the bot can tell the user."""

    events: int
    songs_removed: int
    songs_anonymised: int


ProgressCallback = Callable[[int], None]
"""Called with the number of items processed so far during long operations."""


class Store(abc.ABC):
    """Listen histories, server song pools and settings. Use as ``async with store:`` or call
    :meth:`open` / :meth:`close`. Methods called while closed raise
    :class:`~storage.errors.StoreClosedError`.

    ``genre_count``: the length of every genre probability vector the store accepts and returns,
    the label count of the genre model in use (set by the implementation's constructor)."""

    genre_count: int
    model: ServingModel | None = None  # the model whose analyses are current (set by the implementation)

    def analysed_by_serving_model(self, song: Song) -> bool:
        """Whether ``song``'s analysis is the serving model's (always, without a serving model)."""
        return self.model is None or song.model_id == self.model.id

    def sound_of(self, song: Song) -> np.ndarray:
        """The song's embedding when the serving model made it; zeros of the serving model's size
        otherwise, which compare with nothing (another model's embeddings live in another space)."""
        if self.analysed_by_serving_model(song):
            return song.embedding
        return np.zeros(self.model.embedding_dim, np.float32)

    # -- lifecycle -------------------------------------------------------------------------------

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema up to date (migrations run here, once, at start-up)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush and disconnect; idempotent, so shutdown paths can call it unconditionally."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- songs and pools -------------------------------------------------------------------------

    @abc.abstractmethod
    async def add_song(self, song: NewSong) -> AddedSong:
        """Store a song in its server, de-duplicated by ``content_hash`` within that server.

        If the server already has the same audio, nothing is inserted and the existing song comes
        back with ``created=False`` (if the new one asks ``in_pool`` and the old one was kept only
        for histories, the old one joins the pool). ``added_by`` becomes a known user.
        Raises InvalidSongError, IncompatibleEmbeddingError, InvalidIdError.
        """

    @abc.abstractmethod
    async def add_songs(self, songs: Iterable[NewSong], *, progress: ProgressCallback | None = None) -> BulkAddReport:
        """Bulk insert for indexing (a folder, a channel's backlog, benchmarks): one transaction per
        chunk of a few thousand songs, duplicates skipped as in :meth:`add_song`. ``progress`` is
        called after each chunk with the number of songs processed so far."""

    @abc.abstractmethod
    async def get_song(self, guild_id: int, song_id: int) -> Song:
        """The song, or UnknownSongError if it is not in this server (also for another server's)."""

    @abc.abstractmethod
    async def get_songs(self, guild_id: int, song_ids: Sequence[int]) -> list[Song]:
        """The songs in the order asked, skipping ids that are not (or no longer) in this server."""

    @abc.abstractmethod
    async def find_song(self, guild_id: int, content_hash: str) -> Song | None:
        """The server's song with this audio hash, if any (lets the bot skip re-classifying)."""

    @abc.abstractmethod
    async def set_in_pool(self, guild_id: int, song_id: int, in_pool: bool) -> Song:
        """Add a history-only song to the server pool, or take it out without deleting it."""

    @abc.abstractmethod
    async def remove_song(self, guild_id: int, song_id: int) -> Song:
        """Delete a song from the server (admin action); its listen events go with it. Returns the
        removed song. Raises UnknownSongError."""

    @abc.abstractmethod
    async def pool_size(self, guild_id: int) -> int:
        """Number of songs in the server's pool (0 for an unknown server)."""

    @abc.abstractmethod
    async def pool_stats(self, guild_id: int) -> PoolStats:
        """Size, genre mix and contributors of the server's pool."""

    @abc.abstractmethod
    async def pool_matrix(self, guild_id: int) -> PoolMatrix:
        """The server's pool as arrays. Cached in process and kept in step with writes (also with
        writes from other processes on the same database), so a /playlist does not read every row;
        the cache holds the most recently read pools within the store's byte budget
        (``storage.pool_cache``)."""

    @abc.abstractmethod
    def pool_cache_stats(self) -> PoolCacheStats:
        """What the pool cache holds and its hits and misses so far."""

    @abc.abstractmethod
    async def set_loudness(self, guild_id: int, song_id: int, loudness_lufs: float) -> Song:
        """Store the song's measured integrated loudness (LUFS, finite). Raises UnknownSongError."""

    @abc.abstractmethod
    async def set_audio_missing(self, guild_id: int, song_id: int, missing: bool) -> Song:
        """Mark that the song's audio cannot be had (the radio skips it) or can again. Sharing the
        same audio again (:meth:`add_song`, :meth:`add_songs`) clears the mark. Raises UnknownSongError."""

    @abc.abstractmethod
    async def audio_missing_ids(self, guild_id: int) -> list[int]:
        """Ids of the server's songs marked as missing their audio, ascending."""

    # -- analyses by model -----------------------------------------------------------------------

    @abc.abstractmethod
    async def other_model_songs(
        self, *, guild_id: int | None = None, after_id: int = 0, limit: int = 100, missing: bool = False
    ) -> list[Song]:
        """Up to ``limit`` songs (of one server, or all), ``id > after_id`` in id order, that another
        model than the serving one analysed, whose audio is not known to be missing (what
        re-analysis works through) or, with ``missing``, is (unavailable). Without a serving model, none."""

    @abc.abstractmethod
    async def replace_analysis(self, content_hash: str, analysis: Analysis) -> list[Song]:
        """Store ``analysis`` for every song of this audio (``content_hash``, in every server) that
        another model analysed, in one transaction, and return them. Raises InvalidSongError (nothing
        changed) for vectors of the wrong shape."""

    @abc.abstractmethod
    async def model_counts(self, *, guild_id: int | None = None) -> ModelCounts:
        """Songs (of one server, or all) by the model that analysed them, against the serving one."""

    # -- listen events ---------------------------------------------------------------------------

    @abc.abstractmethod
    async def record_event(
        self,
        guild_id: int,
        user_id: int,
        song_id: int,
        kind: EventKind | str,
        *,
        at: datetime | None = None,
    ) -> ListenEvent:
        """Record that a user shared / listened to / liked / disliked / skipped a song of this server
        (``at`` defaults to now). Raises UnknownSongError, InvalidEventKindError, InvalidIdError."""

    @abc.abstractmethod
    async def listen_events(self, guild_id: int, user_id: int) -> list[ListenEvent]:
        """All of a user's events in a server, oldest first: the compact input of a taste profile."""

    @abc.abstractmethod
    async def events_since(self, guild_id: int, since: datetime) -> list[ListenEvent]:
        """Every member's events in a server at or after ``since``, oldest first: what the server
        did lately (``/pool stats``' week). A member who asked to be forgotten has none left."""

    @abc.abstractmethod
    async def history(self, guild_id: int, user_id: int, *, limit: int = 25, offset: int = 0) -> list[HistoryEntry]:
        """A page of a user's events in a server with their songs, newest first (for ``/history``)."""

    # -- settings --------------------------------------------------------------------------------

    @abc.abstractmethod
    async def user_settings(self, user_id: int) -> UserSettings:
        """The user's settings; defaults for a user the bot has never seen."""

    @abc.abstractmethod
    async def set_variety(self, user_id: int, variety: float) -> UserSettings:
        """Store the user's variety knob. Raises InvalidVarietyError outside [0, 1] or for NaN."""

    @abc.abstractmethod
    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The server's settings; defaults (auto_pool on, no index channels) for an unknown server."""

    @abc.abstractmethod
    async def set_auto_pool(self, guild_id: int, enabled: bool) -> GuildSettings:
        """Switch whether songs classified in this server join its pool by default."""

    @abc.abstractmethod
    async def set_index_channel(self, guild_id: int, channel_id: int, enabled: bool) -> GuildSettings:
        """Opt a channel in to (or out of) automatic indexing of its audio attachments."""

    @abc.abstractmethod
    async def set_teacher_role(self, guild_id: int, role_id: int | None) -> GuildSettings:
        """Name the role whose members may teach genres besides admins (None: admins only)."""

    # -- genres a server teaches ------------------------------------------------------------------

    @abc.abstractmethod
    async def teach(self, guild_id: int, song_id: int, label: str, *, taught_by: int | None = None) -> int:
        """Label a song of the server with one of its own genres (again: no change) and return the
        label's example count. Raises UnknownSongError, InvalidLabelError, InvalidIdError."""

    @abc.abstractmethod
    async def forget_label(self, guild_id: int, label: str) -> int:
        """Remove a taught label from every song; the number of examples removed. Raises
        UnknownLabelError when no song has it."""

    @abc.abstractmethod
    async def taught_examples(self, guild_id: int) -> dict[str, tuple[int, ...]]:
        """``{label: song ids}`` of every label taught in the server (songs removed since are gone)."""

    @abc.abstractmethod
    async def save_taught_model(
        self, guild_id: int, version: int, state: bytes, *, model_id: str | None = None
    ) -> TaughtModel:
        """Replace the server's taught-genre classifier, fitted on ``model_id``'s embeddings."""

    @abc.abstractmethod
    async def taught_model(self, guild_id: int) -> TaughtModel | None:
        """The server's taught-genre classifier, or None if it has none."""

    # -- privacy ---------------------------------------------------------------------------------

    @abc.abstractmethod
    async def forget_user(self, user_id: int, *, remove_shared_songs: bool = False) -> ForgetReport:
        """Delete everything stored about a user, in every server: events, settings, and their link
        to songs they added. Those songs stay in the pools anonymised (no ``added_by``, no message
        link), unless ``remove_shared_songs``, which deletes them and everyone's events on them.
        Raises UnknownUserError if nothing is stored about the user."""
