"""What the front ends call: playlists, "more like this" and taste profiles, over any Store.

Each function reads what it needs through the Store interface (cached pool matrix, the user's
events, their settings) and hands arrays to the pure modules; nothing here knows about SQLite or
Discord. Bad input raises specific errors (InvalidCountError here; UnknownSongError, InvalidIdError
from the store) whose ``str()`` is fit for users. An empty pool or a user without history is not an
error: the result says so in ``hint``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from recommender.ann import AnnIndexes
from recommender.config import RecommenderConfig
from recommender.errors import InvalidCountError, NotAnalysedYetError, NothingMatchesError
from recommender.filters import PoolFilter, select_all
from recommender.genres import GENRES
from recommender.metrics import playlist_mix
from recommender.playlist import Plan, excluded_rows, plan_playlist
from recommender.pool import arrays_for
from recommender.profile import (
    TasteProfile,
    build_profile,
    event_weights,
    group_profile,
)
from recommender.reasons import reason
from recommender.similarity import nearest
from storage.base import DEFAULT_VARIETY, ListenEvent, PoolMatrix, Song, Store

DEFAULT_CONFIG = RecommenderConfig()

EMPTY_POOL_HINT = "This server's song pool is empty. Share some music with /classify to start it, then ask again."
ALL_HEARD_HINT = "You already have every song in this server's pool. Share more music to grow it."
SHORT_HINT = (
    "Only {available} song(s) in this server's pool are new to you, so the playlist is short. "
    "Share more music to grow the pool."
)
ALL_PLAYED_HINT = "Every song of this server's pool that can be played has been played."
SHORT_FILTERED_HINT = (
    "Only {available} song(s) in this server's pool match and are new to you, so the playlist is short."
)
COLD_START_HINT = (
    "I don't know your taste yet, so this is the server's mix: songs typical of this server. Share music "
    "with /classify or rate songs to get a playlist of your own."
)


@dataclass(frozen=True)
class PlaylistEntry:
    song: Song
    score: float  # relevance in [0, 1]: how close the song is to the user's sound
    reason: str


@dataclass(frozen=True, eq=False)
class Playlist:
    """``cold_start``: the user has no history, so the songs are the server's most representative.
    ``hint``: a sentence for the user when the playlist is empty, short or cold, else None."""

    entries: tuple[PlaylistEntry, ...]
    cold_start: bool
    hint: str | None
    variety: float
    taste: TasteProfile
    target: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def mix(self) -> np.ndarray:
        """Genre mix of the playlist (zeros when empty)."""
        if not self.entries:
            return np.zeros_like(self.target)
        return playlist_mix(np.stack([entry.song.probabilities for entry in self.entries]))


@dataclass(frozen=True)
class SimilarSong:
    song: Song
    similarity: float  # cosine similarity of the embeddings, in [-1, 1]


def _check_count(what: str, value: object, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidCountError(what, value, limit)
    if not 1 <= value <= limit:
        raise InvalidCountError(what, value, limit)
    return int(value)


@dataclass(frozen=True, eq=False)
class History:
    """A member's history in a server as the recommender reads it. ``events``: all of them, oldest
    first; ``kept``: those whose song still exists, with one row each in ``probabilities``
    ``[n, K]``, ``embeddings`` ``[n, D]``, ``tags`` ``[n, T]`` (NaN rows for songs without tags;
    None when no song has any) and ``weights`` (signed, recency-weighted: ``event_weights``).
    ``profile``: the taste they make."""

    events: list[ListenEvent]
    kept: list[ListenEvent]
    probabilities: np.ndarray
    embeddings: np.ndarray
    tags: np.ndarray | None
    weights: np.ndarray
    profile: TasteProfile

    @property
    def song_ids(self) -> np.ndarray:
        """Ids of every song in the history (int64, one per event)."""
        return np.array([event.song_id for event in self.events], dtype=np.int64)


async def history_arrays(
    store: Store, guild_id: int, events: Sequence[ListenEvent], matrix: PoolMatrix
) -> tuple[list[ListenEvent], np.ndarray, np.ndarray, np.ndarray | None]:
    """Probability, embedding and tag rows for each event's song: from the cached pool matrix, or for
    songs kept only for histories (not in the pool) from the store. Events whose song vanished
    meanwhile (removed by an admin mid-request) are dropped. Tags: NaN rows where a song has none,
    None when none has any."""
    song_ids = np.array([event.song_id for event in events], dtype=np.int64)
    rows, in_pool = matrix.locate(song_ids)
    outside = {int(song_id) for song_id in song_ids[~in_pool]}
    extra = {song.id: song for song in await store.get_songs(guild_id, sorted(outside))} if outside else {}
    kept, probabilities, embeddings, tags = [], [], [], []
    for event, row, pooled in zip(events, rows, in_pool):
        if pooled:
            probabilities.append(matrix.probabilities[row])
            embeddings.append(matrix.embeddings[row])
            tags.append(None if matrix.tags is None else matrix.tags[row])
        elif event.song_id in extra and extra[event.song_id].probabilities.shape[0] == store.genre_count:
            song = extra[event.song_id]
            probabilities.append(song.probabilities)
            embeddings.append(store.sound_of(song))  # another model's sound counts for nothing
            tags.append(song.tags)
        else:
            continue
        kept.append(event)
    if not kept:
        return [], np.zeros((0, matrix.probabilities.shape[1])), np.zeros((0, 0), np.float32), None
    return kept, np.stack(probabilities), np.stack(embeddings), _tag_rows(tags)


def _tag_rows(tags: list[np.ndarray | None]) -> np.ndarray | None:
    """The tag vectors as rows, NaN where a song has none (or one of another length); None when no
    song has any."""
    width = max((len(row) for row in tags if row is not None), default=0)
    if width == 0:
        return None
    rows = np.full((len(tags), width), np.nan, np.float32)
    for index, row in enumerate(tags):
        if row is not None and len(row) == width:
            rows[index] = row
    return rows


async def read_history(
    store: Store,
    guild_id: int,
    user_id: int,
    matrix: PoolMatrix,
    now: datetime | None,
    config: RecommenderConfig,
) -> History:
    """The member's history in this server and the taste it makes."""
    events = await store.listen_events(guild_id, user_id)
    kept, probabilities, embeddings, tags = await history_arrays(store, guild_id, events, matrix)
    song_ids = np.array([event.song_id for event in kept], dtype=np.int64)
    moment = (now or datetime.now(UTC)).timestamp()
    ages_days = np.array([(moment - event.at.timestamp()) / 86_400 for event in kept])
    weights = event_weights([event.kind for event in kept], ages_days, config)
    profile = build_profile(song_ids, probabilities, embeddings, weights, config)
    return History(events, kept, probabilities, embeddings, tags, weights, profile)


