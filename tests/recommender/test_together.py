"""Listening together: taste compatibility, journeys, the week's trends, a newcomer's starter songs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommender.compatibility import compatibility
from recommender.errors import NoHistoryError, SameMemberError, SameSongError
from recommender.genres import GENRES
from recommender.journey import JourneyPlan, plan_journey, waypoints
from recommender.profile import build_profile
from recommender.service import DEFAULT_CONFIG
from recommender.together import compare_tastes, journey_between, recent_trends, starter_songs
from storage import EventKind, SQLiteStore
from storage.errors import UnknownSongError
from tests.recommender.conftest import ALICE, BOB, EMPTY_GUILD, GUILD, NEWCOMER

NOW = datetime(2025, 6, 1, tzinfo=UTC)
CAROL = 504
METAL, CLASSICAL, JAZZ = (GENRES.index(name) for name in ("metal", "classical", "jazz"))


def one_genre_pool(genres: list[int], dim: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """One song per genre given: its probability vector mostly that genre, its embedding an axis."""
    probabilities = np.full((len(genres), len(GENRES)), 0.01, np.float32)
    probabilities[np.arange(len(genres)), genres] = 0.91
    embeddings = np.eye(len(genres), dim, dtype=np.float32)
    return probabilities, embeddings


def profile_of(rows: list[int], probabilities: np.ndarray, embeddings: np.ndarray):
    weights = np.full(len(rows), DEFAULT_CONFIG.event_weights[EventKind.LIKED])
    return build_profile(np.array(rows), probabilities[rows], embeddings[rows], weights, DEFAULT_CONFIG)


def test_compatibility_is_symmetric_whole_for_identical_histories_and_lower_for_nothing_shared() -> None:
    probabilities, embeddings = one_genre_pool([METAL, METAL, CLASSICAL, JAZZ])
    metalhead = profile_of([0, 1], probabilities, embeddings)
    twin = profile_of([0, 1], probabilities, embeddings)
    overlapping = profile_of([0, 3], probabilities, embeddings)
    stranger = profile_of([2, 3], probabilities, embeddings)

    assert compatibility(metalhead, twin) == pytest.approx(1.0)
    for a, b in ((metalhead, overlapping), (metalhead, stranger), (overlapping, stranger)):
        assert compatibility(a, b) == pytest.approx(compatibility(b, a))
    assert compatibility(metalhead, stranger) < compatibility(metalhead, overlapping) < 1.0
    assert compatibility(metalhead, stranger) < 0.3


async def like(store: SQLiteStore, user_id: int, rows: list[int], kind: EventKind = EventKind.LIKED) -> list[int]:
    matrix = await store.pool_matrix(GUILD)
    ids = [int(matrix.ids[row]) for row in rows]
    for day, song_id in enumerate(ids):
        await store.record_event(GUILD, user_id, song_id, kind, at=NOW - timedelta(days=day))
    return ids


async def test_members_with_the_same_history_are_fully_compatible_and_share_their_genres(store: SQLiteStore) -> None:
    await like(store, BOB, [1, 2, 3])
    await like(store, CAROL, [1, 2, 3])
    comparison = await compare_tastes(store, GUILD, BOB, CAROL, now=NOW)
    assert comparison.score == pytest.approx(1.0)
    assert comparison.different == () and comparison.shared
    assert comparison.suggestions == ()  # nothing of Carol's is new to Bob


async def test_suggestions_come_from_the_other_history_new_to_the_asker_best_first(store: SQLiteStore) -> None:
    mine = await like(store, BOB, [1, 2, 3])
    theirs = await like(store, CAROL, [3, 4, 5, 6, 7, 8, 9])
    disliked = await like(store, CAROL, [10], EventKind.DISLIKED)
    comparison = await compare_tastes(store, GUILD, BOB, CAROL, now=NOW)
    suggested = [suggestion.song.id for suggestion in comparison.suggestions]
    assert len(suggested) == 5 and set(suggested) <= set(theirs) - set(mine)
    assert not set(suggested) & set(disliked)
    scores = [suggestion.score for suggestion in comparison.suggestions]
    assert scores == sorted(scores, reverse=True)
    assert all(s.vouched is EventKind.LIKED and "% " in s.reason for s in comparison.suggestions)
    back = await compare_tastes(store, GUILD, CAROL, BOB, now=NOW)
    assert back.score == pytest.approx(comparison.score)


async def test_comparing_needs_two_members_with_a_history_here(store: SQLiteStore) -> None:
    await like(store, BOB, [1])
    with pytest.raises(SameMemberError):
        await compare_tastes(store, GUILD, BOB, BOB)
    with pytest.raises(NoHistoryError) as theirs:
        await compare_tastes(store, GUILD, BOB, NEWCOMER)
    with pytest.raises(NoHistoryError) as yours:
        await compare_tastes(store, GUILD, NEWCOMER, BOB)
    with pytest.raises(NoHistoryError):  # a history in another server does not count here
        await compare_tastes(store, EMPTY_GUILD, BOB, ALICE)
    assert not theirs.value.yours and "That member has no listening history" in str(theirs.value)
    assert yours.value.yours and str(yours.value).startswith("You have no listening history")


async def test_a_forgotten_member_leaves_every_comparison(store: SQLiteStore) -> None:
    await like(store, BOB, [1, 2])
    await like(store, CAROL, [3, 4])
    await compare_tastes(store, GUILD, BOB, CAROL)
    await store.forget_user(CAROL)
    with pytest.raises(NoHistoryError):
        await compare_tastes(store, GUILD, BOB, CAROL)


def test_waypoints_run_on_the_great_circle_from_end_to_end() -> None:
    start, goal = np.eye(2, 4, dtype=np.float32)
    points = waypoints(start, goal, 5)
    np.testing.assert_allclose(points[0], start, atol=1e-6)
    np.testing.assert_allclose(points[-1], goal, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(points[2, :2], [np.sqrt(0.5)] * 2, atol=1e-6)


def arc_pool(size: int, seed: int = 0) -> np.ndarray:
    """Songs scattered about a quarter circle from axis 0 to axis 1, in 6 dimensions."""
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0, np.pi / 2, size)
    embeddings = np.zeros((size, 6), np.float32)
    embeddings[:, 0], embeddings[:, 1] = np.cos(angles), np.sin(angles)
    embeddings[:, 2:] = rng.normal(0, 0.15, (size, 4))
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)


def arc_journey(embeddings: np.ndarray, variety: float, seed: int) -> JourneyPlan:
    """A journey of 10 songs from axis 0 to axis 1 through ``embeddings``."""
    start, goal = np.eye(2, embeddings.shape[1], dtype=np.float32)
    return plan_journey(
        embeddings,
        start,
        goal,
        10,
        excluded=np.zeros(len(embeddings), bool),
        variety=variety,
        dedup_threshold=0.999,
        rng=np.random.default_rng(seed),
    )


@pytest.mark.parametrize("variety", [0.0, 0.5, 1.0])
def test_a_journey_always_gets_closer_to_the_goal_in_even_steps_without_repeats(variety: float) -> None:
    embeddings = arc_pool(400)
    start, goal = np.eye(2, 6, dtype=np.float32)
    plan = arc_journey(embeddings, variety, 3)
    assert len(plan.rows) == 8 == len(set(plan.rows.tolist()))
    closeness = [float(start @ goal), *(embeddings[plan.rows] @ goal).tolist(), 1.0]
    assert all(a < b for a, b in zip(closeness, closeness[1:]))
    assert len(plan.steps) == 9 and plan.steps.max() < 0.1  # a straight jump is 1.0
    random_rows = np.random.default_rng(0).choice(400, 8, replace=False)
    random_path = np.vstack([start, embeddings[random_rows[np.argsort(embeddings[random_rows] @ goal)]], goal])
    assert plan.steps.max() < (1.0 - np.einsum("nd,nd->n", random_path[:-1], random_path[1:])).max()


def test_variety_loosens_a_journey_and_none_keeps_it_the_same() -> None:
    embeddings = arc_pool(400)

    def rows(variety: float, seed: int) -> list[int]:
        return arc_journey(embeddings, variety, seed).rows.tolist()

    assert rows(0.0, 1) == rows(0.0, 2)
    assert len({tuple(rows(1.0, seed)) for seed in range(4)}) > 1


async def test_journey_between_two_pool_songs(store: SQLiteStore) -> None:
    matrix = await store.pool_matrix(GUILD)
    first, last = int(matrix.ids[0]), int(matrix.ids[-1])
    journey = await journey_between(store, GUILD, first, last, 8, variety=0.0)
    ids = [song.id for song in journey.songs]
    assert ids[0] == first and ids[-1] == last and len(ids) == len(set(ids)) <= 8
    assert len(journey.steps) == len(ids) - 1
    with pytest.raises(SameSongError):
        await journey_between(store, GUILD, first, first, 8, variety=0.0)
    with pytest.raises(UnknownSongError):
        await journey_between(store, GUILD, first, 99_999, 8, variety=0.0)
    short = await journey_between(store, GUILD, first, last, 8, variety=0.0, exclude=matrix.ids[1:-1].tolist())
    assert len(short.songs) == 2 and "goes straight there" in short.hint


async def test_the_week_counts_what_was_shared_and_played_and_who_did_it(store: SQLiteStore) -> None:
    matrix = await store.pool_matrix(GUILD)
    metal_rows = np.argsort(-matrix.probabilities[:, METAL])[:6].tolist()
    await like(store, BOB, metal_rows, EventKind.LISTENED)
    await like(store, CAROL, metal_rows[:2])
    await store.record_event(GUILD, ALICE, int(matrix.ids[0]), EventKind.LIKED, at=NOW - timedelta(days=30))
    week = await recent_trends(store, GUILD, now=NOW)
    assert week.events == 8 == week.played and week.days == 7
    assert int(np.argmax(week.mix)) == METAL and week.rising[0][0] == METAL
    assert week.active == ((BOB, 6), (CAROL, 2))  # Alice's like is a month old
    await store.forget_user(BOB)
    assert (await recent_trends(store, GUILD, now=NOW)).active == ((CAROL, 2),)
    quiet = await recent_trends(store, EMPTY_GUILD, now=NOW)
    assert quiet.events == 0 and not quiet.mix.any() and quiet.rising == ()


async def test_starter_songs_cover_the_pool_and_none_come_from_an_empty_one(store: SQLiteStore) -> None:
    songs = await starter_songs(store, GUILD, 5)
    assert len(songs) == 5 == len({song.id for song in songs})
    assert await starter_songs(store, GUILD, 5) == songs  # the same for every newcomer
    assert await starter_songs(store, EMPTY_GUILD) == []
