"""Teaching genres costs one label's fit, in a pool of its own, within a cap of labels per server:
one server's teaching never delays another's classification (issue 23)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.errors import TooManyLabelsError
from bot.services import AudioInput, Caller
from recommender import taught
from tests.support.bot_fixtures import GUILD_ID, USER_ID, wav_bytes

OTHER_GUILD_ID = GUILD_ID + 1


async def share(services, guild_id: int, count: int) -> list[int]:
    caller = Caller(guild_id, USER_ID)
    return [
        (await services.classify(caller, AudioInput(wav_bytes(200 + 37 * n), f"song {n}"))).song.id
        for n in range(count)
    ]


async def teach(services, song_ids, label: str) -> None:
    for song_id in song_ids:
        await services.teaching.teach(GUILD_ID, USER_ID, song_id, label, is_admin=True)


async def test_a_teach_fits_only_the_label_it_changed(make_services, monkeypatch) -> None:
    services = await make_services()
    songs = await share(services, GUILD_ID, 12)
    await teach(services, songs[:5], "synthwave")
    await teach(services, songs[5:10], "lo-fi")
    fitted: list[list[str]] = []
    real_fit = taught.fit
    monkeypatch.setattr(
        taught,
        "fit",
        lambda ids, embeddings, examples: fitted.append(sorted(examples)) or real_fit(ids, embeddings, examples),
    )

    await teach(services, songs[10:11], "lo-fi")
    await services.teaching.forget(GUILD_ID, "synthwave", is_admin=True)

    assert fitted == [["lo-fi"], []]  # one label refitted, then one dropped: never every label
    labels = await services.teaching.labels(GUILD_ID)
    assert [(quality.label, quality.examples, quality.trained) for quality in labels] == [("lo-fi", 6, True)]


async def test_a_server_teaching_does_not_delay_another_servers_classification(make_services, monkeypatch) -> None:
    services = await make_services(workers=1)
    songs = await share(services, GUILD_ID, 3)
    held, entered = threading.Event(), threading.Event()
    real_refit = taught.refit

    def slow_refit(*args):
        entered.set()
        held.wait(10)
        return real_refit(*args)

    monkeypatch.setattr(taught, "refit", slow_refit)
    teaching = asyncio.create_task(teach(services, songs[:1], "synthwave"))
    await asyncio.to_thread(entered.wait, 10)

    other = await asyncio.wait_for(share(services, OTHER_GUILD_ID, 1), 10)  # while the teach still fits

    assert other and not teaching.done()
    held.set()
    await teaching


async def test_a_server_teaches_at_most_its_cap_of_labels(make_services) -> None:
    services = await make_services(max_taught_labels=2)
    songs = await share(services, GUILD_ID, 3)
    await teach(services, songs[:1], "synthwave")
    await teach(services, songs[1:2], "lo-fi")

    with pytest.raises(TooManyLabelsError, match="already teaches 2 genres"):
        await teach(services, songs[2:3], "vaporwave")
    await teach(services, songs[2:3], "lo-fi")  # a label it has still takes examples

    assert await services.store.taught_examples(GUILD_ID) == {"lo-fi": (songs[1], songs[2]), "synthwave": (songs[0],)}