async def taste_of(
    store: Store,
    guild_id: int,
    user_id: int,
    *,
    now: datetime | None = None,
    config: RecommenderConfig = DEFAULT_CONFIG,
) -> TasteProfile:
    """The user's taste profile in a server (``profile.songs`` says how many songs it rests on;
    0 means no history yet and a uniform vector)."""
    matrix = await store.pool_matrix(guild_id)
    return (await read_history(store, guild_id, user_id, matrix, now, config)).profile


async def playlist_for(
    store: Store,
    guild_id: int,
    user_id: int,
    limit: int = 10,
    *,
    seed: int | None = None,
    now: datetime | None = None,
    config: RecommenderConfig = DEFAULT_CONFIG,
    labels: Sequence[str] = GENRES,
    only: Sequence[PoolFilter] = (),
) -> Playlist:
    """The user's calibrated playlist of up to ``limit`` songs from the server's pool.

    Never a song the user already has (in their history or added by them). ``seed`` pins the random
    exploration (tests); None gives a fresh list each call. ``now`` is the clock for recency decay.
    ``labels`` name the genres of the stored probability vectors, in order (for the reasons).
    ``only`` restricts the songs to those every filter selects (the calibration runs within them).
    Raises InvalidCountError unless 1 <= limit <= config.max_playlist, NothingMatchesError when
    no song of a non-empty pool passes ``only``.
    """
    count = _check_count("playlist", limit, config.max_playlist)
    matrix = await store.pool_matrix(guild_id)
    history = await read_history(store, guild_id, user_id, matrix, now, config)
    profile, history_ids = history.profile, history.song_ids
    variety = (await store.user_settings(user_id)).variety

    def empty(hint: str) -> Playlist:
        return Playlist((), profile.empty, hint, variety, profile, profile.vector)

    if len(matrix) == 0:
        return empty(EMPTY_POOL_HINT)
    excluded = excluded_rows(len(matrix), matrix.rows_of(history_ids), matrix.added_by, user_id)
    excluded = excluded | ~_allowed(only, matrix)
    plan = await _plan(matrix, excluded, profile, variety, count, config, seed)
    if plan.available == 0:
        return empty(ALL_HEARD_HINT)
    entries = await _entries(store, guild_id, matrix, plan, profile, labels)
    hint = None
    if plan.available < count:
        hint = (SHORT_FILTERED_HINT if only else SHORT_HINT).format(available=plan.available)
    elif plan.cold_start:
        hint = COLD_START_HINT
    return Playlist(entries, plan.cold_start, hint, variety, profile, plan.target)


