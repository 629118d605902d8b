"""/classify through the real command tree: option parsing, deferral, follow-ups, and every refusal."""

from __future__ import annotations

import asyncio
import threading

import pytest

from genre_engine.errors import NotAudioError
from storage import EventKind
from tests.support.bot_fixtures import GUILD_ID, OTHER_USER_ID, USER_ID, wav_bytes

DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: the "genrebot is thinking…" placeholder
MESSAGE = 4  # CHANNEL_MESSAGE_WITH_SOURCE


async def test_attachment_is_classified_recorded_and_pooled(make_bot):
    harness = await make_bot()
    upload = harness.upload("My Song.wav", wav_bytes())

    defer, followup = await harness.command("classify", file=upload)

    assert defer.path.endswith("/callback") and defer.response_type == DEFERRED and not defer.ephemeral
    assert harness.rest == [harness.rest[0]] and harness.rest[0].path == upload["url"]  # downloaded after deferring
    assert followup.method == "POST" and not followup.ephemeral
    assert "My Song" in followup.text and "Sounds like **" in followup.text and "0:03" in followup.text
    assert followup.files == ["genres.png"]
    assert followup.message["embeds"][0]["image"]["url"] == "attachment://genres.png"
    assert followup.custom_ids() == ["genrebot:history:1", "genrebot:similar:1"]
    song = await harness.services.store.get_song(GUILD_ID, 1)
    assert song.in_pool and song.added_by == USER_ID and song.title == "My Song"
    assert song.message_url.startswith(f"https://discord.com/channels/{GUILD_ID}/")
    (event,) = await harness.services.store.listen_events(GUILD_ID, USER_ID)
    assert event.kind is EventKind.SHARED


async def test_same_audio_twice_reuses_the_song(make_bot):
    harness = await make_bot()
    data = wav_bytes()
    await harness.command("classify", file=harness.upload("a.wav", data))

    _, followup = await harness.command("classify", file=harness.upload("copy.wav", data), user_id=OTHER_USER_ID)

    assert "Seen before" in followup.text
    assert harness.services.engine.calls == 1
    assert await harness.services.store.pool_size(GUILD_ID) == 1


@pytest.mark.parametrize("options", [{}, {"url": "https://example.com/a.mp3", "file": "upload"}])
async def test_needs_exactly_one_source(make_bot, options):
    harness = await make_bot()
    if "file" in options:
        options["file"] = harness.upload("a.wav", wav_bytes())

    (reply,) = await harness.command("classify", **options)

    assert reply.response_type == MESSAGE and reply.ephemeral
    assert "just one of the two" in reply.text


async def test_an_upload_too_large_is_refused_before_download(make_bot):
    harness = await make_bot()
    upload = harness.upload("huge.wav", b"x")
    upload["size"] = 30 * 2**20

    (reply,) = await harness.command("classify", file=upload)

    assert reply.response_type == MESSAGE and reply.ephemeral and "I accept up to 25 MiB" in reply.text
    assert harness.rest == []  # nothing downloaded


async def test_engine_error_after_deferral_is_ephemeral_and_stores_nothing(make_bot):
    harness = await make_bot()

    defer, delete, followup = await harness.command("classify", file=harness.upload("fake.mp3", b"<html>no</html>"))

    assert defer.response_type == DEFERRED
    assert delete.method == "DELETE" and delete.path.endswith("/messages/@original")  # no dead "thinking…"
    assert followup.ephemeral and followup.text == str(NotAudioError())  # judged by content, after the download
    assert await harness.services.store.pool_size(GUILD_ID) == 0


async def test_link_is_fetched_with_yt_dlp(make_bot, audio_server):
    harness = await make_bot()
    url = audio_server.file("/songs/Linked Song.wav", wav_bytes(550))

    defer, followup = await harness.command("classify", url=url)

    assert defer.response_type == DEFERRED and "Linked Song" in followup.text
    song = await harness.services.store.get_song(GUILD_ID, 1)
    assert song.source_url == url


async def test_internal_link_refused(make_bot, audio_server):
    harness = await make_bot(allowed_internal_networks=())
    url = audio_server.file("/a.wav", wav_bytes())

    *_, followup = await harness.command("classify", url=url)

    assert followup.ephemeral and "private or internal network" in followup.text
    assert audio_server.requests == []


async def test_busy_when_the_worker_pool_is_full(make_bot):
    harness = await make_bot(workers=1, queue_size=0)  # no line at all
    engine = harness.services.engine
    engine.gate = threading.Event()
    first = asyncio.create_task(harness.command("classify", file=harness.upload("a.wav", wav_bytes(300))))
    await asyncio.to_thread(engine.started.acquire, timeout=5)  # the only worker is now taken

    *_, busy = await harness.command("classify", file=harness.upload("b.wav", wav_bytes(400)), user_id=OTHER_USER_ID)
    engine.gate.set()
    done = (await first)[-1]

    assert busy.ephemeral and "busy" in busy.text
    assert not done.ephemeral and done.message["embeds"][0]["title"] == "a"
    assert await harness.services.store.pool_size(GUILD_ID) == 1


async def test_per_user_cooldown(make_bot):
    harness = await make_bot(cooldown_s=60)
    await harness.command("classify", file=harness.upload("a.wav", wav_bytes(300)))

    (again,) = await harness.command("classify", file=harness.upload("b.wav", wav_bytes(400)))
    _, other = await harness.command("classify", file=harness.upload("c.wav", wav_bytes(500)), user_id=OTHER_USER_ID)

    assert again.response_type == MESSAGE and again.ephemeral and "again in 60 s" in again.text
    assert not other.ephemeral  # cooldowns are per user


async def test_too_long_track_refused(make_bot):
    harness = await make_bot(max_duration_s=2)

    *_, followup = await harness.command("classify", file=harness.upload("long.wav", wav_bytes(seconds=3)))

    assert followup.ephemeral and "0:03 long; I classify tracks up to 0:02" in followup.text
    assert await harness.services.store.pool_size(GUILD_ID) == 0


async def test_in_a_dm_it_asks_for_a_server(make_bot):
    harness = await make_bot()

    (reply,) = await harness.command("classify", guild_id=None, file=harness.upload("a.wav", wav_bytes()))

    assert reply.ephemeral and "inside a server" in reply.text
