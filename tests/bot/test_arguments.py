"""Counts, pages and song ids are checked by the services (bot.arguments), whichever front end asks:
the console passes what was typed, and discord.py passes any integer a client sends."""

from __future__ import annotations

import io

import pytest

from bot.arguments import MAX_MARKED_SONGS, check_history_page, check_song_ids
from bot.errors import OutOfRangeError, TooManySongsError, UnknownSongsError
from bot.services import Caller
from console.repl import Console
from storage import EventKind
from storage.errors import UnknownSongError
from tests.support.bot_fixtures import GUILD_ID, MANAGE_GUILD, USER_ID, share, wav_bytes

HUGE = 99999999999999999999  # beyond SQLite's 64-bit integers: an OverflowError before


@pytest.mark.parametrize(
    ("count", "page"), [(0, 1), (-1, 1), (26, 1), (HUGE, 1), (10, 0), (10, -1), (10, HUGE), (True, 1), (2.5, 1)]
)
def test_history_counts_and_pages_out_of_range_are_refused(count, page):
    with pytest.raises(OutOfRangeError) as refused:
        check_history_page(count, page)
    assert refused.value.low == 1 and str(refused.value.value) in str(refused.value)


def test_history_page_to_limit_and_offset():
    assert check_history_page(10, 1) == (10, 0)
    assert check_history_page(25, 3) == (25, 50)


def test_song_ids():
    assert check_song_ids(GUILD_ID, [3, 1, 3]) == [3, 1]
    for bad in (0, -4, HUGE):
        with pytest.raises(UnknownSongError) as unknown:
            check_song_ids(GUILD_ID, [2, bad])
        assert unknown.value.song_id == bad
    with pytest.raises(TooManySongsError) as too_many:
        check_song_ids(GUILD_ID, list(range(1, MAX_MARKED_SONGS + 2)))
    assert (too_many.value.count, too_many.value.limit) == (MAX_MARKED_SONGS + 1, MAX_MARKED_SONGS)
    with pytest.raises(OutOfRangeError):
        check_song_ids(GUILD_ID, [])


async def console_output(services, *lines: str) -> str:
    stdout = io.StringIO()
    await Console(services, io.StringIO("\n".join(lines) + "\n"), stdout).run()
    return stdout.getvalue()


async def test_console_refuses_absurd_numbers(make_services, tmp_path):
    services = await make_services()
    song = tmp_path / "song.wav"
    song.write_bytes(wav_bytes(440))

    out = await console_output(
        services,
        f"/classify {song}",
        f"/history {HUGE}",
        "/history 0",
        "/history -1",
        "/history 10 0",
        "/history 10 2",
        "/like 1 999",
        f"/more {HUGE}",
        "/pool remove 0",
        "/history",
    )

    assert f"⚠ The number of history entries must be a whole number from 1 to 25 (got {HUGE})." in out
    assert "(got 0)." in out and "(got -1)." in out
    assert "⚠ The page must be a whole number from 1 to 10000 (got 0)." in out
    assert "Page 2 of your history is empty: it has fewer entries than that." in out
    assert "⚠ Song #999 is not in this server's pool (it may have been removed), so nothing was marked." in out
    assert f"⚠ Song #{HUGE} is not in this server's pool" in out
    assert "⚠ Song #0 is not in this server's pool" in out
    assert "Traceback" not in out and "Overflow" not in out
    kinds = [entry.event.kind for entry in await services.history(Caller(1, Console(services).caller.user_id))]
    assert kinds == [EventKind.SHARED]  # /like 1 999 marked nothing


async def test_discord_history_refuses_what_the_option_range_does_not_stop(make_bot):
    harness = await make_bot()
    await share(harness, USER_ID, 220)

    (huge,) = await harness.command("history", count=HUGE)
    (zero,) = await harness.command("history", count=0)
    (page,) = await harness.command("history", page=-1)
    (past_the_end,) = await harness.command("history", page=3)

    assert huge.ephemeral and f"from 1 to 25 (got {HUGE})" in huge.text
    assert zero.ephemeral and "(got 0)" in zero.text
    assert page.ephemeral and "The page must be a whole number from 1 to 10000 (got -1)" in page.text
    assert "Page 3 of your history is empty" in past_the_end.text


async def test_discord_marking_with_an_unknown_song_marks_nothing(make_bot):
    harness = await make_bot()
    await share(harness, USER_ID + 1, 220, 330)
    await harness.command("playlist", count=2)
    message = harness.recorder.last_message_with("genrebot:mark:")

    (reply,) = await harness.click(message, "genrebot:mark:liked", values=["1", "999"])

    assert reply.ephemeral and "Song #999 is not in this server's pool" in reply.text
    history = await harness.services.history(Caller(GUILD_ID, USER_ID))
    assert history == []
    with pytest.raises(UnknownSongsError) as unknown:
        await harness.services.mark(Caller(GUILD_ID, USER_ID), [1, 998, 999], EventKind.LIKED)
    assert unknown.value.song_ids == (998, 999) and "Songs #998, #999 are not" in str(unknown.value)


async def test_discord_pool_remove_of_an_impossible_id(make_bot):
    harness = await make_bot()

    (reply,) = await harness.command("pool", subcommand="remove", song=HUGE, permissions=MANAGE_GUILD)

    assert reply.ephemeral and f"Song #{HUGE} is not in this server's pool" in reply.text
