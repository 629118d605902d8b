"""The radio's Discord side, driven through the real discord.py client (tests/support/discord_harness.py).

Voice cannot reach Discord from the test machines, so ``VoiceChannel.connect`` returns a fake voice
client: discord.py's own ``AudioPlayer`` runs on it in real time (20 ms a packet) and it records the
packets the player would send. The server (channels, members, who is in which voice channel,
permissions) is a guild payload as the gateway sends it, and members move through VOICE_STATE_UPDATE
payloads parsed by the library.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.player import AudioPlayer

from bot.services import Services
from cogs.radio import LEFT_EMPTY, LOST_CONNECTION, RECONNECT_GRACE_S, RadioCog
from genre_engine.engine import content_hash
from recommender.genres import GENRES
from storage import EventKind, NewSong
from storage.errors import StoreClosedError
from tests.support.bot_fixtures import (
    ELECTRONIC_CHILL,
    GUILD_ID,
    MANAGE_GUILD,
    METAL_80S,
    OTHER_USER_ID,
    TEST_VOCABULARY,
    USER_ID,
    FakeEngine,
)
from tests.support.discord_harness import (
    APPLICATION_ID,
    CHANNEL_ID,
    Recorder,
    settle,
    snowflake,
    user_payload,
)
from tests.support.radio_audio import embedding_for, genre_vector, noise_song

ANN, BEN, CAT = USER_ID, OTHER_USER_ID, 700_000_000_000_000_004
OTHER_BOT = 700_000_000_000_000_005
LOUNGE, CORNER, STAGE, TINY, LOCKED = (800_000_000_000_000_000 + n for n in range(1, 6))
VIEW, SEND, CONNECT, SPEAK = 1 << 10, 1 << 11, 1 << 20, 1 << 21
JAZZ, METAL = GENRES.index("jazz"), GENRES.index("metal")


# -- a server as the gateway describes it ----------------------------------------------------------


def member_payload(user_id: int, *, bot: bool = False) -> dict[str, Any]:
    return {
        "user": {**user_payload(user_id, f"user{user_id % 1000}"), "bot": bot},
        "roles": [],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def voice_state(user_id: int, channel_id: int | None) -> dict[str, Any]:
    return {
        "guild_id": str(GUILD_ID),
        "user_id": str(user_id),
        "channel_id": None if channel_id is None else str(channel_id),
        "session_id": "session",
        "deaf": False,
        "mute": False,
        "self_deaf": False,
        "self_mute": False,
        "self_video": False,
        "suppress": False,
    }


def voice_channel(channel_id: int, name: str, *, kind: int = 2, user_limit: int = 0, deny: int = 0) -> dict[str, Any]:
    overwrites = [{"id": str(GUILD_ID), "type": 0, "allow": "0", "deny": str(deny)}] if deny else []
    return {
        "id": str(channel_id),
        "type": kind,
        "name": name,
        "position": 0,
        "guild_id": str(GUILD_ID),
        "permission_overwrites": overwrites,
        "bitrate": 64000,
        "user_limit": user_limit,
        "rtc_region": None,
        "nsfw": False,
        "parent_id": None,
    }


def add_guild(bot: discord.Client, rooms: dict[int, int | None]) -> discord.Guild:
    """The test server, with the bot and the members of ``rooms`` (user id -> voice channel id)."""
    everyone = {
        "id": str(GUILD_ID),
        "name": "@everyone",
        "permissions": str(VIEW | SEND | CONNECT | SPEAK),
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
    }
    users = {ANN, BEN, CAT, OTHER_BOT, *rooms}
    payload = {
        "id": str(GUILD_ID),
        "name": "server",
        "owner_id": str(999),
        "roles": [everyone],
        "channels": [
            {
                "id": str(CHANNEL_ID),
                "type": 0,
                "name": "music",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "guild_id": str(GUILD_ID),
            },
            voice_channel(LOUNGE, "lounge"),
            voice_channel(CORNER, "corner"),
            voice_channel(STAGE, "stage", kind=13),
            voice_channel(TINY, "tiny", user_limit=1),
            voice_channel(LOCKED, "locked", deny=CONNECT | SPEAK),
        ],
        "members": [member_payload(APPLICATION_ID, bot=True)]
        + [member_payload(user, bot=user == OTHER_BOT) for user in sorted(users)],
        "voice_states": [voice_state(user, room) for user, room in rooms.items() if room is not None],
        "member_count": len(users) + 1,
    }
    state = bot._connection
    guild = discord.Guild(data=payload, state=state)
    state._add_guild(guild)
    return guild


async def move(bot: discord.Client, user_id: int, channel_id: int | None) -> None:
    """A member joins, leaves or changes voice channel (VOICE_STATE_UPDATE), handled to the end."""
    earlier = asyncio.all_tasks()
    bot._connection.parse_voice_state_update(
        {**voice_state(user_id, channel_id), "member": member_payload(user_id, bot=user_id == OTHER_BOT)}
    )
    await settle(earlier)


class FakeVoice:
    """What the radio and discord.py's AudioPlayer use of a VoiceClient; records sent packets."""

    def __init__(self, channel: discord.VoiceChannel) -> None:
        self.channel = channel
        self.guild = channel.guild
        self.client = self  # AudioPlayer reaches the loop as client.client.loop...
        self.ws = self  # ...and announces speaking through client.ws.speak()
        self.loop = asyncio.get_running_loop()
        self.timeout = 1.0
        self.sent: list[bytes] = []
        self.connected = True
        self.disconnected = False
        self.player: AudioPlayer | None = None

    async def speak(self, state) -> None:
        pass

    def is_connected(self) -> bool:
        return self.connected

    def wait_until_connected(self, timeout: float) -> bool:
        return self.connected

    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None:
        assert encode is False  # the radio's source is already Opus
        self.sent.append(data)

    def play(self, source: discord.AudioSource, *, after: Callable | None = None) -> None:
        self.player = AudioPlayer(source, self, after=after)
        self.player.start()

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()

    async def disconnect(self, *, force: bool = False) -> None:
        self.stop()
        self.connected = False
        self.disconnected = True


