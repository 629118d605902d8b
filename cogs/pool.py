"""The server's song pool: ``/pool stats|remove|auto|channel``, and indexing of opted-in channels."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot import render, texts
from bot.errors import GenreBotError
from bot.services import AudioInput, Caller, Services, check_upload
from cogs.client import GenreBot
from cogs.common import EMBED_COLOUR, caller_of, chart_file, filter_autocomplete, song_line, with_chart
from cogs.markdown import literal
from cogs.replies import send
from genre_engine.errors import GenreEngineError
from storage.errors import StorageError

log = logging.getLogger("genrebot.discord")

MAP_NAME = "map.png"


async def runs_the_bot(interaction: discord.Interaction[GenreBot]) -> bool:
    """Whether the caller owns the bot's application (its owner, or a member of its team): anyone can
    be an admin of a server they make, but only the operator may read about the whole process."""
    try:
        return await interaction.client.is_owner(interaction.user)
    except discord.HTTPException:  # the application's owner could not be looked up: nobody is
        return False


@app_commands.guild_only()
class PoolCog(commands.GroupCog, group_name="pool", group_description="This server's song pool."):
    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    @app_commands.command(name="stats", description="Size, genre mix and contributors of the pool.")
    async def stats(self, interaction: discord.Interaction[GenreBot]) -> None:
        guild_id = caller_of(interaction).server_id
        await interaction.response.defer(thinking=True)
        stats = await self.services.pool_stats(guild_id)
        embed = discord.Embed(
            title="Server song pool",
            colour=EMBED_COLOUR,
            description=f"**{stats.songs}** song(s), {render.duration(stats.total_duration_s)} "
            f"of music, from {stats.contributors} member(s).",
        )
        if interaction.permissions.manage_guild:  # admins see how far re-analysis is in their server
            footer = [texts.reanalysis_line(await self.services.model_state(guild_id))]
            if await runs_the_bot(interaction):  # the process's cache is its operator's business alone
                footer.insert(0, texts.pool_cache_line(self.services.pool_cache_stats()))
            embed.set_footer(text="\n".join(line for line in footer if line))
        if not stats.songs:
            embed.description += "\nShare songs with /classify to fill it."
            await send(interaction, embed=embed)
            return
        mix = self.services.genre_mix(stats.genre_mix)
        embed.add_field(name="Genre mix", value=render.mix_summary(mix, top=5), inline=False)
        for heading, text in texts.pool_tag_lines(await self.services.pool_tags(guild_id), literal):
            embed.add_field(name=heading, value=text, inline=False)
        if stats.top_contributors:
            embed.add_field(
                name="Top contributors",
                inline=False,
                value=", ".join(f"<@{user}> ({songs})" for user, songs in stats.top_contributors[:5]),
            )
        await self._add_week(embed, guild_id)
        await send(interaction, **with_chart(embed, await chart_file(mix, "Server pool, all time")))

    async def _add_week(self, embed: discord.Embed, guild_id: int) -> None:
        """This week beside all time: the genre mix of what was shared and played, what is rising, who
        was most active (mentions, which ping nobody: the client allows none)."""
        week = await self.services.trends(guild_id)
        if not week.played:
            embed.add_field(name="This week", value=texts.NO_ACTIVITY, inline=False)
            return
        mix = render.mix_summary(self.services.genre_mix(week.mix), top=5)
        embed.add_field(name="This week", value=f"{mix}\n{texts.week_summary(week)}", inline=False)
        embed.add_field(name="Rising this week", value=texts.rising_text(week, self.services.labels), inline=False)
        embed.add_field(
            name="Most active this week",
            value=", ".join(f"<@{user}> ({count})" for user, count in week.active),
            inline=False,
        )

    @app_commands.command(name="map", description="A picture of the pool: every song placed by sound.")
    @app_commands.describe(genre="pick out the songs of this genre: one of the ten, or one this server taught")
    @app_commands.autocomplete(genre=filter_autocomplete("genre"))
    async def map(
        self, interaction: discord.Interaction[GenreBot], genre: app_commands.Range[str, 1, 40] | None = None
    ) -> None:
        caller = caller_of(interaction)
        await interaction.response.defer(thinking=True)
        drawn = await self.services.pool_map(caller, genre=genre)
        picked = f" The songs of {literal(drawn.genre)} are in colour." if drawn.genre else ""
        embed = discord.Embed(
            title="The server's map",
            colour=EMBED_COLOUR,
            description=f"{drawn.songs:,} song(s), each placed by how it sounds: close together, they sound "
            f"alike.{picked} Yours are ringed ({drawn.yours:,}).",
        )
        embed.set_image(url=f"attachment://{MAP_NAME}")
        await send(interaction, embed=embed, file=discord.File(io.BytesIO(drawn.png), filename=MAP_NAME))

    @app_commands.command(name="remove", description="Remove a song from the pool (admins).")
    @app_commands.describe(song="the song's number, as shown after # in /playlist or /classify")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def remove(self, interaction: discord.Interaction[GenreBot], song: app_commands.Range[int, 1]) -> None:
        removed = await self.services.remove_from_pool(caller_of(interaction).server_id, song)
        await send(
            interaction,
            f"Removed {song_line(removed)} from the pool.",
            ephemeral=True,
            stored=f"Removed song #{removed.id} from the pool.",
        )

    @app_commands.command(name="auto", description="Whether songs classified here join the pool (admins).")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def auto(self, interaction: discord.Interaction[GenreBot], enabled: bool) -> None:
        settings = await self.services.set_auto_pool(caller_of(interaction).server_id, enabled)
        state = (
            "on: classified songs join the pool"
            if settings.auto_pool
            else "off: classified songs stay in their sharer's history until added with the button"
        )
        await send(interaction, f"Auto-pool is {state}.", ephemeral=True, stored=f"Auto-pool is {state}.")

    @app_commands.command(name="channel", description="Index audio posted in a channel automatically (admins).")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def channel(
        self, interaction: discord.Interaction[GenreBot], channel: discord.TextChannel, enabled: bool
    ) -> None:
        await self.services.set_index_channel(caller_of(interaction).server_id, channel.id, enabled)
        verb = "will be" if enabled else "will no longer be"
        text = f"Audio posted in {channel.mention} {verb} added to the pool."
        await send(interaction, text, ephemeral=True, stored=text)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Index audio attachments in opted-in channels; a 🎵 reaction says it worked. Failures are
        only logged: nobody asked, so nobody is interrupted."""
        if message.guild is None or message.author.bot or not message.attachments:
            return
        services = self.services
        settings = await services.guild_settings(message.guild.id)
        if message.channel.id not in settings.index_channels:
            return
        caller = Caller(message.guild.id, message.author.id)
        for attachment in message.attachments:
            try:
                check_upload(attachment.size, services.config.max_attachment_bytes)
                audio = AudioInput(
                    await attachment.read(), Path(attachment.filename).stem, message_url=message.jump_url
                )
                await services.classify(caller, audio, pool=True)
                await message.add_reaction("🎵")
            except (GenreBotError, GenreEngineError, StorageError, discord.HTTPException) as error:
                log.info(
                    "auto-index skipped",
                    extra={"guild": message.guild.id, "file": attachment.filename, "why": str(error)},
                )


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(PoolCog(bot.services))
