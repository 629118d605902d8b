"""Listening together on Discord: ``/taste member:`` (two members' tastes side by side), ``/journey``
(a playlist moving by sound from one song to another), and the first-day menu a member with no
history gets under the server's mix (``/playlist``, ``/radio start``) to start a taste with."""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot import texts
from bot.arguments import DEFAULT_JOURNEY_SONGS, MIN_JOURNEY_SONGS
from bot.errors import GenreBotError
from bot.services import Services
from cogs import fit
from cogs.charts import comparison_png
from cogs.client import GenreBot
from cogs.common import EMBED_COLOUR, caller_of, picture_file, song_line, with_chart
from cogs.markdown import bold, literal
from cogs.replies import replies_errors, send
from storage import EventKind, Song

# a journey shown here is one embed of numbered songs: at most a playlist menu's worth
MAX_JOURNEY_SONGS = 25


class NotAMemberError(GenreBotError):
    """``/taste member:`` naming someone who is not a member of this server."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"{self.name} is not a member of this server, so I can't compare tastes with them here."


class StarterSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"genrebot:starter"):
    """The first-day menu: songs covering the pool's sound; the ones picked are liked, and so start
    the member's taste. Rebuilt from its custom id like the other menus (the song ids arrive with
    the click)."""

    def __init__(self, options: list[discord.SelectOption]) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id="genrebot:starter",
                placeholder="Start my taste: I like…",
                min_values=1,
                max_values=max(1, len(options)),
                options=options,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[GenreBot], item: discord.ui.Select, match: re.Match[str]
    ) -> StarterSelect:
        return cls(item.options)

    @replies_errors
    async def callback(self, interaction: discord.Interaction[GenreBot]) -> None:
        song_ids = [int(value) for value in self.item.values]
        songs = await interaction.client.services.mark(caller_of(interaction), song_ids, EventKind.LIKED)
        header = "👍 Liked: "
        footer = f"\n{texts.STARTED}"
        liked = fit.lines([song_line(song) for song in songs], fit.CONTENT - fit.size(header + footer), separator=", ")
        await send(interaction, header + liked + footer, ephemeral=True, stored=texts.STARTED)


def add_starter(view: discord.ui.View, songs: Sequence[Song]) -> discord.ui.View:
    """``view`` with the first-day menu of ``songs`` below what it holds (nothing without songs)."""
    if songs:
        options = [
            discord.SelectOption(label=fit.cut(f"#{song.id} {song.title}", fit.OPTION_LABEL), value=str(song.id))
            for song in songs
        ]
        view.add_item(StarterSelect(options))
    return view


async def send_comparison(
    interaction: discord.Interaction[GenreBot], services: Services, member: discord.User | discord.Member
) -> None:
    """The answer of ``/taste member:``: the score and what it rests on, what the two share and where
    they differ, a chart of both tastes, and songs of the member's history for the asker."""
    if not isinstance(member, discord.Member):
        raise NotAMemberError(member.display_name)
    caller = caller_of(interaction)
    await interaction.response.defer(thinking=True)
    comparison = await services.compare_taste(caller, member.id)
    name = member.display_name
    labels = services.labels
    embed = discord.Embed(
        title=f"{literal(interaction.user.display_name)} and {literal(name)}",
        colour=EMBED_COLOUR,
        description=f"{texts.compatibility_line(literal(name), comparison.score, bold)} "
        f"({texts.compatibility_basis(comparison)})",
    )
    shared_styles = set(services.styles_of(comparison.their_tags))
    styles = [style for style in services.styles_of(comparison.my_tags) if style in shared_styles]
    embed.add_field(name="You share", value=texts.shared_text(comparison, labels, styles), inline=False)
    embed.add_field(
        name="Where you differ", value=texts.difference_text(comparison, labels, literal(name)), inline=False
    )
    if comparison.suggestions:
        lines = [
            f"{song_line(suggestion.song)}\n　{texts.suggestion_reason(suggestion, literal(name))}"
            for suggestion in comparison.suggestions
        ]
        embed.add_field(
            name=f"Songs from {literal(name)} you would probably like",
            value=fit.lines(lines, fit.FIELD_VALUE),
            inline=False,
        )
    mine, theirs = (services.genre_mix(profile.vector) for profile in (comparison.mine, comparison.theirs))
    chart = await picture_file(
        lambda: comparison_png(mine, theirs, (interaction.user.display_name, name), "Both tastes"), "comparison"
    )
    await send(interaction, **with_chart(embed, chart))


class TogetherCog(commands.Cog):
    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name="journey", description="A playlist that moves by sound from one pool song to another.")
    @app_commands.rename(from_="from")
    @app_commands.describe(
        from_="the song to start from: its number, as shown after # in /playlist",
        to="the song to arrive at: its number",
        steps=f"how many songs, both ends included ({MIN_JOURNEY_SONGS}-{MAX_JOURNEY_SONGS}, "
        f"default {DEFAULT_JOURNEY_SONGS})",
    )
    @app_commands.guild_only()
    async def journey(
        self,
        interaction: discord.Interaction[GenreBot],
        from_: app_commands.Range[int, 1],
        to: app_commands.Range[int, 1],
        steps: app_commands.Range[int, MIN_JOURNEY_SONGS, MAX_JOURNEY_SONGS] = DEFAULT_JOURNEY_SONGS,
    ) -> None:
        caller = caller_of(interaction)
        await interaction.response.defer(thinking=True)
        journey = await self.services.journey(caller, from_, to, steps)
        lines = [f"**{place}.** {song_line(song)}" for place, song in enumerate(journey.songs, 1)]
        embed = discord.Embed(
            title=f"Journey: {literal(journey.songs[0].title)} → {literal(journey.songs[-1].title)}",
            colour=EMBED_COLOUR,
            description=fit.lines(lines, fit.DESCRIPTION),
        )
        embed.add_field(name="Steps", value=texts.journey_heading(journey), inline=False)
        if journey.hint:
            embed.add_field(name="Tip", value=journey.hint, inline=False)
        await send(interaction, embed=embed)


async def setup(bot: GenreBot) -> None:
    bot.add_dynamic_items(StarterSelect)
    await bot.add_cog(TogetherCog(bot.services))