async def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
            await asyncio.sleep(0.02)


async def fill_pool(
    services: Services,
    tmp_path: Path,
    genres: list[int],
    seconds: float,
    tags: list[list[float]] | None = None,
    title: str = "",
) -> list[int]:
    """Songs of synthesised audio, kept in the media store as if shared by upload (``tags``: each
    song's, in the order of the tagger's vocabulary; ``title``: before each song's genre and number)."""
    ids = []
    for index, genre in enumerate(genres):
        path = noise_song(tmp_path / f"song {index}.wav", seconds, -18.0 - index, seed=index)
        digest = content_hash(path)
        await asyncio.to_thread(services.media.put, digest, path.read_bytes())
        added = await services.store.add_song(
            NewSong(
                guild_id=GUILD_ID,
                title=f"{title}{GENRES[genre]} {index}",
                content_hash=digest,
                probabilities=genre_vector(genre),
                embedding=embedding_for(genre, index),
                duration_s=seconds,
                tags=None if tags is None else tags[index],
                model_id=services.engine.model_id,
            )
        )
        ids.append(added.song.id)
    return ids


@pytest.fixture
async def radio_bot(make_bot, monkeypatch):
    """A bot whose voice connections are FakeVoice clients (``voices``), in the test server."""
    voices: list[FakeVoice] = []

    async def connect(channel: discord.VoiceChannel, **options) -> FakeVoice:
        voices.append(FakeVoice(channel))
        return voices[-1]

    monkeypatch.setattr(discord.VoiceChannel, "connect", connect)

    async def make(rooms: dict[int, int | None], **overrides):
        harness = await make_bot(**overrides)
        answer = harness.bot.http.request

        async def request(route, **kwargs):  # answer channel messages like Discord (notes)
            await answer(route, **kwargs)
            if route.method == "POST" and route.path.endswith("/messages"):
                return Recorder._message(snowflake(), kwargs.get("json") or {})
            return None

        harness.bot.http.request = request
        add_guild(harness.bot, rooms)
        harness.voices = voices
        harness.cog = harness.bot.get_cog(RadioCog.__cog_name__)
        return harness

    return make


async def events(services: Services, user_id: int) -> list[tuple[EventKind, int]]:
    return [(event.kind, event.song_id) for event in await services.store.listen_events(GUILD_ID, user_id)]


async def has_event(services: Services, user_id: int, event: tuple[EventKind, int]) -> bool:
    return event in await events(services, user_id)


