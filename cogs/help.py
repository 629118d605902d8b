"""``/help``: what the bot does and how to drive it (the text is the core's, ``bot.texts``)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import texts
from cogs.client import GenreBot
from cogs.common import EMBED_COLOUR
from cogs.replies import send


class HelpCog(commands.Cog):
    @app_commands.command(name="help", description="What genrebot does and how to use it.")
    async def help(self, interaction: discord.Interaction[GenreBot]) -> None:
        embed = discord.Embed(title="genrebot", colour=EMBED_COLOUR, description=texts.INTRO)
        for command in texts.COMMANDS:
            if command.discord:
                embed.add_field(name=command.discord, value=command.text, inline=False)
        await send(interaction, embed=embed, ephemeral=True)


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(HelpCog())
