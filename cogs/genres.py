"""Genres a server teaches: ``/genre teach|forget|list|role``."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import texts
from bot.errors import NotTeacherError
from bot.services import Services
from bot.teaching import quality_text
from cogs import fit
from cogs.client import GenreBot
from cogs.common import (
    EMBED_COLOUR,
    autocomplete_choices,
    caller_of,
    is_admin,
    song_line,
)
from cogs.markdown import literal
from cogs.replies import send
from storage.validation import MAX_LABEL_CHARS


def member_roles(interaction: discord.Interaction) -> list[int]:
    return [role.id for role in getattr(interaction.user, "roles", ())]


@app_commands.guild_only()
class GenreCog(commands.GroupCog, group_name="genre", group_description="Genres this server teaches me."):
    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    @app_commands.command(name="teach", description="Label a pool song with one of this server's own genres.")
    @app_commands.describe(
        song="the song's number, as shown after # in /playlist or /classify",
        label="the genre, e.g. synthwave, lo-fi, k-pop",
    )
    async def teach(
        self,
        interaction: discord.Interaction[GenreBot],
        song: app_commands.Range[int, 1],
        label: app_commands.Range[str, 1, MAX_LABEL_CHARS],
    ) -> None:
        caller = caller_of(interaction)
        teaching = self.services.teaching
        if not await teaching.may_teach(
            caller.server_id, is_admin=is_admin(interaction), roles=member_roles(interaction)
        ):
            raise NotTeacherError()  # before deferring, so the refusal is a plain private reply
        await interaction.response.defer(ephemeral=True, thinking=True)
        taught = await teaching.teach(
            caller.server_id,
            caller.user_id,
            song,
            label,
            is_admin=is_admin(interaction),
            roles=member_roles(interaction),
        )
        label = literal(taught.quality.label)
        await send(
            interaction,
            f"Taught: {song_line(taught.song)} is **{label}** ({quality_text(taught.quality)}).",
            ephemeral=True,
            stored=f"Taught: song #{taught.song.id} is {label}.",
        )

    @app_commands.command(name="forget", description="Forget one of the genres this server taught.")
    async def forget(
        self, interaction: discord.Interaction[GenreBot], label: app_commands.Range[str, 1, MAX_LABEL_CHARS]
    ) -> None:
        caller = caller_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        removed = await self.services.teaching.forget(
            caller.server_id, label, is_admin=is_admin(interaction), roles=member_roles(interaction)
        )
        await send(
            interaction,
            f"Forgot the genre **{literal(label.lower())}** ({removed} example(s)).",
            ephemeral=True,
            stored=f"Forgot the genre {literal(label.lower())}.",
        )

    @forget.autocomplete("label")
    async def _labels(self, interaction: discord.Interaction[GenreBot], current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        known = tuple(quality.label for quality in await self.services.teaching.labels(interaction.guild_id))
        return autocomplete_choices(known, current)

    @app_commands.command(name="list", description="The genres this server taught, with examples and accuracy.")
    async def list(self, interaction: discord.Interaction[GenreBot]) -> None:
        qualities = await self.services.teaching.labels(caller_of(interaction).server_id)
        embed = discord.Embed(
            title="Genres this server taught",
            colour=EMBED_COLOUR,
            description=fit.lines(texts.label_lines(qualities, literal), fit.DESCRIPTION),
        )
        await send(interaction, embed=embed)

    @app_commands.command(name="role", description="The role whose members may teach genres (admins).")
    @app_commands.describe(role="leave out to let only admins teach")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def role(self, interaction: discord.Interaction[GenreBot], role: discord.Role | None = None) -> None:
        settings = await self.services.set_teacher_role(
            caller_of(interaction).server_id, None if role is None else role.id
        )
        who = f"admins and members with <@&{settings.teacher_role}>" if settings.teacher_role else "only admins"
        await send(interaction, f"Now {who} can teach genres.", ephemeral=True, stored=f"Now {who} can teach genres.")


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(GenreCog(bot.services))