async def has_loudness(services: Services, song_id: int) -> bool:
    return (await services.store.get_song(GUILD_ID, song_id)).loudness_lufs is not None


def buttons_for(message: dict[str, Any], song_id: int) -> dict[str, Any]:
    """The /nowplaying message as it was when ``song_id`` played (its buttons carry the song id)."""
    other = copy.deepcopy(message)
    for row in other["components"]:
        for component in row["components"]:
            component["custom_id"] = f"{component['custom_id'].rsplit(':', 1)[0]}:{song_id}"
    return other


def notes(harness) -> list[str]:
    return [
        call.json["content"]
        for call in harness.rest
        if call.method == "POST" and call.path == f"/channels/{CHANNEL_ID}/messages"
    ]


async def planned_genres(harness) -> list[int]:
    radio = harness.cog.radios[GUILD_ID]
    return [int(entry.song.probabilities.argmax()) for entry in await radio.session.queue()]


# -- starting, and what is refused --------------------------------------------------------------


async def test_start_joins_the_callers_channel_and_plays_for_its_humans(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE, OTHER_BOT: LOUNGE, BEN: CORNER})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL, JAZZ], seconds=3.0)

    defer, followup = await harness.command("radio", subcommand="start")

    assert defer.response_type == 5 and not followup.ephemeral
    assert f"Radio on in <#{LOUNGE}> for 1 listener(s). First up: **" in followup.text
    (voice,) = harness.voices
    assert voice.channel.id == LOUNGE
    radio = harness.cog.radios[GUILD_ID]
    assert radio.session.listeners == {ANN}  # the other bot is no listener, BEN is elsewhere
    await eventually(lambda: len(voice.sent) >= 10)  # 20-ms Opus packets through AudioPlayer
    playing, upcoming = radio.current.song, radio.session.planned[0].song
    assert await eventually(lambda: has_loudness(harness.services, upcoming.id))
    assert radio.current.song.id == playing.id  # made ready while the first song still plays

    (again,) = await harness.command("radio", subcommand="start")
    assert again.ephemeral and f"already playing in <#{LOUNGE}>" in again.text
    (elsewhere,) = await harness.command("radio", subcommand="start", user_id=BEN)
    assert elsewhere.ephemeral and "already playing in **lounge**; a server has one radio" in elsewhere.text
    assert len(harness.voices) == 1


@pytest.mark.parametrize(
    ("room", "expected"),
    [
        (None, "Join a voice channel first"),
        (STAGE, "**stage** is a stage channel"),
        (LOCKED, "I'm missing the Connect and Speak permission there"),
        (TINY, "**tiny** is full (1 member(s) at most)"),
    ],
)
async def test_start_refusals_are_clear_and_ephemeral(radio_bot, tmp_path, room, expected):
    harness = await radio_bot({ANN: room})
    await fill_pool(harness.services, tmp_path, [JAZZ], seconds=1.0)

    (reply,) = await harness.command("radio", subcommand="start")

    assert reply.ephemeral and expected in reply.text
    assert harness.voices == [] and harness.cog.radios == {}


async def test_an_empty_pool_is_refused_before_joining(radio_bot):
    harness = await radio_bot({ANN: LOUNGE})

    calls = await harness.command("radio", subcommand="start")

    assert calls[-1].ephemeral and "pool is empty" in calls[-1].text
    assert harness.voices == [] and harness.cog.radios == {}
    (nothing,) = await harness.command("skip")
    assert nothing.ephemeral and "isn't playing" in nothing.text


async def test_start_with_a_style_plays_only_songs_of_that_style(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE}, engine=FakeEngine(vocabulary=TEST_VOCABULARY))
    plain = [0.0] * len(ELECTRONIC_CHILL)
    ids = await fill_pool(
        harness.services,
        tmp_path,
        [JAZZ, METAL, JAZZ, METAL, JAZZ],
        seconds=1.0,
        tags=[ELECTRONIC_CHILL, METAL_80S, plain, ELECTRONIC_CHILL, plain],
    )

    _, followup = await harness.command("radio", subcommand="start", style="electronic")

    assert "(only style: electronic). First up: **" in followup.text
    radio = harness.cog.radios[GUILD_ID]
    assert {entry.song.id for entry in await radio.session.queue()} <= {ids[0], ids[3]}
    assert radio.current.song.id in {ids[0], ids[3]}
    await eventually(lambda: len(radio.session.played) >= 2)  # the first ended, the next one picked
    assert set(radio.session.played) == {ids[0], ids[3]}
    (queue,) = await harness.command("queue")
    assert "Only" in str(queue.json) and "style: electronic" in str(queue.json)


