"""Every reply goes out through :func:`send`, fitted to Discord's limits (``cogs.fit``), and every
failure a Discord user meets becomes an ephemeral reply: discord.py's own errors are mapped here,
everything else by the core's ``bot.errors.user_message``, with what the member typed shown
literally."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.errors import NotInServerError, user_message
from cogs import fit
from cogs.markdown import literal, quoted

log = logging.getLogger("genrebot.discord")

T = TypeVar("T")


def discord_message(error: BaseException) -> str:
    """What to tell the user about ``error``: discord.py's command errors (checks, cooldowns, bad
    option values, a command's own exception wrapped in CommandInvokeError), then the core's mapping."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Easy there! You can do that again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.NoPrivateMessage):
        return str(NotInServerError())
    if isinstance(error, app_commands.MissingPermissions):
        return "Only server admins (Manage Server permission) can do that."
    if isinstance(error, app_commands.TransformerError):
        return f"{literal(fit.cut(str(error.value), 100))} isn't a valid value there."
    return user_message(error, literal, quoted)


async def send(
    interaction: discord.Interaction, content: str | None = None, *, stored: str | None = None, **options: Any
) -> None:
    """Reply: as the interaction's response, or as a follow-up once it is deferred or answered, with
    ``content`` and ``options["embed"]`` fitted to Discord's limits (``cogs.fit``). ``stored``: what
    the action already stored, said plainly if Discord refuses the reply all the same, so a member
    never reads that something went wrong about an action that was done."""
    message = {**options, **fit.message(content, options.pop("embed", None))}
    respond = interaction.followup.send if interaction.response.is_done() else interaction.response.send_message
    try:
        await respond(**message)
    except discord.HTTPException as error:
        if stored is None:
            raise
        log.warning("reply refused; saying what was stored", extra={"interaction": interaction.id, "error": str(error)})
        await respond(content=fit.cut(stored, fit.CONTENT), ephemeral=bool(options.get("ephemeral")))


async def send_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer any failure with an ephemeral message, whatever state the interaction is in.

    A public "thinking…" placeholder is deleted first, so the error is seen only by the user and no
    dead "is thinking" message stays in the channel."""
    message = fit.cut(discord_message(error), fit.CONTENT)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                pass
        await interaction.followup.send(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message", extra={"interaction": interaction.id})


def replies_errors(callback: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T | None]]:
    """For component callbacks (buttons, selects), which the command tree's error handler does not
    cover: any exception becomes an ephemeral reply instead of a silent "interaction failed"."""

    @functools.wraps(callback)
    async def wrapper(self: Any, interaction: discord.Interaction, *args: Any) -> T | None:
        try:
            return await callback(self, interaction, *args)
        except Exception as error:  # noqa: BLE001 - mapped to a message in discord_message
            await send_error(interaction, error)
            return None

    return wrapper
