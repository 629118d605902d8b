"""The README's examples and tables are what genrebot says and is: the console transcript (README)
and the Discord examples (``docs/discord.md``) are re-run with the shipped model on a fresh database
and compared, leaving out what depends on chance or on the clock (playlist picks, percentages,
similarities, times); the command table is the one ``/help`` shows (``bot.texts.COMMANDS``); the
level study's table is its record's (``studies/results/level.json``); the architecture table says
what each package may import, as ``tests/test_architecture.py`` enforces; and every relative link
points to a file.

Regenerate the transcript, the examples and the tables after a change to the model, to a record or
to what the bot says:

    GENREBOT_WRITE_README=1 .venv/bin/python -m pytest tests/test_readme.py

(Not marked slow: about 20 s each on a busy 2-core machine.)

Each generated block follows an HTML comment naming this file (``<!-- console transcript ... -->``,
``<!-- discord examples ... -->``, ``<!-- command table ... -->``); the console block's first lines
(the ``printf ... | ... scripts/run`` command) are the script that is run.
"""

from __future__ import annotations

import functools
import html
import io
import os
import re
import shlex
from pathlib import Path

import pytest

from benchmarks.report import level_excerpt
from bot import texts
from bot.config import Config
from bot.services import Services
from console.repl import Console
from genre_engine import GenreEngine
from tests.conftest import REPO_ROOT
from tests.support.bot_fixtures import GUILD_ID, USER_ID, BotHarness
from tests.support.discord_harness import Call
from tests.test_architecture import ALLOWED

README = REPO_ROOT / "README.md"
DISCORD_DOC = REPO_ROOT / "docs" / "discord.md"
WRITE = os.environ.get("GENREBOT_WRITE_README") == "1"
CONSOLE_MARK = "<!-- console transcript: tests/test_readme.py -->"
DISCORD_MARK = "<!-- discord examples: tests/test_readme.py -->"
COMMAND_TABLE_MARK = "<!-- command table: tests/test_readme.py -->"
LEVEL_MARK = "<!-- level study: tests/test_readme.py -->"
LEVEL_END = "<!-- end of level study -->"


def block_after(text: str, mark: str) -> tuple[int, int]:
    """Start and end offsets of the body of the first fenced block after ``mark``."""
    opening = text.index("```", text.index(mark))
    start = text.index("\n", opening) + 1
    return start, text.index("```", start)


def readme_block(mark: str, page: Path = README) -> str:
    text = page.read_text()
    start, end = block_after(text, mark)
    return text[start:end]


def replace_block(mark: str, body: str, page: Path = README) -> str:
    """Write ``body`` as the block after ``mark`` in ``page``; returns it."""
    text = page.read_text()
    start, end = block_after(text, mark)
    page.write_text(text[:start] + body + text[end:])
    return body


def transcript_commands(block: str) -> tuple[list[str], str]:
    """The console commands of the transcript's ``$ printf '%s\\n' '/cmd' ... | ...`` line(s), and
    that command line itself (the block's first lines, up to the one not ending in a backslash)."""
    lines = block.splitlines()
    count = next(i for i, line in enumerate(lines) if not line.endswith("\\")) + 1
    command = "\n".join(lines[:count])
    words = shlex.split(command.removeprefix("$ ").replace("\\\n", " "))
    return words[2 : words.index("|")], command


# What depends on chance (playlist picks: a seeded jitter only in tests) or on the clock, or moves
# with the last digit of a float: masked before comparing.
MASKS = [
    (re.compile(r"^ ?\d+\. #\d+ .*$|^\s*\*\*\d+\.\*\* .*$|^\s*\d+\. #\d+ · .*$"), "<playlist entry>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"), "<time>"),
    (re.compile(r"<t:\d+:R>"), "<time>"),
    (re.compile(r"\d+%"), "N%"),
    (re.compile(r"[█▏▎▍▌▋▊▉]+ *"), "<bar> "),
    (re.compile(r"similarity \d\.\d\d"), "similarity N"),
    (re.compile(r"^\s*\u3000.*$"), "<reason>"),  # the second line of a Discord playlist entry
    (re.compile(r"https://discord\.com/channels/[\d/]+"), "<message link>"),
    (re.compile(r"(Like… → |Marked liked: ).*$"), r"\1<a song of the playlist>"),
]
SEED = 2026  # playlists in this test are seeded, so what follows them (a like, the taste) is repeatable


