"""Every reply fits Discord's limits with the longest titles, labels and counts the bot accepts, and
what members wrote is shown as itself (issue 23). The harness refuses any body Discord would refuse
(``tests.support.discord_limits``), so a reply that does not fit fails here as it would in Discord."""

from __future__ import annotations

import re

from bot.services import AudioInput, Caller
from cogs import fit
from storage import EventKind
from storage.validation import MAX_LABEL_CHARS, MAX_TITLE_CHARS
from tests.support.bot_fixtures import GUILD_ID, MANAGE_GUILD, OTHER_USER_ID, USER_ID, wav_bytes

# The longest title the store keeps, of characters that each take two of Discord's: markdown that
# is escaped, and emoji outside the basic plane (two UTF-16 units each).
LONGEST_TITLE = ("Cool song](https://evil.example/login) [ $\\frac{$ " + "_😀*" * MAX_TITLE_CHARS)[:MAX_TITLE_CHARS]
# A page title of 240 underscores (issue 23's "More like this").
UNDERSCORES = "_" * 240
# The longest link a song keeps a masked link to (cogs.markdown.MAX_LINK_CHARS).
LONG_LINK = "https://music.example/" + "a" * 270


async def long_titled_songs(services, count: int, title: str = LONGEST_TITLE, *, user_id: int = OTHER_USER_ID):
    """``count`` songs shared by ``user_id`` as links, each titled ``title`` and a number."""
    songs = []
    for n in range(count):
        audio = AudioInput(wav_bytes(200 + 17 * n, seconds=1.0), f"{n} {title}", source_url=f"{LONG_LINK}{n}")
        songs.append((await services.classify(Caller(GUILD_ID, user_id), audio)).song)
    return songs


def nothing_refused(harness) -> None:
    assert [problems for _, problems in harness.recorder.refused] == []


async def test_marking_25_long_titled_songs_liked_fits_and_a_retry_stores_no_like_twice(make_bot) -> None:
    harness = await make_bot()
    await long_titled_songs(harness.services, 25)
    _, playlist = await harness.command("playlist", count=25)
    message = harness.recorder.last_message_with("genrebot:mark:")
    options = message["components"][1]["components"][0]["options"]

    (reply,) = await harness.click(message, "genrebot:mark:liked", values=[o["value"] for o in options])
    (again,) = await harness.click(message, "genrebot:mark:liked", values=[o["value"] for o in options])

    nothing_refused(harness)
    assert len(options) == 25 and reply.ephemeral and reply.text.startswith("👍 Marked liked:")
    assert "more" in reply.text and again.text == reply.text
    likes = [e for e in await harness.services.store.listen_events(GUILD_ID, USER_ID) if e.kind is EventKind.LIKED]
    assert sorted(e.song_id for e in likes) == sorted(int(o["value"]) for o in options)  # 25, each once


async def test_more_like_this_beside_songs_titled_with_240_underscores_fits(make_bot) -> None:
    harness = await make_bot()
    await long_titled_songs(harness.services, 6, UNDERSCORES)
    await harness.command("classify", file=harness.upload("mine.wav", wav_bytes(990)))
    message = harness.recorder.last_message_with("genrebot:similar:")

    (similar,) = await harness.click(message, next(i for i in _custom_ids(message) if ":similar:" in i))

    nothing_refused(harness)
    assert similar.ephemeral and "\\_" * 240 in similar.text  # shown as underscores, not as markdown


async def test_26_taught_genres_of_40_characters_fit_the_server_genres_field_and_the_list(make_bot) -> None:
    harness = await make_bot()
    await harness.command("classify", file=harness.upload("song.wav", wav_bytes(440)))
    labels = [f"{n:02d} " + "synthwave " * 4 for n in range(26)]
    for label in labels:
        await harness.services.teaching.teach(GUILD_ID, USER_ID, 1, label[:MAX_LABEL_CHARS], is_admin=True)

    _, again = await harness.command("classify", file=harness.upload("song.wav", wav_bytes(440)))
    (listed,) = await harness.command("genre", subcommand="list")

    nothing_refused(harness)
    field = next(f for f in again.message["embeds"][0]["fields"] if f["name"] == "Server genres")
    assert field["value"].startswith("00 synthwave") and field["value"].endswith("more")
    assert listed.text.count("synthwa:") == 26  # every label, whole


