"""What every cog's messages share: who is asking, charts as attachments, song lines, markup, the
``style``/``mood``/``genre`` filter options of /playlist and /radio start."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Mapping, Sequence

import discord
from discord import app_commands

from bot import render
from bot.errors import NotInServerError
from bot.services import Caller, Services
from cogs.charts import distribution_png
from recommender.filters import PoolFilter
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


def autocomplete_choices(known: tuple[str, ...], current: str) -> list[app_commands.Choice[str]]:
    """Discord's at most 25 suggestions: names starting with what was typed, then containing it."""
    typed = current.strip().lower()
    ranked = sorted(
        (name for name in known if typed in name.lower()), key=lambda name: (not name.lower().startswith(typed), name)
    )
    return [app_commands.Choice(name=name, value=name) for name in ranked[:25]]


def filter_autocomplete(kind: str) -> Callable[[discord.Interaction, str], Awaitable[list[app_commands.Choice[str]]]]:
    """The autocompletion of a ``style``, ``mood`` or ``genre`` filter option: the values this
    server knows (``Services.filter_choices``)."""

    async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        known = await interaction.client.services.filter_choices(interaction.guild_id, kind)
        return autocomplete_choices(known, current)

    return complete


def filters_of(*, style: str | None, mood: str | None, genre: str | None) -> list[tuple[str, str]]:
    """The filter options given, as the services' ``(kind, value)`` pairs."""
    return [(kind, value) for kind, value in (("style", style), ("mood", mood), ("genre", genre)) if value]


def filters_text(only: Sequence[PoolFilter]) -> str:
    """``style: electronic, mood: chill``: the filters a radio keeps to."""
    return ", ".join(f"{only_one.kind}: {only_one.value}" for only_one in only)


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


async def reply_similar(interaction: discord.Interaction, services: Services, guild_id: int, song_id: int) -> None:
    """The "More like this" answer of a song's buttons: its nearest pool songs, seen only by the asker."""
    similar = await services.similar(guild_id, song_id)
    lines = [f"{song_line(found.song)} · similarity {found.similarity:.2f}" for found in similar]
    await interaction.response.send_message(
        "\n".join(lines) or "There are no other songs in this server's pool yet.", ephemeral=True
    )
