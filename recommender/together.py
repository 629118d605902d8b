"""What the front ends call for listening together, over any Store: two members' tastes compared, a
sonic journey between two songs, what the server did this week, and the songs a newcomer starts a
taste from. Reads through the Store, hands arrays to the pure modules (``compatibility``,
``journey``, ``trends``, ``starter``), runs the heavy numpy beside the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from recommender.compatibility import (
    best_first,
    compatibility,
    different_genres,
    genre_similarity,
    shared_genres,
    sound_similarity,
    suggestion_scores,
)
from recommender.config import RecommenderConfig
from recommender.errors import NoHistoryError, NotAnalysedYetError, SameMemberError, SameSongError
from recommender.genres import GENRES
from recommender.journey import plan_journey
from recommender.pool import arrays_for
from recommender.profile import TasteProfile
from recommender.reasons import reason
from recommender.service import DEFAULT_CONFIG, History, history_arrays, read_history
from recommender.starter import covering_rows_of
from recommender.trends import Trends, trends
from storage.base import EventKind, Song, Store

SUGGESTIONS = 5  # songs from the other member's history
STARTER_SONGS = 5  # songs a newcomer is offered to start a taste
WEEK_DAYS = 7
# the other member's events that make a song worth suggesting, strongest first
_VOUCHING = (EventKind.LIKED, EventKind.LISTENED, EventKind.SHARED)


@dataclass(frozen=True)
class Suggestion:
    """A song from the other member's history: ``vouched`` is what they did with it (liked,
    listened, shared), ``score`` in [0, 1] how much the asker would probably like it, ``reason``
    why, in the asker's terms."""

    song: Song
    vouched: EventKind
    score: float
    reason: str


@dataclass(frozen=True, eq=False)
class TasteComparison:
    """Two members' tastes side by side (``recommender.compatibility``): ``score`` in [0, 1] and its
    two halves (``sound`` None when either has no sound direction), the genres both hold
    (``shared``, indices) and the ones they differ on (``different``: index and the asker's share
    minus the other's), each member's tag profile (the positive-weighted mean of their songs' tag
    vectors, None without tags), and songs from the other's history for the asker."""

    score: float
    genres: float
    sound: float | None
    mine: TasteProfile
    theirs: TasteProfile
    shared: tuple[int, ...]
    different: tuple[tuple[int, float], ...]
    my_tags: np.ndarray | None = field(repr=False)
    their_tags: np.ndarray | None = field(repr=False)
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True, eq=False)
class Journey:
    """``songs``: the journey, the start first and the goal last; ``steps``: the cosine distance of
    each step (one fewer than songs); ``asked``: how many songs were asked for."""

    songs: tuple[Song, ...]
    steps: np.ndarray = field(repr=False)
    asked: int
    variety: float

    @property
    def hint(self) -> str | None:
        """A sentence when the journey is shorter than asked, else None."""
        between = len(self.songs) - 2
        if len(self.songs) >= self.asked:
            return None
        if between == 0:
            return "No song of this server's pool lies between these two by sound: the journey goes straight there."
        return (
            f"Only {between} song(s) of this server's pool lie between these two by sound, so the journey is "
            f"shorter than the {self.asked} songs asked."
        )


async def compare_tastes(
    store: Store,
    guild_id: int,
    user_id: int,
    other_id: int,
    *,
    count: int = SUGGESTIONS,
    now: datetime | None = None,
    config: RecommenderConfig = DEFAULT_CONFIG,
    labels: Sequence[str] = GENRES,
) -> TasteComparison:
    """How close the tastes of ``user_id`` and ``other_id`` are in this server, and up to ``count``
    songs from the other's history the asker has not heard (nor shared) that they would probably
    like, best first. Raises SameMemberError, NoHistoryError (either side: the asker's first)."""
    if user_id == other_id:
        raise SameMemberError(user_id)
    matrix = await store.pool_matrix(guild_id)
    mine = await read_history(store, guild_id, user_id, matrix, now, config)
    theirs = await read_history(store, guild_id, other_id, matrix, now, config)
    for history, member, yours in ((mine, user_id, True), (theirs, other_id, False)):
        if history.profile.empty:
            raise NoHistoryError(member, yours)
    a, b = mine.profile, theirs.profile
    sound = None if a.embedding is None or b.embedding is None else sound_similarity(a.embedding, b.embedding)
    suggestions = await _suggestions(store, guild_id, user_id, mine, theirs, count, labels)
    return TasteComparison(
        score=compatibility(a, b),
        genres=genre_similarity(a.vector, b.vector),
        sound=sound,
        mine=a,
        theirs=b,
        shared=tuple(shared_genres(a.vector, b.vector)),
        different=tuple(different_genres(a.vector, b.vector)),
        my_tags=_tag_profile(mine),
        their_tags=_tag_profile(theirs),
        suggestions=suggestions,
    )