async def test_every_reply_fits_with_the_longest_titles_labels_and_counts(make_bot) -> None:
    harness = await make_bot(max_taught_labels=50)
    songs = await long_titled_songs(harness.services, 26, user_id=USER_ID)
    for n in range(50):
        label = f"{n:02d} {'drum & bass ' * 4}"[:MAX_LABEL_CHARS]
        await harness.services.teaching.teach(GUILD_ID, USER_ID, songs[n % 5].id, label, is_admin=True)
    await harness.services.mark(Caller(GUILD_ID, USER_ID), [song.id for song in songs[:25]], EventKind.LIKED)

    replies = [
        *await harness.command("playlist", user_id=OTHER_USER_ID, count=25, genre="00 drum & bass drum & bass drum"),
        *await harness.command("history", count=25),
        *await harness.command("taste"),
        *await harness.command("pool", subcommand="stats"),
        *await harness.command("genre", subcommand="list"),
        *await harness.command("pool", subcommand="remove", song=songs[25].id, permissions=MANAGE_GUILD),
        *await harness.command(
            "genre", subcommand="forget", label="49 drum & bass drum & bass drum", permissions=MANAGE_GUILD
        ),
        *await harness.command("help"),
    ]

    nothing_refused(harness)
    assert all("went wrong" not in reply.text for reply in replies)


async def test_a_title_cannot_choose_where_its_link_points(make_bot) -> None:
    harness = await make_bot()
    (song,) = await long_titled_songs(harness.services, 1, "Cool song](https://evil.example/login) [")

    _, playlist = await harness.command("playlist")

    description = playlist.message["embeds"][0]["description"]
    targets = re.findall(r"(?<!\\)\]\(([^)\s]*)\)", description)  # every masked link Discord would render
    assert targets == [song.source_url]
    assert "Cool song\\]\\(https\\://evil.example/login\\) \\[" in description


async def test_a_label_that_is_a_link_is_refused_with_a_sentence_and_nothing_is_taught(make_bot) -> None:
    harness = await make_bot()
    await harness.command("classify", file=harness.upload("song.wav", wav_bytes(440)))

    *_, refused = await harness.command(
        "genre", subcommand="teach", song=1, label="[free nitro](https://evil.example)", permissions=MANAGE_GUILD
    )

    assert refused.ephemeral and "A genre label is a name of 1 to 40 letters, digits, spaces" in refused.text
    assert await harness.services.store.taught_examples(GUILD_ID) == {}


async def test_a_title_that_matplotlib_would_read_as_mathematics_still_gets_its_chart(make_bot) -> None:
    harness = await make_bot()

    _, answer = await harness.command("classify", file=harness.upload("$\\frac{$ money $$$.wav", wav_bytes(440)))

    assert answer.files == ["genres.png"] and answer.message["embeds"][0]["title"].startswith("$\\\\frac{$ money")


def _custom_ids(message: dict) -> list[str]:
    return [component["custom_id"] for row in message["components"] for component in row["components"]]


async def test_what_a_member_typed_stays_inside_the_quote_of_the_error_that_names_it(make_bot) -> None:
    harness = await make_bot()
    await harness.command("classify", file=harness.upload("song.wav", wav_bytes(440)))

    *_, refused = await harness.command("playlist", style="x` [prize](https://e.example) `")

    assert refused.ephemeral and "`x' [prize](https://e.example) '`" in refused.text  # one code span, no link


async def test_a_reply_discord_refuses_after_the_likes_were_stored_says_what_was_stored(make_bot, monkeypatch) -> None:
    harness = await make_bot()
    await long_titled_songs(harness.services, 25)
    await harness.command("playlist", count=25)
    message = harness.recorder.last_message_with("genrebot:mark:")
    values = [o["value"] for o in message["components"][1]["components"][0]["options"]]
    monkeypatch.setattr(fit, "lines", lambda items, limit, separator: separator.join(items))  # nothing cut
    monkeypatch.setattr(fit, "message", lambda content, embed: {"content": content})

    *_, said = await harness.click(message, "genrebot:mark:liked", values=values)

    assert len(harness.recorder.refused) == 1 and said.ephemeral and said.text == "👍 Marked 25 song(s) liked."
