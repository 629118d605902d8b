"""``/classify``: a song's genre distribution, and buttons to keep it or find more like it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot import render, texts
from bot.errors import NoAudioGivenError
from bot.jobs.threads import Place
from bot.services import AudioInput, Classified, Services, check_upload
from cogs import fit
from cogs.client import GenreBot
from cogs.common import (
    EMBED_COLOUR,
    caller_of,
    chart_file,
    is_admin,
    reply_similar,
    song_line,
    with_chart,
)
from cogs.markdown import bold, literal
from cogs.replies import replies_errors, send
from storage import EventKind

log = logging.getLogger("genrebot.discord")


def classify_cooldown(interaction: discord.Interaction[GenreBot]) -> app_commands.Cooldown | None:
    """One classification per user per ``cooldown_s`` (configurable, 0 = none)."""
    seconds = interaction.client.services.config.cooldown_s
    return app_commands.Cooldown(1, seconds) if seconds > 0 else None


class _SongButton(discord.ui.DynamicItem[discord.ui.Button], template=r"genrebot:(?P<action>\w+):(?P<song>\d+)"):
    """Buttons under a classification. The song id lives in the custom id, so they keep working
    after a restart without any state held in memory. discord.py rebuilds them from the custom id,
    so they reach the services through the client (``interaction.client.services``)."""

    LABELS = {
        "history": ("Add to my history", "🎧", discord.ButtonStyle.secondary),
        "pool": ("Add to server pool", "➕", discord.ButtonStyle.secondary),
        "similar": ("More like this", "🔎", discord.ButtonStyle.primary),
    }

    def __init__(self, action: str, song_id: int) -> None:
        label, emoji, style = self.LABELS[action]
        super().__init__(
            discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"genrebot:{action}:{song_id}")
        )
        self.action = action
        self.song_id = song_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[GenreBot], item: discord.ui.Button, match: re.Match[str]
    ) -> _SongButton:
        if match["action"] not in cls.LABELS:
            raise ValueError(f"unknown song action {match['action']!r}")
        return cls(match["action"], int(match["song"]))

    @replies_errors
    async def callback(self, interaction: discord.Interaction[GenreBot]) -> None:
        caller = caller_of(interaction)
        services = interaction.client.services
        if self.action == "history":
            (song,) = await services.mark(caller, [self.song_id], EventKind.LISTENED)
            await send(
                interaction,
                f"Added {song_line(song)} to your history.",
                ephemeral=True,
                stored=f"Added song #{song.id} to your history.",
            )
        elif self.action == "pool":
            song = await services.add_to_pool(caller, self.song_id, is_admin=is_admin(interaction))
            await send(
                interaction,
                f"{song_line(song)} is now in the server pool.",
                ephemeral=True,
                stored=f"Song #{song.id} is now in the server pool.",
            )
        else:
            await reply_similar(interaction, services, caller.server_id, self.song_id)


def classified_view(song_id: int, in_pool: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in ("history", "similar") if in_pool else ("history", "pool", "similar"):
        view.add_item(_SongButton(action, song_id))
    return view


def listed_labels(labels: list[str]) -> str:
    """A server's genres in one embed field: as many as fit, then how many more."""
    return fit.lines([literal(label) for label in labels], fit.FIELD_VALUE, separator=", ")


def classified_embed(result: Classified, shared_by: discord.abc.User) -> discord.Embed:
    song = result.song
    embed = discord.Embed(title=literal(song.title), colour=EMBED_COLOUR, description=texts.verdict(result, bold))
    embed.add_field(
        name="Top genres" if result.confident else "Closest of my ten genres",
        value=render.mix_summary(result.probabilities),
        inline=False,
    )
    for heading, text in texts.tag_lines(result, listed_labels):
        embed.add_field(name=heading, value=text, inline=False)
    embed.add_field(name="Duration", value=render.duration(song.duration_s))
    embed.add_field(name="Song", value=f"`#{song.id}`" + ("" if song.in_pool else " (not in the pool)"))
    if not result.new:
        embed.add_field(name="Seen before", value="This audio was already shared here.")
    embed.set_footer(text=f"Shared by {shared_by.display_name}")
    return embed


def _answer_url(
    interaction: discord.Interaction[GenreBot], callback: discord.InteractionCallbackResponse | None
) -> str | None:
    """Link to the message the answer will be (the deferred response becomes it): where the song was
    shared, for playlists to link back to."""
    if callback is None or callback.message_id is None or interaction.channel is None:
        return None
    return interaction.channel.get_partial_message(callback.message_id).jump_url


