"""/playlist, /variety, /taste, /history and the buttons and menus under their messages."""

from __future__ import annotations

import pytest

from bot.services import Caller
from storage import EventKind
from tests.support.bot_fixtures import GUILD_ID, OTHER_USER_ID, USER_ID, share


async def test_variety_is_validated_by_the_option_range(make_bot):
    harness = await make_bot()
    option = harness.bot.tree.get_command("variety").to_dict(harness.bot.tree)["options"][0]
    assert (option["type"], option["min_value"], option["max_value"]) == (10, 0.0, 1.0)  # Discord enforces it

    (out_of_range,) = await harness.command("variety", value=1.5)  # a client that ignores the range
    assert out_of_range.ephemeral and "1.5" in out_of_range.text
    assert await harness.services.variety(Caller(GUILD_ID, USER_ID)) == 0.25  # unchanged default


async def test_variety_set_and_show(make_bot):
    harness = await make_bot()

    (set_reply,) = await harness.command("variety", value=0.3)
    (show_reply,) = await harness.command("variety")

    assert set_reply.ephemeral and "Variety set to **0.30**" in set_reply.text
    assert "Your variety is **0.30**" in show_reply.text
    assert await harness.services.variety(Caller(GUILD_ID, USER_ID)) == pytest.approx(0.3)


async def test_playlist_with_reasons_links_and_rating_menus(make_bot):
    harness = await make_bot()
    await share(harness, OTHER_USER_ID, 220, 330, 440, 550, 660)
    await share(harness, USER_ID, 770)

    defer, followup = await harness.command("playlist", count=3)

    assert defer.response_type == 5 and not followup.ephemeral
    embed = followup.message["embeds"][0]
    assert embed["title"] == "Playlist for user2"
    lines = [line for line in embed["description"].splitlines() if line.startswith("**")]
    assert len(lines) == 3
    assert all("](https://discord.com/channels/" in line for line in lines)  # links back to where it was shared
    assert "song 770" not in embed["description"]  # never the user's own songs
    assert followup.custom_ids() == ["genrebot:mark:listened", "genrebot:mark:liked", "genrebot:mark:disliked"]

    message = harness.recorder.last_message_with("genrebot:mark:")
    options = message["components"][1]["components"][0]["options"]
    (reply,) = await harness.click(message, "genrebot:mark:liked", values=[options[0]["value"]])

    assert reply.response_type == 4 and reply.ephemeral and "Marked liked" in reply.text
    events = await harness.services.store.listen_events(GUILD_ID, USER_ID)
    assert [(e.kind, e.song_id) for e in events][-1] == (EventKind.LIKED, int(options[0]["value"]))


async def test_playlist_of_an_empty_pool_says_what_to_do(make_bot):
    harness = await make_bot()

    _, followup = await harness.command("playlist")

    assert "pool is empty" in followup.text
    assert followup.custom_ids() == []


async def test_playlist_count_range(make_bot):
    harness = await make_bot()
    option = harness.bot.tree.get_command("playlist").to_dict(harness.bot.tree)["options"][0]
    assert (option["min_value"], option["max_value"]) == (1, 25)


async def test_taste_chart_and_empty_taste(make_bot):
    harness = await make_bot()
    _, empty = await harness.command("taste")
    assert "No taste profile yet" in empty.text and empty.files == []

    await share(harness, USER_ID, 220, 330)
    _, taste = await harness.command("taste")

    assert "from 2 song(s)" in taste.text and taste.files == ["genres.png"]


async def test_history_lists_own_events_only(make_bot):
    harness = await make_bot()
    await share(harness, USER_ID, 220)
    await share(harness, OTHER_USER_ID, 330)

    (reply,) = await harness.command("history")

    assert reply.ephemeral and "shared" in reply.text and "song 220" in reply.text and "song 330" not in reply.text


async def test_more_like_this_and_add_to_history_buttons(make_bot):
    harness = await make_bot()
    await share(harness, OTHER_USER_ID, 220, 330, 440)
    message = harness.recorder.last_message_with("genrebot:similar:")

    (similar,) = await harness.click(message, "genrebot:similar:3")
    (added,) = await harness.click(message, "genrebot:history:3")

    assert similar.ephemeral and "similarity" in similar.text and similar.text.count("`#") == 2
    assert added.ephemeral and "to your history" in added.text
    (event,) = await harness.services.store.listen_events(GUILD_ID, USER_ID)
    assert (event.kind, event.song_id) == (EventKind.LISTENED, 3)


async def test_button_for_a_removed_song(make_bot):
    harness = await make_bot()
    await share(harness, OTHER_USER_ID, 220)
    message = harness.recorder.last_message_with("genrebot:history:")
    await harness.services.remove_from_pool(GUILD_ID, 1)

    (reply,) = await harness.click(message, "genrebot:history:1")

    assert reply.ephemeral and "not in this server's pool" in reply.text
