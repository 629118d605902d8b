"""/pool stats shows server admins how the bot process holds the pools; other members do not see it."""

from __future__ import annotations

from tests.support.bot_fixtures import MANAGE_GUILD, OTHER_USER_ID, wav_bytes


def footer(reply) -> str:
    return (reply.message["embeds"][0].get("footer") or {}).get("text", "")


async def test_admins_see_the_pool_cache_under_pool_stats(make_bot) -> None:
    harness = await make_bot()
    await harness.command("classify", file=harness.upload("a.wav", wav_bytes(220)))
    _, for_admin = await harness.command("pool", subcommand="stats", permissions=MANAGE_GUILD)
    _, for_member = await harness.command("pool", subcommand="stats", user_id=OTHER_USER_ID)
    assert footer(for_admin).startswith("Pool cache of this bot process: 1 server pool(s)")
    assert footer(for_member) == ""