async def test_start_with_filters_no_song_matches_is_refused_before_joining(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE}, engine=FakeEngine(vocabulary=TEST_VOCABULARY))
    await fill_pool(harness.services, tmp_path, [JAZZ], seconds=1.0, tags=[METAL_80S])

    nothing = (await harness.command("radio", subcommand="start", mood="chill"))[-1]
    unknown = (await harness.command("radio", subcommand="start", style="polka"))[-1]

    assert nothing.ephemeral and "No song in this server's pool matches mood `chill`" in nothing.text
    assert unknown.ephemeral
    assert "I don't know the style `polka`. Known styles: electronic, ambient, heavy metal." in unknown.text
    assert harness.voices == [] and harness.cog.radios == {}


async def test_start_autocompletes_its_filters_like_the_playlist(radio_bot):
    harness = await radio_bot({ANN: LOUNGE}, engine=FakeEngine(vocabulary=TEST_VOCABULARY))

    (styles,) = await harness.command("radio", subcommand="start", focused="style", style="am")

    assert [choice["value"] for choice in styles.json["data"]["choices"]] == ["ambient"]


async def test_a_second_start_while_the_first_is_connecting_is_refused(radio_bot, tmp_path, monkeypatch):
    harness = await radio_bot({ANN: LOUNGE, BEN: CORNER})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL], seconds=3.0)
    gate = asyncio.Event()

    async def slow_connect(channel, **options):
        await gate.wait()
        harness.voices.append(FakeVoice(channel))
        return harness.voices[-1]

    monkeypatch.setattr(discord.VoiceChannel, "connect", slow_connect)
    first = asyncio.create_task(harness.command("radio", subcommand="start"))
    await eventually(lambda: GUILD_ID in harness.cog._starting)
    (busy,) = await harness.command("radio", subcommand="start", user_id=BEN)
    gate.set()
    await first

    assert busy.ephemeral and "already playing in **lounge**" in busy.text
    assert [voice.channel.id for voice in harness.voices] == [LOUNGE]


async def test_a_failed_voice_connection_is_a_clear_message(radio_bot, tmp_path, monkeypatch):
    harness = await radio_bot({ANN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [JAZZ], seconds=1.0)

    async def time_out(channel, **options):
        raise TimeoutError()

    monkeypatch.setattr(discord.VoiceChannel, "connect", time_out)
    calls = await harness.command("radio", subcommand="start")

    assert calls[-1].ephemeral and "I couldn't connect to **lounge** just now" in calls[-1].text
    assert harness.cog.radios == {}


async def test_a_connection_lost_before_playing_is_a_clear_message(radio_bot, tmp_path, monkeypatch):
    harness = await radio_bot({ANN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [JAZZ], seconds=1.0)

    def not_connected(voice, source, *, after=None):
        raise discord.ClientException("Not connected to voice.")

    monkeypatch.setattr(FakeVoice, "play", not_connected)
    calls = await harness.command("radio", subcommand="start")

    assert calls[-1].ephemeral and "I couldn't connect to **lounge** just now" in calls[-1].text
    assert harness.cog.radios == {} and harness.voices[0].disconnected


# -- feedback --------------------------------------------------------------------------------------


async def test_an_early_skip_is_recorded_for_the_skipper_only(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE, BEN: LOUNGE, CAT: CORNER})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL, JAZZ], seconds=8.0)
    await harness.command("radio", subcommand="start")
    radio = harness.cog.radios[GUILD_ID]
    await eventually(lambda: radio.current is not None and radio.current.track.frames > 5)
    playing = radio.current.song

    (outsider,) = await harness.command("skip", user_id=CAT)
    assert outsider.ephemeral and "Only listeners can skip or stop the radio" in outsider.text
    (reply,) = await harness.command("skip", user_id=BEN)

    assert not reply.ephemeral and f"skipped **{playing.title}**" in reply.text
    assert await eventually(lambda: events(harness.services, BEN)) == [(EventKind.SKIPPED, playing.id)]
    await eventually(lambda: radio.current is not None and radio.current.song.id != playing.id)
    assert await events(harness.services, ANN) == []


