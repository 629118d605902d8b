"""A member's own listening: ``/playlist``, ``/variety``, ``/taste``, ``/history``."""

from __future__ import annotations

import re

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.services import genre_mix
from cogs.common import (
    CHART_NAME,
    EMBED_COLOUR,
    caller_of,
    chart_file,
    replies_errors,
    services_of,
    song_line,
)
from recommender.service import Playlist
from storage import EventKind

MARKS = {
    EventKind.LISTENED: ("Mark as listened…", "🎧"),
    EventKind.LIKED: ("Like…", "👍"),
    EventKind.DISLIKED: ("Dislike…", "👎"),
}


class _MarkSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"genrebot:mark:(?P<kind>[a-z]+)"):
    """A menu under a playlist: pick songs to mark listened / liked / disliked. The picked song ids
    arrive with the click, so nothing is kept in memory and the menus survive a restart."""

    def __init__(self, kind: EventKind, options: list[discord.SelectOption]) -> None:
        placeholder, _ = MARKS[kind]
        super().__init__(discord.ui.Select(custom_id=f"genrebot:mark:{kind.value}", placeholder=placeholder,
                                           min_values=1, max_values=max(1, len(options)), options=options))
        self.kind = kind

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select,
                             match: re.Match[str]) -> _MarkSelect:
        return cls(EventKind(match["kind"]), item.options)

    @replies_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        song_ids = [int(value) for value in self.item.values]
        songs = await services_of(interaction).mark(caller_of(interaction), song_ids, self.kind)
        _, emoji = MARKS[self.kind]
        await interaction.response.send_message(
            f"{emoji} Marked {self.kind.value}: " + ", ".join(song_line(song) for song in songs), ephemeral=True)


def playlist_view(playlist: Playlist) -> discord.ui.View | None:
    if not playlist.entries:
        return None
    options = [discord.SelectOption(label=f"{place}. {entry.song.title}"[:100], value=str(entry.song.id))
               for place, entry in enumerate(playlist.entries, 1)]
    view = discord.ui.View(timeout=None)
    for kind in MARKS:
        view.add_item(_MarkSelect(kind, options))
    return view


def playlist_embed(playlist: Playlist, user: discord.abc.User) -> discord.Embed:
    lines = [f"**{place}.** {song_line(entry.song)}\n　{entry.reason}"
             for place, entry in enumerate(playlist.entries, 1)]
    embed = discord.Embed(title=f"Playlist for {user.display_name}", colour=EMBED_COLOUR,
                          description="\n".join(lines)[:4000] or "No songs to suggest yet.")
    embed.add_field(name="Variety", value=f"{playlist.variety:.2f}")
    embed.add_field(name="Target mix", value=render.mix_summary(genre_mix(playlist.target)))
    if playlist.hint:
        embed.add_field(name="Tip", value=playlist.hint, inline=False)
    return embed


class ListeningCog(commands.Cog):
    @app_commands.command(name="playlist", description="Songs from this server's pool for your taste.")
    @app_commands.describe(count="how many songs (1-25, default 10)")
    @app_commands.guild_only()
    async def playlist(self, interaction: discord.Interaction,
                       count: app_commands.Range[int, 1, 25] = 10) -> None:
        caller = caller_of(interaction)
        await interaction.response.defer(thinking=True)
        playlist = await services_of(interaction).playlist(caller, count)
        await interaction.followup.send(embed=playlist_embed(playlist, interaction.user),
                                        view=playlist_view(playlist) or discord.utils.MISSING)

    @app_commands.command(name="variety", description="Show or set how far your playlists stray from your taste.")
    @app_commands.describe(value="0 = exactly your taste, 1 = explore the whole pool")
    async def variety(self, interaction: discord.Interaction,
                      value: app_commands.Range[float, 0.0, 1.0] | None = None) -> None:
        services = services_of(interaction)
        if value is None:
            current = await services.variety(interaction.user.id)
            text = f"Your variety is **{current:.2f}** (0 = exactly your taste, 1 = the whole pool)."
        else:
            text = f"Variety set to **{await services.set_variety(interaction.user.id, value):.2f}**."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="taste", description="Your genre profile in this server.")
    @app_commands.guild_only()
    async def taste(self, interaction: discord.Interaction) -> None:
        caller = caller_of(interaction)
        await interaction.response.defer(thinking=True)
        profile = await services_of(interaction).taste(caller)
        embed = discord.Embed(title=f"Taste of {interaction.user.display_name}", colour=EMBED_COLOUR)
        if profile.empty:
            embed.description = "No taste profile yet: share songs with /classify or rate some from /playlist."
            await interaction.followup.send(embed=embed)
            return
        mix = genre_mix(profile.vector)
        embed.description = (f"Mostly **{render.mix_summary(mix)}**, from {profile.songs} song(s) "
                             f"and {profile.events} event(s).")
        embed.set_image(url=f"attachment://{CHART_NAME}")
        await interaction.followup.send(embed=embed, file=await chart_file(mix, embed.title))

    @app_commands.command(name="history", description="What you shared, heard and rated here.")
    @app_commands.describe(count="how many entries (1-25, default 10)", page="page number, from 1")
    @app_commands.guild_only()
    async def history(self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 25] = 10,
                      page: app_commands.Range[int, 1, 1000] = 1) -> None:
        entries = await services_of(interaction).history(caller_of(interaction), limit=count,
                                                         offset=(page - 1) * count)
        lines = [f"<t:{int(entry.event.at.timestamp())}:R> {entry.event.kind.value} {song_line(entry.song)}"
                 for entry in entries]
        embed = discord.Embed(title="Your history", colour=EMBED_COLOUR,
                              description="\n".join(lines)[:4000] or "Nothing here yet.")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(_MarkSelect)
    await bot.add_cog(ListeningCog())
