"""The Discord client: loads the cogs, answers every command error, syncs commands when asked.

The cogs are extensions loaded by name (``COGS``); each ``setup(bot)`` builds its cog with
``bot.services``, so this module imports none of them and they may import it for typing."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import GenreBotError
from bot.services import Services
from cogs.replies import send_error

log = logging.getLogger("genrebot.discord")

COGS = (
    "cogs.classify",
    "cogs.listening",
    "cogs.together",
    "cogs.pool",
    "cogs.genres",
    "cogs.privacy",
    "cogs.radio",
    "cogs.help",
)


class GenreBotTree(app_commands.CommandTree["GenreBot"]):
    async def on_error(self, interaction: discord.Interaction[GenreBot], error: app_commands.AppCommandError) -> None:
        command = interaction.command.qualified_name if interaction.command else None
        log.info("command failed", extra={"command": command, "error": type(error).__name__})
        await send_error(interaction, error)


class GenreBot(commands.Bot):
    """Slash commands only. ``message_content`` is requested for indexing uploads in opted-in
    channels; enable "Message Content Intent" for the application in the Developer Portal."""

    def __init__(self, services: Services, **options) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            tree_cls=GenreBotTree,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.services = services

    async def setup_hook(self) -> None:
        for cog in COGS:
            await self.load_extension(cog)
        if self.services.config.sync:
            await self.sync_commands()

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Publish the commands: to the dev server (instant) if one is configured, else globally
        (Discord may take up to an hour to show changes everywhere)."""
        guild_id = self.services.config.dev_guild
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        log.info("commands synced", extra={"count": len(synced), "scope": guild_id or "global"})
        return synced

    async def on_ready(self) -> None:
        log.info("connected", extra={"user": str(self.user), "guilds": len(self.guilds)})


class ShardedGenreBot(GenreBot, commands.AutoShardedBot):
    """GenreBot over several gateway shards (discord.py's AutoShardedBot): with ``shard_ids`` a
    process runs some of ``shard_count`` shards, so several processes split the servers. They
    share nothing but the database: every command and button reads its state from the store
    (views are rebuilt from their custom ids), so any shard can answer any interaction."""


def make_client(
    services: Services, *, shard_ids: tuple[int, ...] | None = None, shard_count: int | None = None
) -> GenreBot:
    """The client: the plain GenreBot, or with ``shard_count`` a ShardedGenreBot running
    ``shard_ids`` (None: all of them)."""
    if shard_count is None:
        return GenreBot(services)
    return ShardedGenreBot(services, shard_count=shard_count, shard_ids=None if shard_ids is None else list(shard_ids))


class TokenRejectedError(GenreBotError):
    """Discord refused DISCORD_TOKEN at login (malformed, reset, or another application's)."""

    def __str__(self) -> str:
        return (
            "Discord rejected DISCORD_TOKEN. Copy the bot's token again (Developer Portal → your "
            "application → Bot → Reset Token), or unset DISCORD_TOKEN to use the console."
        )


class DiscordUnreachableError(GenreBotError):
    """Discord could not be reached at start-up (no network, DNS, a proxy, Discord down)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return (
            f"I couldn't reach Discord ({self.reason[:120]}). Check this machine's network "
            "connection and start genrebot again."
        )


class IntentsNotEnabledError(GenreBotError):
    """The application lacks the Message Content intent that GenreBot asks for."""

    def __str__(self) -> str:
        return (
            "Discord refused the Message Content intent. Enable it for the application (Developer "
            "Portal → Bot → Privileged Gateway Intents → Message Content Intent) and start again."
        )


def startup_error(error: BaseException) -> GenreBotError | None:
    """The core error for a failure of discord.py's login or first connection, or None for others."""
    if isinstance(error, discord.LoginFailure):
        return TokenRejectedError()
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return IntentsNotEnabledError()
    if isinstance(error, aiohttp.ClientError | OSError | discord.GatewayNotFound | asyncio.TimeoutError):
        return DiscordUnreachableError(str(error) or type(error).__name__)
    return None


async def run_discord(
    services: Services, token: str, *, shard_ids: tuple[int, ...] | None = None, shard_count: int | None = None
) -> None:
    """Run until stopped; SIGTERM (docker stop) and Ctrl-C close the gateway connection cleanly.
    A login or connection failure raises one of the GenreBotError types above, whose text says
    what to do. ``shard_ids``/``shard_count``: see :func:`make_client`."""
    bot = make_client(services, shard_ids=shard_ids, shard_count=shard_count)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
    try:
        async with bot:
            await bot.start(token)
    except Exception as error:
        mapped = startup_error(error)
        if mapped is None:
            raise
        raise mapped from error