def _tag_profile(history: History) -> np.ndarray | None:
    """The positive-weighted mean of the history's tag vectors (songs without tags left out)."""
    if history.tags is None:
        return None
    weights = np.clip(history.weights, 0.0, None) * ~np.isnan(history.tags).any(axis=1)
    if weights.sum() <= 0:
        return None
    return np.nan_to_num(history.tags).T @ weights / weights.sum()


async def _suggestions(
    store: Store,
    guild_id: int,
    user_id: int,
    mine: History,
    theirs: History,
    count: int,
    labels: Sequence[str],
) -> tuple[Suggestion, ...]:
    """Songs the other member vouched for (their events on it sum to a positive weight), new to the
    asker, ranked by :func:`recommender.compatibility.suggestion_scores`."""
    heard = set(mine.song_ids.tolist())
    net: dict[int, float] = {}
    first_row: dict[int, int] = {}
    kinds: dict[int, set[EventKind]] = {}
    for row, (event, weight) in enumerate(zip(theirs.kept, theirs.weights)):
        net[event.song_id] = net.get(event.song_id, 0.0) + float(weight)
        first_row.setdefault(event.song_id, row)
        kinds.setdefault(event.song_id, set()).add(event.kind)
    candidates = [song_id for song_id, weight in net.items() if weight > 0 and song_id not in heard]
    songs = [song for song in await store.get_songs(guild_id, candidates) if song.added_by != user_id]
    if not songs:
        return ()
    rows = np.array([first_row[song.id] for song in songs])
    scores = suggestion_scores(mine.profile, theirs.probabilities[rows], theirs.embeddings[rows])
    taste = mine.profile.vector
    return tuple(
        Suggestion(
            song=songs[index],
            vouched=next(kind for kind in _VOUCHING if kind in kinds[songs[index].id]),
            score=float(scores[index]),
            reason=reason(songs[index].probabilities, taste, taste, cold_start=False, labels=labels),
        )
        for index in best_first(scores, count)
    )


async def journey_between(
    store: Store,
    guild_id: int,
    from_id: int,
    to_id: int,
    steps: int,
    *,
    variety: float,
    exclude: Sequence[int] = (),
    seed: int | None = None,
    config: RecommenderConfig = DEFAULT_CONFIG,
) -> Journey:
    """A journey of up to ``steps`` songs (the ends included, at least 2) from song ``from_id`` to
    ``to_id`` through this server's pool (``recommender.journey``), never through the songs of
    ``exclude``; ``variety`` in [0, 1] loosens it, ``seed`` pins its noise; only songs the serving
    model analysed are stepped on. Raises SameSongError, UnknownSongError (storage) for an end not
    in this server, NotAnalysedYetError for an end another model analysed."""
    if from_id == to_id:
        raise SameSongError(from_id)
    start = await store.get_song(guild_id, from_id)
    goal = await store.get_song(guild_id, to_id)
    for end in (start, goal):
        if not store.analysed_by_serving_model(end):
            raise NotAnalysedYetError(end.id)
    matrix = (await store.pool_matrix(guild_id)).comparable  # never through another model's sound
    excluded = np.zeros(len(matrix), dtype=bool)
    excluded[matrix.rows_of([from_id, to_id, *exclude])] = True
    plan = await asyncio.to_thread(
        plan_journey,
        matrix.embeddings,
        start.embedding,
        goal.embedding,
        steps,
        excluded=excluded,
        variety=variety,
        dedup_threshold=config.dedup_threshold,
        rng=np.random.default_rng(seed),
    )
    wanted = [int(song_id) for song_id in matrix.ids[plan.rows]]
    found = {song.id: song for song in await store.get_songs(guild_id, wanted)}
    between = [found[song_id] for song_id in wanted if song_id in found]  # one removed meanwhile is left out
    songs = (start, *between, goal)
    embeddings = np.stack([song.embedding for song in songs]).astype(np.float64)
    distances = 1.0 - np.einsum("nd,nd->n", embeddings[:-1], embeddings[1:])
    return Journey(songs, distances, steps, variety)


async def recent_trends(store: Store, guild_id: int, *, days: int = WEEK_DAYS, now: datetime | None = None) -> Trends:
    """What the server shared and played in the last ``days`` days, against the pool's all-time
    mix (``recommender.trends``)."""
    moment = now or datetime.now(UTC)
    events = await store.events_since(guild_id, moment - timedelta(days=days))
    matrix = await store.pool_matrix(guild_id)
    kept, probabilities, _, _ = await history_arrays(store, guild_id, events, matrix)
    return trends(kept, probabilities, arrays_for(matrix).mix, days=days)


async def starter_songs(store: Store, guild_id: int, count: int = STARTER_SONGS) -> list[Song]:
    """Up to ``count`` songs that cover the sound of the server's pool (``recommender.starter``),
    for a member with no history to start a taste with; none for an empty pool. Only songs the
    serving model analysed are compared."""
    matrix = (await store.pool_matrix(guild_id)).comparable
    if len(matrix) == 0:
        return []
    rows = await asyncio.to_thread(covering_rows_of, matrix, count)
    return await store.get_songs(guild_id, [int(song_id) for song_id in matrix.ids[rows]])