async def test_a_song_heard_to_its_end_is_listened_for_everyone_present(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE, BEN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL], seconds=0.6)
    await harness.command("radio", subcommand="start")

    heard_by_ann = await eventually(lambda: events(harness.services, ANN))
    heard_by_ben = await eventually(lambda: events(harness.services, BEN))

    assert heard_by_ann[0][0] == heard_by_ben[0][0] == EventKind.LISTENED
    assert heard_by_ann[0][1] == heard_by_ben[0][1]


async def test_nowplaying_draws_the_chart_of_a_title_matplotlib_would_read_as_mathematics(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [JAZZ], seconds=8.0, title="$\\frac{$ money $$$ ")
    await harness.command("radio", subcommand="start")
    radio = harness.cog.radios[GUILD_ID]
    await eventually(lambda: radio.current is not None)

    (reply,) = await harness.command("nowplaying", user_id=BEN)

    assert reply.files == ["genres.png"] and reply.message["embeds"][0]["title"].startswith("$\\\\frac{$ money")


async def test_nowplaying_shows_the_song_why_and_progress_with_working_buttons(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE, BEN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL, JAZZ], seconds=8.0)
    await harness.command("radio", subcommand="start")
    radio = harness.cog.radios[GUILD_ID]
    await eventually(lambda: radio.current is not None and radio.current.track.frames > 5)
    song = radio.current.song

    (reply,) = await harness.command("nowplaying")

    embed = reply.message["embeds"][0]
    assert embed["title"] == song.title and embed["description"].startswith("Picked because: ")
    assert radio.current.reason in embed["description"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Progress"].endswith(" / 0:08") and "▱" in fields["Progress"]
    assert fields["Listeners"] == "2" and embed["image"]["url"] == "attachment://genres.png"
    assert reply.files == ["genres.png"]
    assert reply.custom_ids() == [
        f"genrebot:radio:{action}:{song.id}" for action in ("like", "dislike", "skip", "similar")
    ]

    message = harness.recorder.last_message_with("genrebot:radio:")
    (liked,) = await harness.click(message, f"genrebot:radio:like:{song.id}", user_id=ANN)
    (disliked,) = await harness.click(message, f"genrebot:radio:dislike:{song.id}", user_id=BEN)
    (similar,) = await harness.click(message, f"genrebot:radio:similar:{song.id}", user_id=BEN)
    assert liked.ephemeral and "you liked this song" in liked.text
    assert disliked.ephemeral and "you disliked this song" in disliked.text
    assert similar.ephemeral and "similarity" in similar.text
    assert await events(harness.services, ANN) == [(EventKind.LIKED, song.id)]
    assert await events(harness.services, BEN) == [(EventKind.DISLIKED, song.id)]

    (skipped,) = await harness.click(message, f"genrebot:radio:skip:{song.id}", user_id=ANN)
    assert f"skipped **{song.title}**" in skipped.text
    await eventually(lambda: has_event(harness.services, ANN, (EventKind.SKIPPED, song.id)))


async def test_the_queue_is_re_planned_after_feedback(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    ids = await fill_pool(harness.services, tmp_path, [JAZZ] * 7 + [METAL] * 7, seconds=10.0)
    jazz, metal = ids[:7], ids[7:]
    for song_id in jazz[:2]:
        await harness.services.store.record_event(GUILD_ID, ANN, song_id, EventKind.LIKED)
    await harness.command("radio", subcommand="start", variety=0.0)
    (queue,) = await harness.command("queue")
    assert queue.ephemeral and queue.text.count("\n") >= 5 and "Up next on the radio" in queue.text
    assert (await planned_genres(harness)).count(JAZZ) >= 4

    await harness.command("nowplaying")
    message = harness.recorder.last_message_with("genrebot:radio:")
    for song_id, action in [*((song, "like") for song in metal[:4]), *((song, "dislike") for song in jazz[:3])]:
        await harness.click(buttons_for(message, song_id), f"genrebot:radio:{action}:{song_id}", user_id=ANN)

    assert (await planned_genres(harness)).count(METAL) >= 4


async def test_the_plan_follows_who_joins_and_leaves(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE, BEN: CORNER})
    ids = await fill_pool(harness.services, tmp_path, [JAZZ] * 8 + [METAL] * 8, seconds=10.0)
    for user, liked in ((ANN, ids[:2]), (BEN, ids[8:10])):
        for song_id in liked:
            await harness.services.store.record_event(GUILD_ID, user, song_id, EventKind.LIKED)
    await harness.command("radio", subcommand="start", variety=0.0)
    radio = harness.cog.radios[GUILD_ID]
    assert (await planned_genres(harness)).count(JAZZ) >= 4

    await move(harness.bot, BEN, LOUNGE)
    await move(harness.bot, OTHER_BOT, LOUNGE)  # bots are no listeners
    assert radio.session.listeners == {ANN, BEN}
    together = await planned_genres(harness)
    assert together.count(METAL) >= 2 and together.count(JAZZ) >= 2

    await move(harness.bot, ANN, CORNER)
    assert radio.session.listeners == {BEN}
    assert (await planned_genres(harness)).count(METAL) >= 4


# -- leaving ---------------------------------------------------------------------------------------


async def test_the_radio_leaves_a_channel_empty_for_two_minutes(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    now = [1_000.0]
    harness.cog.clock = lambda: now[0]
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL], seconds=8.0)
    await harness.command("radio", subcommand="start")
    (voice,) = harness.voices

    await move(harness.bot, ANN, None)
    now[0] += 119.0
    await harness.cog.check_radios()
    assert GUILD_ID in harness.cog.radios and not voice.disconnected
    now[0] += 1.0
    await harness.cog.check_radios()

    assert voice.disconnected and harness.cog.radios == {}
    assert await eventually(lambda: LEFT_EMPTY in notes(harness))


