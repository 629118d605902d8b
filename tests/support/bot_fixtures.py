"""Fixtures for the bot's tests: a loopback HTTP server serving audio, a fake engine, services on SQLite."""

from __future__ import annotations

import contextvars
import http.server
import io
import ipaddress
import time
import urllib.parse
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
)
from dataclasses import dataclass, field
from pathlib import Path

import discord
import pytest
import soundfile as sf

from bot.config import Config
from bot.links.fetch import LinkPolicy
from bot.services import Services
from cogs.client import GenreBot, make_client
from console.repl import Console
from genre_engine.tags import Tag, TagVocabulary
from tests.conftest import tone
from tests.support.discord_harness import (
    APPLICATION_ID,
    Call,
    Recorder,
    RecordingAdapter,
    RoleOption,
    attachment_payload,
    command_payload,
    component_payload,
    deliver,
    guild_payload,
    user_payload,
)
from tests.support.fake_engine import FakeEngine

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


def wav_bytes(freq: float = 440.0, seconds: float = 3.0, sr: int = 22050) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(freq, seconds, sr), sr, format="WAV")
    return buffer.getvalue()


Route = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class AudioServer:
    """A loopback web server; ``routes`` maps a path to a handler, ``requests`` logs what was asked."""

    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{urllib.parse.quote(path)}"

    def file(self, path: str, body: bytes, content_type: str = "audio/wav", *, length: bool = True) -> str:
        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            if length:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = send
        return self.url(path)

    def redirect(self, path: str, location: str) -> str:
        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(302)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = send
        return self.url(path)

    def trickle(self, path: str, body: bytes, pause_s: float) -> str:
        """Declare the whole body, then send it a little at a time (a server too slow to wait for)."""

        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "audio/wav")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            for start in range(0, len(body), 4096):
                handler.wfile.write(body[start : start + 4096])
                handler.wfile.flush()
                time.sleep(pause_s)

        self.routes[path] = send
        return self.url(path)


@pytest.fixture
def audio_server() -> Iterator[AudioServer]:
    """A loopback web server on 127.0.0.1 (``link_servers.serve``, imported here: it builds on AudioServer)."""
    from tests.support.link_servers import serve

    with serve("127.0.0.1") as server:
        yield server


@pytest.fixture
def link_policy(tmp_path: Path) -> LinkPolicy:
    """Loopback allowed (the test server lives there), nothing else internal; temp files in tmp_path."""
    temp_root = tmp_path / "link-temp"
    temp_root.mkdir()
    return LinkPolicy(
        max_bytes=2_000_000, max_duration_s=600, timeout_s=10, allowed_internal_networks=LOOPBACK, temp_root=temp_root
    )


# A small tagger for the fake engine: two styles outside the ten, one inside, a mood and an era.
TEST_VOCABULARY = TagVocabulary(
    "test",
    (
        Tag("electronic", "style", 0.3),
        Tag("ambient", "style", 0.2),
        Tag("heavy metal", "style", 0.4, "metal"),
        Tag("chill", "mood", 0.3),
        Tag("80s", "era", 0.2),
    ),
    min_top_probability=0.5,
    min_outside_styles=2,
)
ELECTRONIC_CHILL = [0.8, 0.5, 0.0, 0.6, 0.0]  # not one of the ten: electronic, ambient; chill
METAL_80S = [0.0, 0.0, 0.9, 0.0, 0.5]  # a metal song of the 80s: confident


@pytest.fixture
async def make_services(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Services]]]:
    """Services over a real SQLite file and a FakeEngine (``engine=`` to give another; ``make_engine=``
    classifies in child processes with the engine it builds); other keyword arguments override the
    Config."""
    started: list[Services] = []

    async def make(
        engine: FakeEngine | None = None, make_engine: Callable[[], FakeEngine] | None = None, **overrides
    ) -> Services:
        settings = {
            "db": tmp_path / f"bot{len(started)}.db",
            "media": tmp_path / f"media{len(started)}",
            "workers": 1,
            "queue_size": 0,
            "cooldown_s": 0.0,
            "allowed_internal_networks": LOOPBACK,
            **overrides,
        }
        services = await Services.open(Config(**settings), engine or FakeEngine(), make_engine=make_engine)
        started.append(services)
        return services

    yield make
    for services in started:
        await services.close()


GUILD_ID = 700_000_000_000_000_001
USER_ID = 700_000_000_000_000_002
OTHER_USER_ID = 700_000_000_000_000_003
MANAGE_GUILD = 1 << 5