# Discord keeps an interaction's token (and so its deferred response) for 15 minutes; a song that
# could not be answered within them, with a minute's margin for the download and the reply, is refused.
INTERACTION_LIFETIME_S = 15 * 60
ANSWER_MARGIN_S = 60
# At most one edit of a waiting user's "You're #7 in line…" message per this many seconds, whatever
# the line does (Discord rate-limits edits per interaction token).
PLACE_EDIT_INTERVAL_S = 3.0


class PlaceInLine:
    """Shows a waiting user their place in line by editing the deferred response: always the latest
    place, at most once per ``interval_s``. Silent for a job that starts at once."""

    def __init__(self, interaction: discord.Interaction, interval_s: float = PLACE_EDIT_INTERVAL_S) -> None:
        self.interaction = interaction
        self.interval_s = interval_s
        self.shown = False
        self._latest: Place | None = None
        self._last_edit = -interval_s
        self._editor: asyncio.Task | None = None
        self._loop = asyncio.get_running_loop()
        self._deadline = self._loop.time() + INTERACTION_LIFETIME_S - ANSWER_MARGIN_S

    def time_left_s(self) -> float:
        """How long a job may still take for its answer to reach the user."""
        return self._deadline - self._loop.time()

    def show(self, place: Place) -> None:
        """The services' ``on_place`` callback (on the event loop)."""
        if place.place == 0 and not self.shown:
            return  # started without waiting: the "thinking…" placeholder says enough
        self._latest = place
        if self._editor is None or self._editor.done():
            self._editor = asyncio.create_task(self._edit())

    async def _edit(self) -> None:
        wait = self._last_edit + self.interval_s - self._loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_edit = self._loop.time()
        self.shown = True  # from now on the answer replaces the placeholder, whether or not this edit lands
        try:
            await self.interaction.edit_original_response(content=texts.place_in_line(self._latest, bold))
        except discord.HTTPException as error:  # a missed update is no reason to fail the command
            log.info("place update failed", extra={"interaction": self.interaction.id, "error": str(error)})

    async def stop(self) -> bool:
        """No more updates (a pending one is dropped); whether the placeholder was ever edited."""
        if self._editor is not None and not self._editor.done():
            self._editor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._editor
        return self.shown


class ClassifyCog(commands.Cog):
    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name="classify", description="Find the genre of a song (attach a file or give a link).")
    @app_commands.describe(
        file="an audio file: mp3, ogg, wav, flac, m4a, opus…", url="a link to a song page or an audio file"
    )
    @app_commands.guild_only()
    @app_commands.checks.dynamic_cooldown(classify_cooldown)
    async def classify(
        self, interaction: discord.Interaction[GenreBot], file: discord.Attachment | None = None, url: str | None = None
    ) -> None:
        services = self.services
        caller = caller_of(interaction)
        if (file is None) == (url is None):
            raise NoAudioGivenError()
        if file is not None:  # refuse before downloading anything
            check_upload(file.size, services.config.max_attachment_bytes)
        message_url = _answer_url(interaction, await interaction.response.defer(thinking=True))
        line = PlaceInLine(interaction)
        try:
            if file is not None:
                audio = AudioInput(await file.read(), Path(file.filename).stem)
            else:
                audio = await services.fetch_link(url, caller, on_place=line.show, max_wait_s=line.time_left_s())
            result = await services.classify(
                caller,
                dataclasses.replace(audio, message_url=message_url),
                on_place=line.show,
                max_wait_s=line.time_left_s(),
            )
        finally:
            shown = await line.stop()
        chart = await chart_file(result.probabilities, result.song.title)
        answer = with_chart(classified_embed(result, interaction.user), chart)
        view = classified_view(result.song.id, result.song.in_pool)
        stored = f"Song #{result.song.id} is classified and stored: {texts.verdict(result)}"
        if shown:  # the placeholder now says "You're #3 in line…": it becomes the answer
            await interaction.edit_original_response(
                content=None, embed=fit.embed(answer["embed"]), attachments=[chart] if chart else [], view=view
            )
        else:
            await send(interaction, view=view, stored=stored, **answer)


async def setup(bot: GenreBot) -> None:
    bot.add_dynamic_items(_SongButton)
    await bot.add_cog(ClassifyCog(bot.services))