async def test_a_voice_reconnect_keeps_the_radio_and_a_lost_connection_ends_it(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    now = [1_000.0]
    harness.cog.clock = lambda: now[0]
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL], seconds=8.0)
    await harness.command("radio", subcommand="start")
    (voice,) = harness.voices
    radio = harness.cog.radios[GUILD_ID]

    await move(harness.bot, APPLICATION_ID, None)  # the connection dropped; discord.py reconnects
    voice.connected = False
    now[0] += RECONNECT_GRACE_S - 1
    await harness.cog.check_radios()
    voice.connected = True
    await move(harness.bot, APPLICATION_ID, LOUNGE)  # back
    now[0] += 10 * RECONNECT_GRACE_S
    await harness.cog.check_radios()
    assert harness.cog.radios[GUILD_ID] is radio and not voice.disconnected
    assert radio.session.listeners == {ANN}
    frames = len(voice.sent)
    await eventually(lambda: len(voice.sent) > frames + 5)  # still playing

    await move(harness.bot, APPLICATION_ID, None)
    voice.connected = False  # and never back
    now[0] += RECONNECT_GRACE_S
    await harness.cog.check_radios()
    assert voice.disconnected and harness.cog.radios == {}
    assert await eventually(lambda: LOST_CONNECTION in notes(harness))


async def test_stop_and_shutdown_leave_the_channel(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL], seconds=5.0)
    await harness.command("radio", subcommand="start")

    (stopped,) = await harness.command("radio", subcommand="stop")
    assert "Radio stopped" in stopped.text
    assert harness.voices[0].disconnected and harness.cog.radios == {}
    (nothing,) = await harness.command("radio", subcommand="stop")
    assert nothing.ephemeral and "isn't playing" in nothing.text
    assert await events(harness.services, ANN) == []  # a song stopped after a moment says nothing

    await harness.command("radio", subcommand="start")
    radio = harness.cog.radios[GUILD_ID]
    await eventually(lambda: radio.current is not None and radio.current.track.played_s > 2.7)
    song = radio.current.song
    await harness.command("radio", subcommand="stop")
    assert await events(harness.services, ANN) == [(EventKind.LISTENED, song.id)]  # past half its length

    await harness.command("radio", subcommand="start")
    cog = harness.cog
    await harness.bot.close()
    assert harness.voices[2].disconnected and cog.radios == {}


