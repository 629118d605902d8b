"""A member's own listening: ``/playlist``, ``/variety``, ``/taste``, ``/history``."""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot import render, texts
from bot.arguments import MAX_HISTORY_COUNT, MAX_HISTORY_PAGE
from bot.services import Services
from cogs import fit
from cogs.client import GenreBot
from cogs.common import (
    EMBED_COLOUR,
    caller_anywhere,
    caller_of,
    chart_file,
    filter_autocomplete,
    filters_of,
    filters_text,
    song_line,
    with_chart,
)
from cogs.markdown import bold, literal
from cogs.replies import replies_errors, send
from cogs.together import add_starter, send_comparison
from recommender.service import Playlist
from storage import EventKind, Song

# Discord's cap on the options of one select menu: a playlist shown here has one option per song
# (the services' own cap, RecommenderConfig.max_playlist, applies as well)
MAX_MENU_OPTIONS = 25

MARKS = {
    EventKind.LISTENED: ("Mark as listened…", "🎧"),
    EventKind.LIKED: ("Like…", "👍"),
    EventKind.DISLIKED: ("Dislike…", "👎"),
}


class _MarkSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"genrebot:mark:(?P<kind>[a-z]+)"):
    """A menu under a playlist: pick songs to mark listened / liked / disliked. The picked song ids
    arrive with the click, so nothing is kept in memory and the menus survive a restart. Rebuilt by
    discord.py from the custom id, it reaches the services through ``interaction.client``."""

    def __init__(self, kind: EventKind, options: list[discord.SelectOption]) -> None:
        placeholder, _ = MARKS[kind]
        super().__init__(
            discord.ui.Select(
                custom_id=f"genrebot:mark:{kind.value}",
                placeholder=placeholder,
                min_values=1,
                max_values=max(1, len(options)),
                options=options,
            )
        )
        self.kind = kind

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[GenreBot], item: discord.ui.Select, match: re.Match[str]
    ) -> _MarkSelect:
        return cls(EventKind(match["kind"]), item.options)

    @replies_errors
    async def callback(self, interaction: discord.Interaction[GenreBot]) -> None:
        song_ids = [int(value) for value in self.item.values]
        songs = await interaction.client.services.mark(caller_of(interaction), song_ids, self.kind)
        _, emoji = MARKS[self.kind]
        header = f"{emoji} Marked {self.kind.value}: "
        marked = fit.lines([song_line(song) for song in songs], fit.CONTENT - fit.size(header), separator=", ")
        await send(
            interaction,
            header + marked,
            ephemeral=True,
            stored=f"{emoji} Marked {len(songs)} song(s) {self.kind.value}.",
        )


def playlist_view(playlist: Playlist, starters: Sequence[Song] = ()) -> discord.ui.View | None:
    """The rating menus under a playlist, and on a member's first day the menu of ``starters``."""
    if not playlist.entries:
        return None
    options = [
        discord.SelectOption(label=fit.cut(f"{place}. {entry.song.title}", fit.OPTION_LABEL), value=str(entry.song.id))
        for place, entry in enumerate(playlist.entries, 1)
    ]
    view = discord.ui.View(timeout=None)
    for kind in MARKS:
        view.add_item(_MarkSelect(kind, options))
    return add_starter(view, starters)


def playlist_embed(playlist: Playlist, user: discord.abc.User, services: Services) -> discord.Embed:
    lines = [
        f"**{place}.** {song_line(entry.song)}\n　{entry.reason}" for place, entry in enumerate(playlist.entries, 1)
    ]
    embed = discord.Embed(
        title=texts.playlist_title(literal(user.display_name), cold_start=playlist.cold_start),
        colour=EMBED_COLOUR,
        description=fit.lines(lines, fit.DESCRIPTION) or "No songs to suggest yet.",
    )
    embed.add_field(name="Variety", value=f"{playlist.variety:.2f}")
    embed.add_field(name="Target mix", value=render.mix_summary(services.genre_mix(playlist.target)))
    if playlist.hint:
        embed.add_field(name="Tip", value=playlist.hint, inline=False)
    return embed