def masked(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        for pattern, replacement in MASKS:
            line = pattern.sub(replacement, line)
        lines.append(line.rstrip())
    return lines


@pytest.fixture(scope="module")
def engine(shared_dir) -> GenreEngine:
    return GenreEngine.from_checkpoint()


async def test_console_transcript(engine, tmp_path):
    block = readme_block(CONSOLE_MARK)
    commands, command_line = transcript_commands(block)
    assert "GENREBOT_DB=$(mktemp -d)" in command_line  # the transcript is of a fresh database

    services = await Services.open(Config(db=tmp_path / "demo.db", cwd=REPO_ROOT), engine)
    services.playlist = functools.partial(services.playlist, seed=SEED)
    stdout = io.StringIO()
    try:
        await Console(services, io.StringIO("\n".join(commands) + "\n"), stdout).run()
    finally:
        await services.close()
    fresh = command_line + "\n" + stdout.getvalue()

    if WRITE:
        block = replace_block(CONSOLE_MARK, fresh)
    assert masked(fresh) == masked(block)


def describe(calls: list[Call]) -> list[str]:
    """What a Discord user sees of the calls the bot made, as README lines."""
    lines = []
    for call in calls:
        if call.response_type == 5:
            lines.append("→ genrebot is thinking…")
            continue
        if call.method == "DELETE":
            continue
        who = "(only you) " if call.ephemeral else ""
        text = call.text.replace("\n", "\n    ")
        files = f" [+ {', '.join(call.files)}]" if call.files else ""
        lines.append(f"→ {who}{text}{files}")
        labels = [
            component.get("label") or component.get("placeholder")
            for row in call.message.get("components") or []
            for component in row.get("components", [])
        ]
        if labels:
            lines.append("    " + " ".join(f"[{label}]" for label in labels))
    return lines


async def discord_session(harness: BotHarness, refusing: BotHarness, shared: Path) -> list[str]:
    """The Discord examples of ``docs/discord.md``, each a command and what the user saw."""
    out: list[str] = []

    async def example(title: str, calls: list[Call]) -> None:
        out.append(title)
        out.extend("  " + line for line in describe(calls))

    def upload(bot: BotHarness, path: Path, content_type: str = "audio/ogg") -> dict:
        return bot.upload(path.name, path.read_bytes(), content_type)

    song = shared / "pool" / "sectoid" / "Metal madness.ogg"
    await example("/classify file:Metal madness.ogg", await harness.command("classify", file=upload(harness, song)))
    notes = refusing.upload("notes.txt", b"just some notes\n", "text/plain")
    await example("/classify file:notes.txt", await refusing.command("classify", file=notes))
    await example("/classify (again, within 10 s)", await refusing.command("classify", file=notes))
    await example(
        "/classify url:http://127.0.0.1:8080/song.mp3",
        await harness.command("classify", url="http://127.0.0.1:8080/song.mp3"),
    )
    # the playlist's picks move with the last digits of the model's output: nothing below depends on them
    await example("/playlist count:3", await harness.command("playlist", count=3))
    message = harness.recorder.last_message_with("genrebot:mark:")
    first = message["components"][1]["components"][0]["options"][0]
    await example(
        f"  Like… → {first['label']}", await harness.click(message, "genrebot:mark:liked", values=[first["value"]])
    )
    classified = harness.recorder.last_message_with("genrebot:similar:")
    similar = next(
        component["custom_id"]
        for row in classified["components"]
        for component in row["components"]
        if component["custom_id"].startswith("genrebot:similar:")
    )
    await example("[More like this] under Metal madness", await harness.click(classified, similar))
    await example(
        "/pool remove song:3 (not an admin)",
        await harness.command("pool", subcommand="remove", song=3, user_id=USER_ID + 1),
    )
    (asked,) = await harness.command("forget")
    await example("/forget", [asked])
    confirm = harness.recorder.messages[max(harness.recorder.messages)]
    await example("  [Yes, forget me]", await harness.click(confirm, asked.custom_ids()[0]))
    return out


async def test_discord_examples(engine, make_bot, shared_dir):
    harness = await make_bot(engine=engine, allowed_internal_networks=(), workers=2, queue_size=50)
    refusing = await make_bot(engine=engine, cooldown_s=10)
    harness.services.playlist = functools.partial(harness.services.playlist, seed=SEED)
    await harness.services.index_folder(GUILD_ID, shared_dir / "pool" / "muldjord")
    await harness.services.index_folder(GUILD_ID, shared_dir / "pool" / "singularity")

    lines = await discord_session(harness, refusing, shared_dir)
    fresh = "\n".join(lines) + "\n"

    block = replace_block(DISCORD_MARK, fresh, DISCORD_DOC) if WRITE else readme_block(DISCORD_MARK, DISCORD_DOC)
    assert masked(fresh) == masked(block)


def test_the_refresh_example_names_the_shipped_model():
    shipped = GenreEngine.from_checkpoint().model_id
    assert f"Model {shipped}: 21 song(s); 21 analysed again now" in README.read_text(encoding="utf-8")


def test_the_level_study_is_its_record():
    text = README.read_text()
    start = text.index("\n", text.index(LEVEL_MARK)) + 1
    end = text.index(LEVEL_END, start)
    fresh = level_excerpt()
    if WRITE:
        README.write_text(text[:start] + fresh + text[end:])
    else:
        assert text[start:end] == fresh


def table_after(text: str, mark: str) -> tuple[int, int]:
    """Start and end offsets of the Markdown table on the lines after ``mark`` (up to the first line
    that is not a table row)."""
    start = text.index("\n", text.index(mark)) + 1
    end = start
    while text.startswith("|", end):
        end = text.index("\n", end) + 1
    return start, end


def command_table() -> str:
    """The command table of ``/help`` (``bot.texts.COMMANDS``): Discord, console, what it does."""

    def cell(spelling: str | None) -> str:
        if spelling is None:
            return "—"
        if "|" in spelling:  # a pipe would end the cell; an entity in a code element renders as one everywhere
            return "<code>" + html.escape(spelling).replace("|", "&#124;") + "</code>"
        return f"`{spelling}`"

    rows = ["| Discord | console | what it does |", "| --- | --- | --- |"]
    rows += [f"| {cell(c.discord)} | {cell(c.console)} | {c.text} |" for c in texts.COMMANDS]
    return "\n".join(rows) + "\n"


def test_command_table_is_the_help():
    text = README.read_text()
    start, end = table_after(text, COMMAND_TABLE_MARK)
    fresh = command_table()
    if WRITE:
        README.write_text(text[:start] + fresh + text[end:])
    else:
        assert text[start:end] == fresh


def architecture_rows() -> dict[str, set[str]]:
    """Package -> the packages its row of the architecture table says it may import."""
    text = README.read_text()
    table = text[text.index("| package | what it holds | may import |") :]
    rows = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for package in re.findall(r"`(\w+)/`", cells[0]):
            rows[package] = set(re.findall(r"`(\w+)`", cells[2]))
    return rows


def test_architecture_table_says_what_each_package_may_import():
    rows = architecture_rows()
    assert {package: rows.get(package) for package in ALLOWED} == ALLOWED


def test_every_relative_link_points_to_a_file():
    links = re.findall(r"\]\(([^)\s]+)\)", README.read_text())
    relative = [link.split("#")[0] for link in links if not re.match(r"[a-z]+:|#", link)]
    assert relative  # the README links into the docs
    assert [link for link in relative if not (README.parent / link).exists()] == []
