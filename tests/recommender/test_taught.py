"""Taught genres (recommender.taught) and playlist filters (recommender.filters), pure and over a store."""

from __future__ import annotations

import numpy as np
import pytest

from genre_engine.tags import Tag, TagVocabulary
from recommender.errors import NothingMatchesError, UnknownFilterError
from recommender.filters import genre_filter, tag_filter
from recommender.service import group_playlist_for, playlist_for
from recommender.taught import MIN_EXAMPLES, TaughtClassifier, fit, members
from storage import NewSong, PoolMatrix, SQLiteStore

DIM = 16
VOCABULARY = TagVocabulary(
    "test", (Tag("electronic", "style", 0.3), Tag("chill", "mood", 0.2)), min_top_probability=0.5, min_outside_styles=1
)


def clustered_pool(size: int = 60, seed: int = 0, every: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids, unit embeddings and cluster (1 for every ``every``-th song, else 0) of a pool whose two
    clusters sound apart."""
    rng = np.random.default_rng(seed)
    cluster = (np.arange(size) % every == 0).astype(int)
    centres = rng.normal(size=(2, DIM)) * 3
    embeddings = centres[cluster] + rng.normal(size=(size, DIM))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    return np.arange(1, size + 1, dtype=np.int64), embeddings.astype(np.float32), cluster


def test_a_label_with_enough_examples_is_learnt_and_predicted_for_the_pool() -> None:
    ids, embeddings, cluster = clustered_pool(every=8)  # 8 songs of the style, 6 of them taught
    taught = ids[cluster == 1][:6].tolist()

    classifier = fit(ids, embeddings, {"synthwave": taught})

    assert classifier.labels == ("synthwave",)
    (quality,) = classifier.qualities
    assert quality.examples == 6 and quality.cv_accuracy > 0.9 and not quality.poor
    predicted = classifier.predict(embeddings)[:, 0]
    assert predicted[cluster == 1].all() and not predicted[cluster == 0].any()  # the 2 untaught ones too


def test_a_label_below_the_minimum_is_listed_but_not_predicted() -> None:
    ids, embeddings, _ = clustered_pool()

    classifier = fit(ids, embeddings, {"lo-fi": ids[: MIN_EXAMPLES - 1].tolist()})

    assert classifier.labels == ()
    assert classifier.quality("lo-fi").cv_accuracy is None and classifier.quality("lo-fi").examples == 4
    assert members(classifier, "lo-fi", ids, embeddings, ids[:4].tolist()).sum() == 4  # only the taught songs


def test_a_label_on_random_songs_is_marked_poor() -> None:
    ids, embeddings, _ = clustered_pool(80, seed=3)
    random_pick = np.random.default_rng(1).choice(ids, 12, replace=False).tolist()

    quality = fit(ids, embeddings, {"vibes": random_pick}).quality("vibes")

    assert quality.cv_accuracy is not None and quality.poor


def test_state_round_trips_through_bytes() -> None:
    ids, embeddings, cluster = clustered_pool(every=8)
    classifier = fit(ids, embeddings, {"a": ids[cluster == 1][:6].tolist(), "b": ids[:2].tolist()})

    again = TaughtClassifier.from_bytes(classifier.to_bytes())

    assert again.labels == classifier.labels and again.qualities == classifier.qualities
    np.testing.assert_allclose(again.scores(embeddings), classifier.scores(embeddings))


def matrix_with_tags(tags: list[list[float] | None]) -> PoolMatrix:
    count = len(tags)
    rows = np.array([row if row is not None else [np.nan, np.nan] for row in tags], np.float32)
    probabilities = np.full((count, 3), 0.1, np.float32)
    probabilities[np.arange(count), np.arange(count) % 3] = 0.8
    return PoolMatrix(
        guild_id=1,
        ids=np.arange(1, count + 1),
        probabilities=probabilities,
        embeddings=np.eye(count, DIM, dtype=np.float32),
        added_by=np.zeros(count, np.int64),
        tags=rows,
    )


def test_style_and_mood_filters_use_each_tags_threshold_and_skip_untagged_songs() -> None:
    matrix = matrix_with_tags([[0.5, 0.1], [0.2, 0.25], None])

    assert tag_filter("style", "Electronic", VOCABULARY).select(matrix).tolist() == [True, False, False]
    assert tag_filter("mood", "chill", VOCABULARY).select(matrix).tolist() == [False, True, False]


@pytest.mark.parametrize(("kind", "value"), [("style", "chill"), ("mood", "polka"), ("style", "electronic")])
def test_unknown_or_misplaced_names_are_refused_with_the_known_ones(kind, value) -> None:
    vocabulary = None if value == "electronic" else VOCABULARY
    with pytest.raises(UnknownFilterError) as raised:
        tag_filter(kind, value, vocabulary)
    assert value in str(raised.value) and ("Known" in str(raised.value))


def test_genre_filter_takes_a_model_genre_or_a_taught_label() -> None:
    matrix = matrix_with_tags([None] * 6)
    labels = ("blues", "jazz", "metal")

    assert genre_filter("Jazz", labels, {}, None).select(matrix).tolist() == [False, True, False, False, True, False]
    taught = genre_filter("Lo Fi", labels, {"lo-fi": (3, 6)}, None)
    assert taught.value == "lo-fi" and taught.select(matrix).tolist() == [False, False, True, False, False, True]
    with pytest.raises(UnknownFilterError, match="blues, jazz, metal, lo-fi"):
        genre_filter("polka", labels, {"lo-fi": (3,)}, None)


async def test_a_filtered_playlist_draws_only_matching_songs_or_says_none_match(tmp_path) -> None:
    async with SQLiteStore(tmp_path / "pool.db") as store:
        rng = np.random.default_rng(0)
        await store.add_songs(
            NewSong(
                guild_id=1,
                title=f"s{i}",
                content_hash=f"{i:064x}",
                probabilities=np.full(10, 0.1),
                embedding=rng.normal(size=DIM),
                tags=[0.9 if i % 3 == 0 else 0.0, 0.0],
            )
            for i in range(30)
        )
        only = [tag_filter("style", "electronic", VOCABULARY)]

        playlist = await playlist_for(store, 1, 99, 20, seed=0, only=only)

        assert playlist.entries and all(entry.song.tags[0] >= 0.3 for entry in playlist.entries)
        assert len(playlist.entries) == 10  # every electronic song, nothing else
        assert (
            playlist.hint == "Only 10 song(s) in this server's pool match and are new to you, so the playlist is short."
        )
        with pytest.raises(NothingMatchesError, match="mood `chill`"):
            await playlist_for(store, 1, 99, 5, only=[tag_filter("mood", "chill", VOCABULARY)])


async def test_a_filtered_radio_plays_only_matching_songs_or_says_none_match(tmp_path) -> None:
    async with SQLiteStore(tmp_path / "pool.db") as store:
        rng = np.random.default_rng(1)
        await store.add_songs(
            NewSong(
                guild_id=1,
                title=f"s{i}",
                content_hash=f"{i:064x}",
                probabilities=rng.dirichlet(np.ones(10)),
                embedding=rng.normal(size=DIM),
                tags=[0.9 if i % 3 == 0 else 0.0, 0.0],
            )
            for i in range(30)
        )
        only = [tag_filter("style", "electronic", VOCABULARY)]
        electronic = {song_id for song_id in range(1, 31) if (song_id - 1) % 3 == 0}

        together = await group_playlist_for(store, 1, [98, 99], 20, seed=0, only=only)
        rest = await group_playlist_for(store, 1, [98], 20, seed=0, only=only, exclude=sorted(electronic)[:7])

        assert {entry.song.id for entry in together.entries} == electronic  # all ten, nothing else
        assert {entry.song.id for entry in rest.entries} == set(sorted(electronic)[7:])
        with pytest.raises(NothingMatchesError, match="mood `chill`"):
            await group_playlist_for(store, 1, [99], 5, only=[tag_filter("mood", "chill", VOCABULARY)])