async def test_only_a_listener_or_an_admin_stops_the_radio(radio_bot, tmp_path):
    """A member in no voice channel, with no permission, cannot stop a radio others listen to (/skip's
    rule); an admin can, from anywhere, and so can a listener."""
    harness = await radio_bot({ANN: LOUNGE, BEN: None})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL], seconds=5.0)
    await harness.command("radio", subcommand="start")

    (refused,) = await harness.command("radio", subcommand="stop", user_id=BEN)
    assert refused.ephemeral and "Only listeners can skip or stop the radio" in refused.text
    assert GUILD_ID in harness.cog.radios and not harness.voices[0].disconnected

    (stopped,) = await harness.command("radio", subcommand="stop", user_id=BEN, permissions=MANAGE_GUILD)
    assert "Radio stopped by user3" in stopped.text and harness.cog.radios == {}

    await harness.command("radio", subcommand="start")
    (by_listener,) = await harness.command("radio", subcommand="stop", user_id=ANN)
    assert "Radio stopped by user2" in by_listener.text and harness.cog.radios == {}


async def test_a_song_without_audio_is_noted_in_the_text_channel_and_passed_over(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [METAL], seconds=0.5)
    orphan = await harness.services.store.add_song(
        NewSong(
            guild_id=GUILD_ID,
            title="lost song",
            content_hash=f"{7:064x}",
            probabilities=genre_vector(JAZZ),
            embedding=embedding_for(JAZZ, 7),
            duration_s=3.0,
            model_id=harness.services.engine.model_id,
        )
    )
    await harness.command("radio", subcommand="start")

    note = "Skipped “lost song”: its audio is no longer available. Share it again to bring it back."
    assert await eventually(lambda: note in notes(harness))
    assert (await harness.services.store.get_song(GUILD_ID, orphan.song.id)).audio_missing
    assert (
        harness.cog.radios[GUILD_ID].current is None or harness.cog.radios[GUILD_ID].current.song.title != "lost song"
    )


async def test_a_failing_store_does_not_stop_the_radio_or_its_watch(radio_bot, tmp_path, monkeypatch):
    harness = await radio_bot({ANN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL, JAZZ], seconds=0.5)

    async def broken(*args, **kwargs):
        raise StoreClosedError()

    monkeypatch.setattr(harness.services.store, "record_event", broken)
    await harness.command("radio", subcommand="start")
    radio = harness.cog.radios[GUILD_ID]
    await eventually(lambda: len(radio.session.played) >= 3)  # songs ended, nothing recorded, on it goes
    assert harness.cog.radios[GUILD_ID] is radio

    async def failing_check() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(harness.cog, "check_radios", failing_check)
    await RadioCog.watch.coro(harness.cog)  # logged, not raised: the loop keeps running


# -- a journey, and a first day --------------------------------------------------------------------


async def test_start_from_to_plays_the_journey_first(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    ids = await fill_pool(harness.services, tmp_path, [JAZZ, JAZZ, METAL, METAL, JAZZ, METAL], seconds=3.0)
    await harness.services.store.record_event(GUILD_ID, ANN, ids[4], EventKind.LIKED)

    _, reply = await harness.command("radio", subcommand="start", **{"from": ids[0], "to": ids[3]})

    assert "First up: **jazz 0** (journey, step 1 of " in reply.text
    radio = harness.cog.radios[GUILD_ID]
    journey = [entry.song.id for entry in radio.session.journey]
    assert journey[-1] == ids[3] and ids[0] not in journey
    queued = [entry.song.id for entry in await radio.session.queue()]
    assert queued[: len(journey)] == journey[:5]


async def test_start_with_half_a_journey_or_an_unknown_song_is_refused_before_joining(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    ids = await fill_pool(harness.services, tmp_path, [JAZZ, METAL], seconds=1.0)

    (half,) = await harness.command("radio", subcommand="start", **{"from": ids[0]})
    *_, unknown = await harness.command("radio", subcommand="start", **{"from": ids[0], "to": 999})

    assert half.ephemeral and "A journey needs both ends" in half.text
    assert unknown.ephemeral and "Song #999 is not in this server's pool" in unknown.text
    assert harness.voices == [] and harness.cog.radios == {}


async def test_a_listener_without_history_gets_the_servers_mix_and_the_first_day_menu(radio_bot, tmp_path):
    harness = await radio_bot({ANN: LOUNGE})
    await fill_pool(harness.services, tmp_path, [JAZZ, METAL, JAZZ], seconds=3.0)

    _, reply = await harness.command("radio", subcommand="start")

    assert "This is the server's mix. Start your taste" in reply.text
    assert reply.custom_ids() == ["genrebot:starter"]
