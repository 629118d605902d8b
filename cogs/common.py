"""What every cog's messages share: who is asking, charts as attachments, song lines, markup."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping

import discord

from bot import render
from bot.errors import NotInServerError
from bot.services import Caller
from cogs.charts import distribution_png
from storage import Song

EMBED_COLOUR = discord.Colour.blurple()
CHART_NAME = "genres.png"


def caller_of(interaction: discord.Interaction) -> Caller:
    """The asking user in the server they asked from. Discord hides guild-only commands in DMs, but a
    button on an old message can still arrive from one, so this raises NotInServerError there."""
    if interaction.guild_id is None:
        raise NotInServerError()
    return caller_anywhere(interaction)


def caller_anywhere(interaction: discord.Interaction) -> Caller:
    """The asking user, for what works outside a server too (their variety, /forget)."""
    return Caller(interaction.guild_id, interaction.user.id)


def is_admin(interaction: discord.Interaction) -> bool:
    return interaction.permissions.manage_guild


def bold(text: str) -> str:
    """Discord markdown for the ``strong`` parts of ``bot.texts`` messages."""
    return f"**{text}**"


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
