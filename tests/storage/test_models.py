"""Every analysis names its model (issue 19): a store serving one model tells the others' analyses apart,
never hands out their sound, lists them for re-analysis and replaces them in every server at once."""

from __future__ import annotations

import numpy as np
import pytest

from genre_engine.labels import GENRES
from storage import Analysis, ModelCounts, ServingModel, store_for
from storage.errors import IncompatibleEmbeddingError
from tests.support.stores import DIM, GUILD, OTHER_GUILD, make_song, one_hot

SERVING = ServingModel("serving", tuple(GENRES), DIM)
OLD = "old-model"  # the same ten genres, another network
FOREIGN = "four-genres"  # other labels: its genre vectors mean something else


def analysis(number: int, model_id: str = SERVING.id, dim: int = DIM) -> Analysis:
    rng = np.random.default_rng(1000 + number)
    return Analysis(model_id, one_hot(number % 10), rng.normal(size=dim).astype(np.float32), duration_s=181.0)


@pytest.fixture
async def stores(database: str):
    """The same database opened first as a bot on the old model would, then with the serving model."""
    async with store_for(database, model=ServingModel(OLD, tuple(GENRES), 5)) as old:
        await old.add_songs([make_song(number, dim=5, model_id=OLD) for number in range(3)])
        await old.add_song(make_song(3, dim=5))  # analysed before analyses named their model
    async with store_for(database, model=ServingModel(FOREIGN, ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), 4)):
        pass  # another label set was served once
    async with store_for(database, model=SERVING) as store:
        yield store


async def test_another_models_songs_count_by_genre_but_never_by_sound(stores) -> None:
    store = stores
    added = (await store.add_song(make_song(10, model_id=SERVING.id))).song
    matrix = await store.pool_matrix(GUILD)
    assert len(matrix) == 5 and matrix.embeddings.shape == (5, DIM)
    assert matrix.current.tolist() == [False, False, False, False, True]
    assert not matrix.embeddings[:4].any() and np.allclose(np.linalg.norm(matrix.embeddings[4]), 1.0)
    assert matrix.ids[-1] == added.id and matrix.sounding().sum() == 1


async def test_a_model_with_other_labels_is_left_out_of_the_pool(database: str) -> None:
    foreign = ServingModel(FOREIGN, tuple("abcdefghij"), DIM)
    async with store_for(database, model=foreign) as store:
        await store.add_song(make_song(1, model_id=FOREIGN))
    async with store_for(database, model=SERVING) as store:
        await store.add_song(make_song(2, model_id=SERVING.id))
        matrix = await store.pool_matrix(GUILD)
    assert len(matrix) == 1 and matrix.current.tolist() == [True]


async def test_embedding_sizes_agree_within_a_model_not_across_models(stores) -> None:
    store = stores
    await store.add_song(make_song(10, model_id=SERVING.id))  # DIM values beside the old model's 5
    with pytest.raises(IncompatibleEmbeddingError):
        await store.add_song(make_song(11, dim=DIM + 1, model_id=SERVING.id))


async def test_songs_of_other_models_are_listed_for_re_analysis_in_id_order(stores) -> None:
    store = stores
    await store.add_song(make_song(20, guild_id=OTHER_GUILD, dim=5, model_id=OLD))
    await store.add_song(make_song(21, model_id=SERVING.id))
    listed = await store.other_model_songs()
    assert [song.title for song in listed] == ["Song 0", "Song 1", "Song 2", "Song 3", "Song 20"]
    assert [song.model_id for song in listed] == [OLD, OLD, OLD, None, OLD]
    assert [s.title for s in await store.other_model_songs(guild_id=OTHER_GUILD)] == ["Song 20"]
    assert [s.title for s in await store.other_model_songs(after_id=listed[1].id, limit=2)] == ["Song 2", "Song 3"]
    await store.set_audio_missing(GUILD, listed[0].id, True)
    assert listed[0].id not in [song.id for song in await store.other_model_songs()]
    assert await store.model_counts() == ModelCounts(current=1, other_model=4, unavailable=1)
    assert await store.model_counts(guild_id=OTHER_GUILD) == ModelCounts(current=0, other_model=1, unavailable=0)


async def test_a_new_analysis_replaces_the_old_one_of_that_audio_in_every_server(stores) -> None:
    store = stores
    first = (await store.other_model_songs())[0]
    there = (await store.add_song(make_song(0, guild_id=OTHER_GUILD, dim=5, model_id=OLD))).song  # same audio
    await store.pool_matrix(GUILD)  # cached before the change

    replaced = await store.replace_analysis(first.content_hash, analysis(0))

    assert sorted(song.id for song in replaced) == sorted([first.id, there.id])
    assert {song.model_id for song in replaced} == {SERVING.id} and all(s.duration_s == 181.0 for s in replaced)
    again = await store.get_song(GUILD, first.id)
    assert again.embedding.shape == (DIM,) and again.title == first.title and again.added_by == first.added_by
    matrix = await store.pool_matrix(GUILD)
    assert matrix.current[matrix.rows_of([first.id])].tolist() == [True]
    assert await store.replace_analysis(first.content_hash, analysis(0)) == []  # nothing left to replace
    assert first.id not in [song.id for song in await store.other_model_songs()]


async def test_without_a_serving_model_every_analysis_counts_as_current(database: str) -> None:
    async with store_for(database) as store:
        await store.add_song(make_song(1, model_id=OLD))
        await store.add_song(make_song(2))
        matrix = await store.pool_matrix(GUILD)
        assert matrix.current is None and await store.other_model_songs() == []
        assert await store.model_counts() == ModelCounts(current=2, other_model=0, unavailable=0)