class ListeningCog(commands.Cog):
    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name="playlist", description="Songs from this server's pool for your taste.")
    @app_commands.describe(
        count=f"how many songs (1-{MAX_MENU_OPTIONS}, default 10)",
        style="only songs of this style, e.g. electronic, ambient, punk",
        mood="only songs of this mood, e.g. chill, happy, sad",
        genre="only songs of this genre: one of the ten, or one this server taught",
    )
    @app_commands.autocomplete(
        style=filter_autocomplete("style"), mood=filter_autocomplete("mood"), genre=filter_autocomplete("genre")
    )
    @app_commands.guild_only()
    async def playlist(
        self,
        interaction: discord.Interaction[GenreBot],
        count: app_commands.Range[int, 1, MAX_MENU_OPTIONS] = 10,
        style: app_commands.Range[str, 1, 40] | None = None,
        mood: app_commands.Range[str, 1, 40] | None = None,
        genre: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        caller = caller_of(interaction)
        filters = filters_of(style=style, mood=mood, genre=genre)
        await interaction.response.defer(thinking=True)
        playlist = await self.services.playlist(caller, count, filters=filters)
        embed = playlist_embed(playlist, interaction.user, self.services)
        if filters:
            embed.add_field(name="Only", value=filters_text(filters))
        starters = await self.services.starter_songs(caller.server_id) if playlist.cold_start else []
        if starters and playlist.entries:
            embed.add_field(name="A first day", value=texts.STARTER, inline=False)
        await send(interaction, embed=embed, view=playlist_view(playlist, starters) or discord.utils.MISSING)

    @app_commands.command(name="variety", description="Show or set how far your playlists stray from your taste.")
    @app_commands.describe(value="0 = exactly your taste, 1 = explore the whole pool")
    async def variety(
        self, interaction: discord.Interaction[GenreBot], value: app_commands.Range[float, 0.0, 1.0] | None = None
    ) -> None:
        caller = caller_anywhere(interaction)
        if value is None:
            text = texts.variety_shown(await self.services.variety(caller), bold)
        else:
            text = texts.variety_set(await self.services.set_variety(caller, value), bold)
        await send(interaction, text, ephemeral=True)

    @app_commands.command(name="taste", description="Your genre profile here, or how it compares with a member's.")
    @app_commands.describe(member="compare your taste with this member's")
    @app_commands.guild_only()
    async def taste(self, interaction: discord.Interaction[GenreBot], member: discord.User | None = None) -> None:
        if member is not None:
            await send_comparison(interaction, self.services, member)
            return
        caller = caller_of(interaction)
        await interaction.response.defer(thinking=True)
        profile = await self.services.taste(caller)
        name = interaction.user.display_name
        embed = discord.Embed(title=f"Taste of {literal(name)}", colour=EMBED_COLOUR)
        if profile.empty:
            embed.description = texts.NO_TASTE
            await send(interaction, embed=embed)
            return
        mix = self.services.genre_mix(profile.vector)
        embed.description = f"Mostly {bold(render.mix_summary(mix))}, {texts.taste_basis(profile)}."
        await send(interaction, **with_chart(embed, await chart_file(mix, f"Taste of {name}")))

    @app_commands.command(name="history", description="What you shared, heard and rated here.")
    @app_commands.describe(count=f"how many entries (1-{MAX_HISTORY_COUNT}, default 10)", page="page number, from 1")
    @app_commands.guild_only()
    async def history(
        self,
        interaction: discord.Interaction[GenreBot],
        count: app_commands.Range[int, 1, MAX_HISTORY_COUNT] = 10,
        page: app_commands.Range[int, 1, MAX_HISTORY_PAGE] = 1,
    ) -> None:
        entries = await self.services.history(caller_of(interaction), limit=count, page=page)
        lines = [
            f"<t:{int(entry.event.at.timestamp())}:R> {entry.event.kind.value} {song_line(entry.song)}"
            for entry in entries
        ]
        embed = discord.Embed(
            title="Your history",
            colour=EMBED_COLOUR,
            description=fit.lines(lines, fit.DESCRIPTION) or texts.history_empty(page),
        )
        await send(interaction, embed=embed, ephemeral=True)


async def setup(bot: GenreBot) -> None:
    bot.add_dynamic_items(_MarkSelect)
    await bot.add_cog(ListeningCog(bot.services))