async def more_like_this(
    store: Store,
    guild_id: int,
    song_id: int,
    limit: int = 5,
    *,
    config: RecommenderConfig = DEFAULT_CONFIG,
    ann: AnnIndexes | None = None,
) -> list[SimilarSong]:
    """The ``limit`` pool songs whose embeddings are closest to the song's, most similar first; the
    song itself and its near-duplicates are left out, and so are songs another model than the serving
    one analysed (their sound is not comparable). Raises UnknownSongError, InvalidCountError, and
    NotAnalysedYetError for a song of another model.
    From ``config.ann_min_songs`` pool songs on, ``ann`` (the caller's indexes, kept between calls)
    answers once the server's index is built (recommender.ann); exact search until then."""
    count = _check_count("list of similar songs", limit, config.max_similar)
    song = await store.get_song(guild_id, song_id)
    if not store.analysed_by_serving_model(song):
        raise NotAnalysedYetError(song.id)
    matrix = await store.pool_matrix(guild_id)
    if len(matrix) == 0:
        return []
    excluded = (matrix.ids == song.id) | ~matrix.sounding()  # never another model's sound
    found = None
    # the index follows the whole pool; while other models' songs are in it, exact search answers
    if ann is not None and len(matrix) >= config.ann_min_songs and matrix.current is None:
        found = await ann.nearest(
            guild_id,
            matrix.ids,
            matrix.embeddings,
            song.embedding,
            count,
            excluded=excluded,
            dedup_threshold=config.dedup_threshold,
        )
    rows, similarities = found or await asyncio.to_thread(
        nearest,
        matrix.embeddings,
        song.embedding,
        count,
        excluded=excluded,
        dedup_threshold=config.dedup_threshold,
    )
    songs = {found.id: found for found in await store.get_songs(guild_id, matrix.ids[rows].tolist())}
    return [
        SimilarSong(songs[int(song_id)], float(similarity))
        for song_id, similarity in zip(matrix.ids[rows], similarities)
        if int(song_id) in songs
    ]


