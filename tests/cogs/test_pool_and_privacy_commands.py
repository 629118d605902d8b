"""/pool (stats and the admin subcommands), auto-indexing of opted-in channels, /forget, /help."""

from __future__ import annotations

import asyncio

import discord

from tests.support.bot_fixtures import (
    GUILD_ID,
    MANAGE_GUILD,
    OTHER_USER_ID,
    USER_ID,
    wav_bytes,
)
from tests.support.discord_harness import CHANNEL_ID, settle, snowflake, user_payload


def guild_payload() -> dict:
    """GUILD_CREATE for the test server, so the client knows the channel messages arrive in."""
    return {
        "id": str(GUILD_ID),
        "name": "server",
        "owner_id": str(OTHER_USER_ID),
        "channels": [{"id": str(CHANNEL_ID), "type": 0, "name": "music", "position": 0}],
        "roles": [],
        "members": [],
        "member_count": 2,
        "unavailable": False,
    }


def message_payload(attachment: dict) -> dict:
    """MESSAGE_CREATE of a member posting a file in the test channel."""
    return {
        "id": str(snowflake()),
        "channel_id": str(CHANNEL_ID),
        "guild_id": str(GUILD_ID),
        "author": user_payload(OTHER_USER_ID),
        "content": "",
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [attachment],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }


async def test_pool_stats(make_bot):
    harness = await make_bot()
    (_, empty) = await harness.command("pool", subcommand="stats")
    assert "**0** song(s)" in empty.text and empty.files == []

    await harness.command("classify", file=harness.upload("a.wav", wav_bytes(220)))
    _, stats = await harness.command("pool", subcommand="stats")

    assert "**1** song(s)" in stats.text and f"<@{USER_ID}> (1)" in stats.text
    assert stats.files == ["genres.png"]
    assert stats.message["allowed_mentions"] == {"parse": []}  # listing contributors pings nobody


async def test_pool_remove_needs_manage_server(make_bot):
    harness = await make_bot()
    await harness.command("classify", file=harness.upload("a.wav", wav_bytes(220)))
    remove = harness.bot.tree.get_command("pool").get_command("remove")
    assert remove.default_permissions.manage_guild  # hidden from members in Discord's UI

    (refused,) = await harness.command("pool", subcommand="remove", user_id=OTHER_USER_ID, song=1)
    assert refused.ephemeral and "Only server admins" in refused.text
    assert await harness.services.store.pool_size(GUILD_ID) == 1

    (done,) = await harness.command(
        "pool", subcommand="remove", user_id=OTHER_USER_ID, song=1, permissions=MANAGE_GUILD
    )
    assert done.ephemeral and "Removed" in done.text and "a" in done.text
    assert await harness.services.store.pool_size(GUILD_ID) == 0

    (unknown,) = await harness.command("pool", subcommand="remove", song=99, permissions=MANAGE_GUILD)
    assert unknown.ephemeral and "Song #99 is not in this server's pool" in unknown.text


async def test_auto_pool_off_keeps_songs_out_until_added(make_bot):
    harness = await make_bot()
    (reply,) = await harness.command("pool", subcommand="auto", enabled=False, permissions=MANAGE_GUILD)
    assert "Auto-pool is off" in reply.text

    _, classified = await harness.command("classify", file=harness.upload("a.wav", wav_bytes(220)))
    assert classified.custom_ids() == ["genrebot:history:1", "genrebot:pool:1", "genrebot:similar:1"]
    assert await harness.services.store.pool_size(GUILD_ID) == 0
    message = harness.recorder.last_message_with("genrebot:pool:")

    (stranger,) = await harness.click(message, "genrebot:pool:1", user_id=OTHER_USER_ID)
    (sharer,) = await harness.click(message, "genrebot:pool:1", user_id=USER_ID)

    assert stranger.ephemeral and "Only the person who shared" in stranger.text
    assert sharer.ephemeral and "is now in the server pool" in sharer.text
    assert await harness.services.store.pool_size(GUILD_ID) == 1


async def test_uploads_in_opted_in_channels_are_indexed(make_bot):
    harness = await make_bot()
    state = harness.bot._connection
    state.parse_guild_create(guild_payload())
    (opted_in,) = await harness.command(
        "pool", subcommand="channel", channel=discord.Object(CHANNEL_ID), enabled=True, permissions=MANAGE_GUILD
    )
    assert opted_in.ephemeral and f"<#{CHANNEL_ID}> will be added" in opted_in.text
    song = harness.upload("posted.wav", wav_bytes(880))
    message = message_payload(song)

    earlier = asyncio.all_tasks()
    state.parse_message_create(message)
    await settle(earlier)

    stored = await harness.services.store.get_song(GUILD_ID, 1)
    assert stored.in_pool and stored.added_by == OTHER_USER_ID and stored.message_url.endswith(message["id"])
    download, reaction = harness.rest
    assert download.path == song["url"]
    assert reaction.method == "PUT" and f"/channels/{CHANNEL_ID}/messages/{message['id']}/reactions/" in reaction.path


async def test_uploads_elsewhere_are_ignored(make_bot):
    harness = await make_bot()
    state = harness.bot._connection
    state.parse_guild_create(guild_payload())
    message = message_payload(harness.upload("posted.wav", wav_bytes(880)))

    earlier = asyncio.all_tasks()
    state.parse_message_create(message)
    await settle(earlier)

    assert await harness.services.store.pool_size(GUILD_ID) == 0 and harness.rest == []


async def test_forget_asks_then_deletes(make_bot):
    harness = await make_bot()
    await harness.command("classify", file=harness.upload("a.wav", wav_bytes(220)))

    (ask,) = await harness.command("forget")
    assert ask.ephemeral and "cannot be undone" in ask.text
    confirm_id, cancel_id = ask.custom_ids()
    message = harness.recorder.messages[max(harness.recorder.messages)]

    (cancelled,) = await harness.click(message, cancel_id)
    assert cancelled.response_type == 7 and "Nothing was deleted" in cancelled.text  # UPDATE_MESSAGE
    assert await harness.services.store.listen_events(GUILD_ID, USER_ID)

    (ask,) = await harness.command("forget")
    message = harness.recorder.messages[max(harness.recorder.messages)]
    (done,) = await harness.click(message, ask.custom_ids()[0])

    assert done.response_type == 7 and "1 listening event(s)" in done.text
    assert done.message["components"] == []
    assert await harness.services.store.listen_events(GUILD_ID, USER_ID) == []
    assert (await harness.services.store.get_song(GUILD_ID, 1)).added_by is None  # song stays, anonymised


async def test_forget_someone_never_seen(make_bot):
    harness = await make_bot()
    (ask,) = await harness.command("forget", guild_id=None)
    message = harness.recorder.messages[max(harness.recorder.messages)]

    (reply,) = await harness.click(message, ask.custom_ids()[0], guild_id=None)

    assert reply.ephemeral and "anything stored about you" in reply.text


async def test_help(make_bot):
    harness = await make_bot()

    (reply,) = await harness.command("help", guild_id=None)

    assert reply.ephemeral
    assert all(
        name in reply.text
        for name in (
            "/classify",
            "/playlist",
            "/variety",
            "/taste",
            "/history",
            "/forget",
            "/pool stats",
            "/radio start [variety]",
            "/skip · /nowplaying · /queue",
        )
    )
