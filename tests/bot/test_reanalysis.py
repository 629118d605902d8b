"""Switching models (issue 19): songs another model analysed are analysed again from the audio the bot
keeps, never compared by sound meanwhile, and counted and listed when their audio is nowhere."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from bot import texts
from bot.errors import NothingToMapError
from bot.services import AudioInput, Caller
from recommender.errors import NotAnalysedYetError
from storage import ModelCounts
from tests.support.bot_fixtures import GUILD_ID, USER_ID, wav_bytes
from tests.support.fake_engine import FakeEngine

ME = Caller(GUILD_ID, USER_ID)
NEW = "new-weights"


@pytest.fixture
async def switched(make_services, tmp_path):
    """Three songs shared with the first model, then the same database and media store served by another."""
    first = await make_services(db=tmp_path / "bot.db", media=tmp_path / "media")
    songs = [(await first.classify(ME, AudioInput(wav_bytes(freq), f"song {freq}"))).song for freq in (220, 440, 660)]
    await first.close()
    services = await make_services(engine=FakeEngine(model_id=NEW), db=tmp_path / "bot.db", media=tmp_path / "media")
    return services, songs


async def test_songs_of_the_old_model_are_analysed_again_from_their_kept_audio(switched) -> None:
    services, songs = switched
    assert await services.store.model_counts() == ModelCounts(current=0, other_model=3, unavailable=0)
    seen: list[tuple[int, int]] = []

    report = await services.reanalysis.run(on_song=lambda done, total: seen.append((done, total)))

    assert report.as_json() == {"model": NEW, "songs": 3, "reanalysed": 3, "current": 3, "unavailable": 0}
    assert seen == [(1, 3), (2, 3), (3, 3)]
    for old in songs:
        again = await services.store.get_song(GUILD_ID, old.id)
        fresh = services.engine.classify(wav_bytes({0: 220, 1: 440, 2: 660}[songs.index(old)]))
        assert again.model_id == NEW and np.allclose(again.probabilities, fresh.vector)
        assert np.allclose(again.embedding, fresh.embedding) and not np.allclose(again.embedding, old.embedding)
        assert (again.title, again.added_by, again.added_at) == (old.title, old.added_by, old.added_at)
    assert (await services.reanalysis.run()).reanalysed == 0  # nothing left: a second run does nothing


async def test_more_like_this_never_compares_the_sound_of_two_models(switched) -> None:
    services, songs = switched
    await services.reanalysis._analyse(songs[0])  # one song analysed by the new model, two not yet

    with pytest.raises(NotAnalysedYetError) as caught:
        await services.similar(GUILD_ID, songs[1].id)
    assert str(caught.value).startswith(f"Song #{songs[1].id} is waiting to be analysed again")
    assert await services.similar(GUILD_ID, songs[0].id) == []  # the other two are not comparable yet
    matrix = await services.store.pool_matrix(GUILD_ID)
    assert matrix.current.tolist() == [True, False, False] and not matrix.embeddings[1:].any()


async def test_journeys_the_map_and_starter_songs_place_only_the_serving_models_songs(switched) -> None:
    services, songs = switched
    with pytest.raises(NothingToMapError) as caught:
        await services.pool_map(ME)
    assert caught.value.waiting == 3 and "All 3 song(s)" in str(caught.value)
    assert await services.starter_songs(GUILD_ID) == []
    for song in songs[:2]:
        await services.reanalysis._analyse(song)

    with pytest.raises(NotAnalysedYetError):
        await services.journey(ME, songs[0].id, songs[2].id, 3)
    journey = await services.journey(ME, songs[0].id, songs[1].id, 3)
    assert [song.id for song in journey.songs] == [songs[0].id, songs[1].id]  # never through the third
    assert (await services.pool_map(ME)).songs == 2
    assert sorted(song.id for song in await services.starter_songs(GUILD_ID)) == [songs[0].id, songs[1].id]


async def test_a_song_whose_audio_is_nowhere_is_counted_listed_and_analysed_when_shared_again(switched) -> None:
    services, songs = switched
    lost = songs[1]
    (services.media.folder / "copies" / lost.content_hash).unlink()

    report = await services.reanalysis.run()

    assert (report.reanalysed, report.current, report.unavailable) == (2, 2, 1)
    assert [song.id for song in await services.store.other_model_songs(missing=True)] == [lost.id]
    state = await services.model_state(GUILD_ID)
    assert state.counts == ModelCounts(current=2, other_model=0, unavailable=1)
    again = await services.classify(ME, AudioInput(wav_bytes(440), "song 440"))  # shared again
    assert not again.new and again.song.id == lost.id and again.song.model_id == NEW
    assert not again.song.audio_missing and await services.store.model_counts() == ModelCounts(3, 0, 0)


async def test_a_link_song_is_fetched_again_and_kept_only_if_its_audio_is_the_same(
    make_services, tmp_path, audio_server
):
    first = await make_services(db=tmp_path / "bot.db", media=tmp_path / "media")
    same = audio_server.file("/same.wav", wav_bytes(330))
    changed = audio_server.file("/changed.wav", wav_bytes(550))
    kept = (await first.classify(ME, await first.fetch_link(same))).song
    moved = (await first.classify(ME, await first.fetch_link(changed))).song
    await first.close()
    for song in (kept, moved):
        (tmp_path / "media" / "copies" / song.content_hash).unlink()  # evicted
    audio_server.file("/changed.wav", wav_bytes(990))  # the site now serves other audio
    services = await make_services(engine=FakeEngine(model_id=NEW), db=tmp_path / "bot.db", media=tmp_path / "media")

    report = await services.reanalysis.run()

    assert (report.reanalysed, report.unavailable) == (1, 1)
    assert (await services.store.get_song(GUILD_ID, kept.id)).model_id == NEW
    assert (await services.store.get_song(GUILD_ID, moved.id)).audio_missing


async def test_taught_genres_are_fitted_again_on_the_new_embeddings(make_services, tmp_path) -> None:
    first = await make_services(db=tmp_path / "bot.db", media=tmp_path / "media")
    ids = [(await first.classify(ME, AudioInput(wav_bytes(100 + 37 * n), f"s{n}"))).song.id for n in range(12)]
    for song_id in ids[:6]:
        await first.teaching.teach(GUILD_ID, USER_ID, song_id, "lo-fi", is_admin=True)
    await first.close()
    services = await make_services(engine=FakeEngine(model_id=NEW), db=tmp_path / "bot.db", media=tmp_path / "media")
    assert await services.teaching.classifier(GUILD_ID) is None  # fitted on the old model's embeddings

    await services.reanalysis.run()

    stored = await services.store.taught_model(GUILD_ID)
    assert stored.model_id == NEW and (await services.teaching.classifier(GUILD_ID)).labels == ("lo-fi",)


async def test_the_bot_answers_while_it_re_analyses_and_admins_see_how_far_it_is(switched) -> None:
    services, _ = switched
    services.engine.gate = threading.Event()  # holds the re-analysis' first song
    assert await services.reanalyse_in_background()
    while not services.reanalysis.progress.running:
        await asyncio.sleep(0.01)
    playlist = await services.playlist(ME, 3)  # answered meanwhile, by genre
    assert len(playlist.entries) <= 3
    state = await services.model_state(GUILD_ID)
    assert state.counts.other_model == 3 and state.progress.running
    assert texts.reanalysis_line(state) == (
        f"Model {NEW}: 0 song(s) here analysed by it, 3 to go (re-analysing: 0 of 3 done in all)."
    )
    services.engine.gate.set()
    await services.reanalysis._task
    assert texts.reanalysis_line(await services.model_state(GUILD_ID)) is None