async def group_playlist_for(
    store: Store,
    guild_id: int,
    user_ids: Sequence[int],
    limit: int = 5,
    *,
    variety: float | None = None,
    exclude: Sequence[int] = (),
    seed: int | None = None,
    now: datetime | None = None,
    config: RecommenderConfig = DEFAULT_CONFIG,
    labels: Sequence[str] = GENRES,
    only: Sequence[PoolFilter] = (),
) -> Playlist:
    """The next ``limit`` songs for listeners together (the radio): calibrated to the mean of their
    taste profiles (:func:`recommender.profile.group_profile`), loosened by ``variety`` (None: the
    mean of the listeners' own settings; with no listener the default).

    Unlike :func:`playlist_for`, songs the listeners already know are welcome; only the song ids in
    ``exclude`` (the radio: songs played this session, songs whose audio is missing) are left out.
    ``Playlist.taste`` is the group's profile; ``labels`` name the genres in the reasons. ``only``
    restricts the songs to those every filter selects (the calibration runs within them), as for
    :func:`playlist_for`. Raises InvalidCountError unless 1 <= limit <= config.max_playlist,
    ValueError for a variety outside [0, 1], NothingMatchesError when no song of a non-empty pool
    passes ``only``.
    """
    count = _check_count("playlist", limit, config.max_playlist)
    if variety is not None and not 0.0 <= variety <= 1.0:
        raise ValueError(f"variety must be in [0, 1], got {variety}")
    matrix = await store.pool_matrix(guild_id)
    profiles = [(await read_history(store, guild_id, user_id, matrix, now, config)).profile for user_id in user_ids]
    group = group_profile(profiles)
    if variety is None:
        settings = [(await store.user_settings(user_id)).variety for user_id in user_ids]
        variety = float(np.mean(settings)) if settings else DEFAULT_VARIETY

    def empty(hint: str) -> Playlist:
        return Playlist((), group.empty, hint, variety, group, group.vector)

    if len(matrix) == 0:
        return empty(EMPTY_POOL_HINT)
    excluded = np.zeros(len(matrix), dtype=bool)
    excluded[matrix.rows_of(list(exclude))] = True
    excluded |= ~_allowed(only, matrix)
    plan = await _plan(matrix, excluded, group, variety, count, config, seed)
    if plan.available == 0:
        return empty(ALL_PLAYED_HINT)
    entries = await _entries(store, guild_id, matrix, plan, group, labels)
    return Playlist(entries, plan.cold_start, None, variety, group, plan.target)


def _allowed(only: Sequence[PoolFilter], matrix: PoolMatrix) -> np.ndarray:
    """Bool [N]: the rows every filter of ``only`` selects (all rows without a filter).
    NothingMatchesError when filters leave none of a non-empty pool."""
    allowed = select_all(only, matrix)
    if only and not allowed.any():
        raise NothingMatchesError(tuple((f.kind, f.value) for f in only))
    return allowed


async def _plan(
    matrix: PoolMatrix,
    excluded: np.ndarray,
    taste: TasteProfile,
    variety: float,
    count: int,
    config: RecommenderConfig,
    seed: int | None,
) -> Plan:
    """The calibrated selection, beside the event loop (it costs milliseconds per 100k songs)."""
    return await asyncio.to_thread(
        lambda: plan_playlist(arrays_for(matrix), excluded, taste, variety, count, config, np.random.default_rng(seed))
    )


async def _entries(
    store: Store, guild_id: int, matrix: PoolMatrix, plan: Plan, taste: TasteProfile, labels: Sequence[str]
) -> tuple[PlaylistEntry, ...]:
    """The planned songs with their scores and reasons, read from the store; a song removed while
    we were choosing is left out."""
    chosen_ids = [int(song_id) for song_id in matrix.ids[plan.rows]]
    songs = {song.id: song for song in await store.get_songs(guild_id, chosen_ids)}
    return tuple(
        PlaylistEntry(
            song=songs[song_id],
            score=float(score),
            reason=reason(
                songs[song_id].probabilities, taste.vector, plan.target, cold_start=plan.cold_start, labels=labels
            ),
        )
        for song_id, score in zip(chosen_ids, plan.relevance)
        if song_id in songs
    )
