"""/pool stats shows the bot's operator how the bot process holds the pools; server admins and other
members do not see it (anyone can be an admin of a server they made)."""

from __future__ import annotations

from tests.support.bot_fixtures import MANAGE_GUILD, OTHER_USER_ID, USER_ID, wav_bytes


def footer(reply) -> str:
    return (reply.message["embeds"][0].get("footer") or {}).get("text", "")


async def test_the_operator_alone_sees_the_pool_cache_under_pool_stats(make_bot) -> None:
    harness = await make_bot()
    harness.bot.owner_id = USER_ID  # what discord.py learns from the application's information
    await harness.command("classify", file=harness.upload("a.wav", wav_bytes(220)))
    _, for_operator = await harness.command("pool", subcommand="stats", permissions=MANAGE_GUILD)
    _, for_admin = await harness.command("pool", subcommand="stats", user_id=OTHER_USER_ID, permissions=MANAGE_GUILD)
    _, for_member = await harness.command("pool", subcommand="stats", user_id=OTHER_USER_ID)
    assert footer(for_operator).startswith("Pool cache of this bot process: 1 server pool(s)")
    assert footer(for_admin) == footer(for_member) == ""
