"""Listening together on Discord, through the real command tree: /taste member:, /journey, /pool map,
this week in /pool stats, and the first-day menu under the server's mix."""

from __future__ import annotations

from storage import EventKind
from tests.support.bot_fixtures import GUILD_ID, OTHER_USER_ID, USER_ID, share
from tests.support.discord_harness import MemberOption

THIRD_USER_ID = 700_000_000_000_000_009


async def test_taste_member_compares_two_tastes_with_a_chart_and_songs_for_you(make_bot):
    harness = await make_bot()
    await share(harness, USER_ID, 220, 230, 240)
    await share(harness, OTHER_USER_ID, 240, 500, 600, 700)

    defer, reply = await harness.command("taste", member=MemberOption(OTHER_USER_ID))

    assert defer.response_type == 5 and not reply.ephemeral
    assert "Compatibility with user3: **" in reply.text and "genres " in reply.text
    assert "You share: " in reply.text and "Where you differ: " in reply.text
    assert "Songs from user3 you would probably like: " in reply.text and "user3 shared it · " in reply.text
    assert "`#1`" not in reply.text.split("probably like")[1]  # my own songs are not suggested to me
    assert reply.files == ["genres.png"]


async def test_taste_member_refusals(make_bot):
    harness = await make_bot()
    await share(harness, USER_ID, 220)

    (stranger,) = await harness.command("taste", member=MemberOption(THIRD_USER_ID, in_server=False))
    *_, myself = await harness.command("taste", member=MemberOption(USER_ID))
    *_, silent = await harness.command("taste", member=MemberOption(OTHER_USER_ID))
    *_, newcomer = await harness.command("taste", user_id=THIRD_USER_ID, member=MemberOption(USER_ID))

    assert stranger.ephemeral and "user9 is not a member of this server" in stranger.text
    assert myself.ephemeral and myself.text.startswith("That's you")
    assert silent.ephemeral and silent.text.startswith("That member has no listening history in this server")
    assert newcomer.ephemeral and newcomer.text.startswith("You have no listening history in this server yet")


async def test_a_forgotten_member_cannot_be_compared_with(make_bot):
    harness = await make_bot()
    await share(harness, USER_ID, 220)
    await share(harness, OTHER_USER_ID, 300)
    await harness.services.store.forget_user(OTHER_USER_ID)

    *_, reply = await harness.command("taste", member=MemberOption(OTHER_USER_ID))

    assert reply.ephemeral and "That member has no listening history" in reply.text


async def test_journey_lists_the_songs_from_one_to_the_other(make_bot):
    harness = await make_bot()
    await share(harness, USER_ID, *range(200, 800, 50))

    defer, reply = await harness.command("journey", **{"from": 1, "to": 12, "steps": 5})

    assert defer.response_type == 5 and not reply.ephemeral
    lines = reply.message["embeds"][0]["description"].splitlines()
    assert lines[0].startswith("**1.** `#1` ") and lines[-1].startswith(f"**{len(lines)}.** `#12` ")
    assert 2 <= len(lines) <= 5 and "Steps: Journey of " in reply.text


async def test_journey_refusals(make_bot):
    harness = await make_bot()
    await share(harness, USER_ID, 220)

    *_, same = await harness.command("journey", **{"from": 1, "to": 1})
    *_, unknown = await harness.command("journey", **{"from": 1, "to": 42})

    assert same.ephemeral and "A journey goes from one song to another: song #1 is both ends" in same.text
    assert unknown.ephemeral and "Song #42 is not in this server's pool" in unknown.text


async def test_pool_map_posts_a_picture_of_the_pool(make_bot):
    harness = await make_bot()
    *_, empty = await harness.command("pool", subcommand="map")
    assert empty.ephemeral and "song pool is empty, so there is no map yet" in empty.text

    await share(harness, USER_ID, 220)
    _, one = await harness.command("pool", subcommand="map")
    assert one.files == ["map.png"] and "1 song(s)" in one.text and "Yours are ringed (1)" in one.text

    await share(harness, OTHER_USER_ID, 300, 400)
    _, jazz = await harness.command("pool", subcommand="map", genre="jazz")
    *_, polka = await harness.command("pool", subcommand="map", genre="polka")
    assert jazz.files == ["map.png"] and "The songs of jazz are in colour." in jazz.text
    assert polka.ephemeral and "I don't know the genre `polka`" in polka.text


async def test_pool_stats_shows_this_week_and_forgets_who_asked_to_be(make_bot):
    harness = await make_bot()
    (_, quiet) = await harness.command("pool", subcommand="stats")
    await share(harness, USER_ID, 220, 230)
    await share(harness, OTHER_USER_ID, 300)

    _, stats = await harness.command("pool", subcommand="stats")

    assert "This week: " in stats.text and "3 event(s), 3 of them shares, listens and likes" in stats.text
    assert "Rising this week: " in stats.text
    assert f"Most active this week: <@{USER_ID}> (2), <@{OTHER_USER_ID}> (1)" in stats.text
    await harness.services.store.forget_user(OTHER_USER_ID)
    _, after = await harness.command("pool", subcommand="stats")
    assert f"Most active this week: <@{USER_ID}> (2)\n" in after.text + "\n" and f"<@{OTHER_USER_ID}>" not in after.text


async def test_a_first_day_gets_the_servers_mix_and_a_menu_to_start_a_taste(make_bot):
    harness = await make_bot()
    await share(harness, OTHER_USER_ID, *range(200, 700, 50))

    _, mix = await harness.command("playlist", user_id=USER_ID, count=3)

    assert "The server's mix for user2" in mix.text and "I don't know your taste yet" in mix.text
    assert "A first day: Start your taste" in mix.text
    assert mix.custom_ids()[-1] == "genrebot:starter"
    menu = mix.message["components"][-1]["components"][0]
    assert 1 <= len(menu["options"]) <= 5
    picked = [option["value"] for option in menu["options"][:2]]
    message = harness.recorder.last_message_with("genrebot:starter")

    (liked,) = await harness.click(message, "genrebot:starter", values=picked)

    assert liked.ephemeral and liked.text.startswith("👍 Liked: ") and "Your taste has begun" in liked.text
    events = await harness.services.store.listen_events(GUILD_ID, USER_ID)
    assert [(event.kind, str(event.song_id)) for event in events] == [(EventKind.LIKED, value) for value in picked]
    _, own = await harness.command("playlist", user_id=USER_ID, count=3)
    assert "Playlist for user2" in own.text and "genrebot:starter" not in own.custom_ids()
