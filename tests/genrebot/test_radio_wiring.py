"""The radio wired into the product: what sharing and indexing keep for it, evicted links fetched
again through the guarded downloader, and ``python -m bot radio`` over the services' media store."""

from __future__ import annotations

import asyncio
import json

import soundfile as sf

from bot.config import GiB
from bot.services import AudioInput, Caller
from genrebot.cli import parse, run
from tests.conftest import tone
from tests.support.bot_fixtures import GUILD_ID, USER_ID, wav_bytes

ME = Caller(GUILD_ID, USER_ID)


async def stored_copy(services, content_hash: str) -> bytes | None:
    handle = await asyncio.to_thread(services.media.open, content_hash)
    if handle is None:
        return None
    with handle:
        return handle.read()


async def test_shared_audio_is_kept_and_sharing_it_again_makes_it_playable_again(make_services):
    services = await make_services()
    data = wav_bytes(440)

    song = (await services.classify(ME, AudioInput(data, "a song"))).song
    assert await stored_copy(services, song.content_hash) == data

    (services.media.folder / "copies" / song.content_hash).unlink()  # evicted...
    await services.store.set_audio_missing(GUILD_ID, song.id, True)  # ...and found missing by the radio
    again = await services.classify(ME, AudioInput(data, "a song"))

    assert not again.new and not again.song.audio_missing
    assert await stored_copy(services, song.content_hash) == data


async def test_a_link_whose_copy_was_evicted_is_fetched_again_through_the_guarded_downloader(
    make_services, audio_server
):
    first, second = wav_bytes(330), wav_bytes(550)
    services = await make_services(media_cap_gb=(len(first) + len(second) // 2) / GiB)  # room for one copy
    url = audio_server.file("/first.wav", first)
    linked = (await services.classify(ME, await services.fetch_link(url))).song
    await services.classify(ME, AudioInput(second, "second"))
    assert await stored_copy(services, linked.content_hash) is None  # evicted by the second song
    one_fetch = list(audio_server.requests)
    audio_server.requests.clear()

    session = services.radio(GUILD_ID)
    await session.join(USER_ID)
    played = [await session.next_track() for _ in range(2)]
    for track in played:
        track.track.close()

    assert linked.id in [track.song.id for track in played]
    assert audio_server.requests == one_fetch  # fetched once more, the same guarded way
    assert await stored_copy(services, linked.content_hash) == first


async def test_python_m_bot_radio_plays_indexed_songs_from_their_files(tmp_path, tiny_checkpoint, capsys):
    music = tmp_path / "music"
    music.mkdir()
    for index, freq in enumerate((220, 440, 660)):
        sf.write(music / f"tone {index}.wav", 0.3 * tone(freq, seconds=2), 22050)
    common = [
        "--db",
        str(tmp_path / "db.sqlite"),
        "--checkpoint",
        str(tiny_checkpoint),
        "--media",
        str(tmp_path / "media"),
    ]
    out = tmp_path / "mix.ogg"

    assert await run(parse([*common, "index", "--guild", "1", str(music)], env={})) == 0
    capsys.readouterr()
    assert await run(parse([*common, "radio", "--songs", "2", "--out", str(out), "--json"], env={})) == 0

    listing = json.loads(capsys.readouterr().out)
    assert len(listing["songs"]) == 2 and listing["duration_s"] > 3.5 and out.stat().st_size > 0
    assert not list((tmp_path / "media" / "copies").iterdir())  # played from the folder, not copied
