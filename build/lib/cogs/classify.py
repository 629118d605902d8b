"""``/classify``: a song's genre distribution, and buttons to keep it or find more like it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.errors import NoAudioGivenError
from bot.services import AudioInput, Classified, check_upload
from cogs.common import (
    CHART_NAME,
    EMBED_COLOUR,
    caller_of,
    chart_file,
    is_admin,
    replies_errors,
    services_of,
    song_line,
)
from storage import EventKind


def classify_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown | None:
    """One classification per user per ``cooldown_s`` (configurable, 0 = none)."""
    seconds = services_of(interaction).config.cooldown_s
    return app_commands.Cooldown(1, seconds) if seconds > 0 else None


class _SongButton(discord.ui.DynamicItem[discord.ui.Button], template=r"genrebot:(?P<action>\w+):(?P<song>\d+)"):
    """Buttons under a classification. The song id lives in the custom id, so they keep working
    after a restart without any state held in memory."""

    LABELS = {
        "history": ("Add to my history", "🎧", discord.ButtonStyle.secondary),
        "pool": ("Add to server pool", "➕", discord.ButtonStyle.secondary),
        "similar": ("More like this", "🔎", discord.ButtonStyle.primary),
    }

    def __init__(self, action: str, song_id: int) -> None:
        label, emoji, style = self.LABELS[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style,
                                           custom_id=f"genrebot:{action}:{song_id}"))
        self.action = action
        self.song_id = song_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> _SongButton:
        if match["action"] not in cls.LABELS:
            raise ValueError(f"unknown song action {match['action']!r}")
        return cls(match["action"], int(match["song"]))

    @replies_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        caller = caller_of(interaction)
        services = services_of(interaction)
        if self.action == "history":
            (song,) = await services.mark(caller, [self.song_id], EventKind.LISTENED)
            await interaction.response.send_message(f"Added {song_line(song)} to your history.", ephemeral=True)
        elif self.action == "pool":
            song = await services.add_to_pool(caller, self.song_id, is_admin=is_admin(interaction))
            await interaction.response.send_message(f"{song_line(song)} is now in the server pool.", ephemeral=True)
        else:
            similar = await services.similar(caller.guild_id, self.song_id)
            lines = [f"{song_line(found.song)} · similarity {found.similarity:.2f}" for found in similar]
            await interaction.response.send_message(
                "\n".join(lines) or "There are no other songs in this server's pool yet.", ephemeral=True)


def classified_view(song_id: int, in_pool: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in ("history", "similar") if in_pool else ("history", "pool", "similar"):
        view.add_item(_SongButton(action, song_id))
    return view


def classified_embed(result: Classified, shared_by: discord.abc.User) -> discord.Embed:
    song = result.song
    top = result.probabilities[result.genre]
    embed = discord.Embed(title=song.title, colour=EMBED_COLOUR,
                          description=f"Sounds like **{result.genre}** ({100 * top:.0f}%).")
    embed.add_field(name="Top genres", value=render.mix_summary(result.probabilities), inline=False)
    embed.add_field(name="Duration", value=render.duration(song.duration_s))
    embed.add_field(name="Song", value=f"`#{song.id}`" + ("" if song.in_pool else " (not in the pool)"))
    if not result.new:
        embed.add_field(name="Seen before", value="This audio was already shared here.")
    embed.set_image(url=f"attachment://{CHART_NAME}")
    embed.set_footer(text=f"Shared by {shared_by.display_name}")
    return embed


def _answer_url(interaction: discord.Interaction, callback: discord.InteractionCallbackResponse | None) -> str | None:
    """Link to the message the answer will be (the deferred response becomes it): where the song was
    shared, for playlists to link back to."""
    if callback is None or callback.message_id is None or interaction.channel is None:
        return None
    return interaction.channel.get_partial_message(callback.message_id).jump_url


class ClassifyCog(commands.Cog):
    @app_commands.command(name="classify", description="Find the genre of a song (attach a file or give a link).")
    @app_commands.describe(file="an audio file: mp3, ogg, wav, flac, m4a, opus…",
                           url="a link to a song page or an audio file")
    @app_commands.guild_only()
    @app_commands.checks.dynamic_cooldown(classify_cooldown)
    async def classify(self, interaction: discord.Interaction, file: discord.Attachment | None = None,
                       url: str | None = None) -> None:
        services = services_of(interaction)
        caller = caller_of(interaction)
        if (file is None) == (url is None):
            raise NoAudioGivenError()
        if file is not None:  # refuse before downloading anything
            check_upload(file.filename, file.content_type, file.size, services.config.max_attachment_bytes)
        message_url = _answer_url(interaction, await interaction.response.defer(thinking=True))
        if file is not None:
            audio = AudioInput(await file.read(), Path(file.filename).stem)
        else:
            audio = await services.fetch_link(url)
        result = await services.classify(caller, dataclasses.replace(audio, message_url=message_url))
        chart = await chart_file(result.probabilities, result.song.title)
        await interaction.followup.send(embed=classified_embed(result, interaction.user), file=chart,
                                        view=classified_view(result.song.id, result.song.in_pool))


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(_SongButton)
    await bot.add_cog(ClassifyCog())
