"""What every cog needs: the services, who is asking, charts as attachments, and error replies."""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot import render
from bot.charts import distribution_png
from bot.errors import NotInServerError, user_message
from bot.services import Caller
from storage import Song

if TYPE_CHECKING:
    from bot.client import GenreBot
    from bot.services import Services

log = logging.getLogger("genrebot.discord")

EMBED_COLOUR = discord.Colour.blurple()
CHART_NAME = "genres.png"

T = TypeVar("T")


def services_of(interaction: discord.Interaction) -> Services:
    bot: GenreBot = interaction.client  # type: ignore[assignment]
    return bot.services


def caller_of(interaction: discord.Interaction) -> Caller:
    """The asking user in the server they asked from. Discord hides guild-only commands in DMs, but a
    button on an old message can still arrive from one, so this is checked here too."""
    if interaction.guild_id is None:
        raise NotInServerError()
    return Caller(interaction.guild_id, interaction.user.id)


def is_admin(interaction: discord.Interaction) -> bool:
    return interaction.permissions.manage_guild


async def chart_file(mix: Mapping[str, float], title: str) -> discord.File:
    """The distribution chart as an attachment for ``embed.set_image(url=f"attachment://{CHART_NAME}")``;
    drawn in a thread (tens of milliseconds of matplotlib)."""
    png = await asyncio.to_thread(distribution_png, mix, title)
    return discord.File(io.BytesIO(png), filename=CHART_NAME)


def song_link(song: Song) -> str:
    """The song's title, linked to where it was shared when we know."""
    title = discord.utils.escape_markdown(song.title)
    url = song.message_url or song.source_url
    return f"[{title}]({url})" if url else title


def song_line(song: Song) -> str:
    return f"`#{song.id}` {song_link(song)} · {render.duration(song.duration_s)}"


async def send_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer any failure with an ephemeral message, whatever state the interaction is in.

    A public "thinking…" placeholder is deleted first, so the error is seen only by the user and no
    dead "is thinking" message stays in the channel."""
    message = user_message(error)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                pass
        await interaction.followup.send(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message", extra={"interaction": interaction.id})


def replies_errors(callback: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T | None]]:
    """For component callbacks (buttons, selects), which the command tree's error handler does not
    cover: any exception becomes an ephemeral reply instead of a silent "interaction failed"."""

    @functools.wraps(callback)
    async def wrapper(self: Any, interaction: discord.Interaction, *args: Any) -> T | None:
        try:
            return await callback(self, interaction, *args)
        except Exception as error:  # noqa: BLE001 - mapped to a message in bot.errors
            await send_error(interaction, error)
            return None

    return wrapper