@dataclass
class BotHarness:
    """A real GenreBot with its cogs, fed gateway payloads; ``recorder`` holds what it sent."""

    bot: GenreBot
    services: Services
    recorder: Recorder
    cdn: dict[str, bytes] = field(default_factory=dict)
    rest: list[Call] = field(default_factory=list)

    def upload(self, filename: str, data: bytes, content_type: str | None = "audio/wav") -> dict:
        attachment = attachment_payload(filename, len(data), content_type)
        self.cdn[attachment["url"]] = data
        return attachment

    async def command(
        self, name: str, *, user_id: int = USER_ID, guild_id: int | None = GUILD_ID, **options
    ) -> list[Call]:
        start = len(self.recorder.calls)
        await deliver(self.bot, command_payload(name, guild_id=guild_id, user_id=user_id, **options))
        return self.recorder.calls[start:]

    async def autocomplete(
        self, name: str, option: str, typed: str, *, user_id: int = USER_ID, guild_id: int = GUILD_ID
    ) -> list[Call]:
        """A member typing ``typed`` into ``option`` of command ``name``: what the bot suggests."""
        start = len(self.recorder.calls)
        await deliver(
            self.bot, command_payload(name, guild_id=guild_id, user_id=user_id, focused=option, **{option: typed})
        )
        return self.recorder.calls[start:]

    def role(self, role_id: int, guild_id: int = GUILD_ID) -> RoleOption:
        """A role of the server, known to the bot as after the gateway's GUILD_CREATE."""
        state = self.bot._connection
        state._add_guild(discord.Guild(data=guild_payload(guild_id, [role_id]), state=state))
        return RoleOption(role_id)

    async def click(
        self, message: dict, custom_id: str, *, user_id: int = USER_ID, guild_id: int | None = GUILD_ID, **options
    ) -> list[Call]:
        start = len(self.recorder.calls)
        await deliver(self.bot, component_payload(message, custom_id, guild_id=guild_id, user_id=user_id, **options))
        return self.recorder.calls[start:]


@pytest.fixture
async def make_bot(make_services, monkeypatch) -> AsyncIterator[Callable[..., Awaitable[BotHarness]]]:
    """Start a GenreBot offline (no gateway, no login), sharded with ``shard_ids``/``shard_count``;
    other keyword arguments override the Config."""
    recorder = Recorder()
    adapter = contextvars.ContextVar("async_webhook_context", default=RecordingAdapter(recorder))  # noqa: B039  (as discord.py)
    monkeypatch.setattr("discord.interactions.async_context", adapter)
    monkeypatch.setattr("discord.webhook.async_.async_context", adapter)
    bots: list[GenreBot] = []

    async def make(
        *, shard_ids: tuple[int, ...] | None = None, shard_count: int | None = None, **overrides
    ) -> BotHarness:
        services = await make_services(**overrides)
        bot = make_client(services, shard_ids=shard_ids, shard_count=shard_count)
        harness = BotHarness(bot, services, recorder)

        async def get_from_cdn(url: str) -> bytes:
            harness.rest.append(Call("GET", url))
            return harness.cdn[url]

        async def request(route, **kwargs):
            harness.rest.append(Call(route.method, route.url.removeprefix(route.BASE), kwargs.get("json")))
            recorder.refuse_if_over(harness.rest[-1])

        await bot.__aenter__()  # what `async with bot` does: loop and HTTP client set up, no login
        bots.append(bot)
        bot.http.get_from_cdn = get_from_cdn
        bot.http.request = request
        # what the gateway's READY would have told the client about itself
        bot._connection.user = discord.ClientUser(state=bot._connection, data=user_payload(APPLICATION_ID, "genrebot"))
        bot._connection.application_id = APPLICATION_ID
        bot.owner_id = APPLICATION_ID  # what is_owner() would fetch from the application: no test member
        await bot.setup_hook()
        return harness

    yield make
    for bot in bots:
        await bot.close()


async def share(harness, user_id: int, *freqs: float) -> None:
    """``/classify`` one generated tone per frequency as ``user_id``."""
    for freq in freqs:
        await harness.command("classify", user_id=user_id, file=harness.upload(f"song {freq:.0f}.wav", wav_bytes(freq)))


async def console_run(services: Services, script: list[str]) -> str:
    """What the console prints for the lines of ``script``, piped, over ``services``."""
    stdout = io.StringIO()
    assert await Console(services, io.StringIO("\n".join(script) + "\n"), stdout).run() == 0
    return stdout.getvalue()
