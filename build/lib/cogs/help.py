"""``/help``: what the bot does and how to drive it."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.common import EMBED_COLOUR

COMMANDS = (
    ("/classify file: or url:", "The genre of a song, with a chart. It joins your history and the server pool."),
    ("/playlist [count]", "Songs from the server pool for your taste, each with a reason; rate them below it."),
    ("/variety [value]", "Show or set how far playlists stray: 0 = exactly your taste, 1 = the whole pool."),
    ("/taste", "Your genre profile, and how many songs it rests on."),
    ("/history", "What you shared, heard and rated here."),
    ("/forget", "Delete everything I store about you (asks first)."),
    ("/pool stats", "The server pool at a glance."),
    ("/pool remove · auto · channel", "Admins: remove a song, switch auto-pooling, index a channel's uploads."),
)


class HelpCog(commands.Cog):
    @app_commands.command(name="help", description="What genrebot does and how to use it.")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(
            title="genrebot", colour=EMBED_COLOUR,
            description="I listen to the music this server shares, tell its genre, and build each member "
                        "a playlist from the server's own songs.")
        for name, text in COMMANDS:
            embed.add_field(name=name, value=text, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(HelpCog())
