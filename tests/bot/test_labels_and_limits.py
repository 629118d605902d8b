"""Facts the bot takes from one place: the model's labels, the recommender's limits, storage's
title cap; and the fake engine checked against the Protocol the services depend on."""

from __future__ import annotations

import re

import pytest

from bot.classifier import Classifier
from bot.config import Config, load_config
from bot.services import AudioInput, Caller, Services
from genre_engine import GenreEngine
from recommender.config import RecommenderConfig
from recommender.errors import InvalidCountError
from storage import open_store
from storage.validation import MAX_TITLE_CHARS
from tests.support.bot_fixtures import (
    GUILD_ID,
    OTHER_USER_ID,
    USER_ID,
    FakeEngine,
    wav_bytes,
)

FOUR = ("chiptune", "drone", "polka", "zydeco")


def test_the_fake_and_the_real_engine_are_classifiers(tiny_checkpoint):
    assert isinstance(FakeEngine(), Classifier)
    assert isinstance(GenreEngine.from_checkpoint(tiny_checkpoint), Classifier)
    assert not isinstance(object(), Classifier)


async def test_a_model_with_four_labels_works_end_to_end(make_bot):
    harness = await make_bot(engine=FakeEngine(FOUR))
    for freq in (220, 330, 440, 550):
        await harness.command(
            "classify", user_id=OTHER_USER_ID, file=harness.upload(f"song {freq}.wav", wav_bytes(freq))
        )
    _, classified = await harness.command("classify", file=harness.upload("mine.wav", wav_bytes(660)))
    _, playlist = await harness.command("playlist", count=3)
    _, stats = await harness.command("pool", subcommand="stats")

    assert harness.services.store.genre_count == 4
    assert re.search(r"Sounds like \*\*(chiptune|drone|polka|zydeco)\*\*", classified.text)
    reasons = [line for line in playlist.message["embeds"][0]["description"].splitlines() if " — " in line]
    assert len(reasons) == 3 and all(any(f"% {label}" in line for label in FOUR) for line in reasons)
    shown = re.findall(r"\d+% (\w+)|(\w+) \d+%", playlist.text + stats.text)  # "70% polka", "polka 58%"
    assert shown and {first or second for first, second in shown} <= set(FOUR)
    assert stats.files == ["genres.png"]


async def test_services_refuse_a_store_for_another_label_count(tmp_path):
    store = await open_store(tmp_path / "ten.db")
    try:
        with pytest.raises(ValueError, match="10 genres per song, the model has 4 labels"):
            Services(Config(db=tmp_path / "ten.db"), FakeEngine(FOUR), store)
    finally:
        await store.close()


def test_the_playlist_cap_is_read_into_the_recommender_config():
    assert load_config(["--max-playlist", "30"], env={}).recommender.max_playlist == 30
    assert load_config([], env={"GENREBOT_MAX_PLAYLIST": "12"}).recommender.max_playlist == 12
    assert load_config([], env={}).recommender == RecommenderConfig()
    with pytest.raises(SystemExit):
        load_config(["--max-playlist", "0"], env={})


async def test_the_services_cap_playlists_by_the_recommender_config(make_services):
    services = await make_services(max_playlist=3)

    with pytest.raises(InvalidCountError) as refused:
        await services.playlist(Caller(GUILD_ID, USER_ID), 4)

    assert refused.value.limit == 3
    assert len(await services.playlist(Caller(GUILD_ID, USER_ID), 3)) == 0  # empty pool, within the cap


async def test_long_titles_are_cut_to_the_stores_cap(make_services):
    services = await make_services()

    result = await services.classify(Caller(GUILD_ID, USER_ID), AudioInput(wav_bytes(), "x" * 1000))

    assert result.song.title == "x" * MAX_TITLE_CHARS


async def test_the_radio_plans_with_the_models_labels_and_the_recommender_config(make_services):
    services = await make_services(engine=FakeEngine(FOUR), max_playlist=3)
    me = Caller(GUILD_ID, USER_ID)
    for freq in (220, 330, 440):
        await services.classify(Caller(GUILD_ID, OTHER_USER_ID), AudioInput(wav_bytes(freq), f"song {freq}"))

    with pytest.raises(InvalidCountError) as refused:
        await services.radio_plan(me, 4)
    plan = await services.radio_plan(me, 3)
    session = services.radio(GUILD_ID)
    await session.join(USER_ID)

    assert refused.value.limit == 3
    reasons = [entry.reason for entry in [*plan.entries, *await session.queue(3)]]
    assert reasons and all(any(label in reason for label in FOUR) for reason in reasons)
