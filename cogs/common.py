"""What every cog's messages share: who is asking, charts as attachments, song lines, markup, text
members control shown literally, the ``style``/``mood``/``genre`` filter options of /playlist and
/radio start."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

import discord
from discord import app_commands

from bot import render
from bot.errors import NotInServerError
from bot.services import Caller, Services
from cogs import fit
from cogs.charts import distribution_png
from cogs.markdown import link_target, literal
from cogs.replies import send
from recommender.filters import PoolFilter
from storage import Song

log = logging.getLogger("genrebot.discord")

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


def filters_text(filters: Sequence[PoolFilter] | Sequence[tuple[str, str]]) -> str:
    """``style: electronic, mood: chill``: the filters a playlist or a radio keeps to, as typed."""
    pairs = [(f.kind, f.value) if isinstance(f, PoolFilter) else f for f in filters]
    return ", ".join(f"{kind}: {literal(value)}" for kind, value in pairs)


def is_admin(interaction: discord.Interaction) -> bool:
    return interaction.permissions.manage_guild


async def chart_file(mix: Mapping[str, float], title: str) -> discord.File | None:
    """The distribution chart as an attachment for ``embed.set_image(url=f"attachment://{CHART_NAME}")``;
    drawn in a thread (tens of milliseconds of matplotlib). None, logged, when it cannot be drawn:
    the answer goes out without its picture rather than not at all."""
    return await picture_file(lambda: distribution_png(mix, title), title)


async def picture_file(draw: Callable[[], bytes], title: str) -> discord.File | None:
    """What ``draw`` draws (PNG bytes, in a thread) as the attachment :func:`with_chart` shows; None,
    logged, when it fails."""
    try:
        png = await asyncio.to_thread(draw)
    except Exception:  # noqa: BLE001 - a picture is never worth the answer
        log.exception("chart failed", extra={"title": title})
        return None
    return discord.File(io.BytesIO(png), filename=CHART_NAME)


def with_chart(embed: discord.Embed, chart: discord.File | None) -> dict:
    """The ``embed`` and ``file`` of a reply showing ``chart`` in ``embed`` (no file when there is none)."""
    if chart is None:
        return {"embed": embed}
    embed.set_image(url=f"attachment://{CHART_NAME}")
    return {"embed": embed, "file": chart}


def song_link(song: Song) -> str:
    """The song's title, shown literally, linked to where it was shared when we know."""
    title = literal(song.title)
    url = link_target(song.message_url or song.source_url)
    return f"[{title}]({url})" if url else title


def song_line(song: Song) -> str:
    return f"`#{song.id}` {song_link(song)} · {render.duration(song.duration_s)}"


async def reply_similar(interaction: discord.Interaction, services: Services, guild_id: int, song_id: int) -> None:
    """The "More like this" answer of a song's buttons: its nearest pool songs, seen only by the asker."""
    similar = await services.similar(guild_id, song_id)
    lines = [f"{song_line(found.song)} · similarity {found.similarity:.2f}" for found in similar]
    await send(
        interaction,
        fit.lines(lines, fit.CONTENT) or "There are no other songs in this server's pool yet.",
        ephemeral=True,
    )
