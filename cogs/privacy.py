"""``/forget``: delete everything the bot stores about the user, after a confirmation."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.services import Caller, Services
from cogs.client import GenreBot
from cogs.common import caller_anywhere
from cogs.replies import replies_errors, send


class ForgetConfirmation(discord.ui.View):
    """Two buttons on an ephemeral message, so only the user who asked can press them."""

    def __init__(self, services: Services, caller: Caller, remove_shared_songs: bool) -> None:
        super().__init__(timeout=120)
        self.services = services
        self.caller = caller
        self.remove_shared_songs = remove_shared_songs

    @discord.ui.button(label="Yes, forget me", style=discord.ButtonStyle.danger)
    @replies_errors
    async def confirm(self, interaction: discord.Interaction[GenreBot], button: discord.ui.Button) -> None:
        self.stop()
        report = await self.services.forget(self.caller, remove_shared_songs=self.remove_shared_songs)
        songs = (
            f"{report.songs_removed} song(s) you shared were removed from the pools."
            if self.remove_shared_songs
            else f"{report.songs_anonymised} song(s) you shared stay in the pools without your name."
        )
        await interaction.response.edit_message(
            content=f"Done: {report.events} listening event(s) and your settings are deleted. {songs}", view=None
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[GenreBot], button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


class PrivacyCog(commands.Cog):
    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name="forget", description="Delete everything genrebot stores about you.")
    @app_commands.describe(delete_my_songs="also remove the songs you shared from the server pools")
    async def forget(self, interaction: discord.Interaction[GenreBot], delete_my_songs: bool = False) -> None:
        what = "your listening history, ratings and settings in every server"
        if delete_my_songs:
            what += ", and the songs you shared"
        await send(
            interaction,
            f"This deletes {what}. It cannot be undone. Continue?",
            view=ForgetConfirmation(self.services, caller_anywhere(interaction), delete_my_songs),
            ephemeral=True,
        )


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(PrivacyCog(bot.services))
