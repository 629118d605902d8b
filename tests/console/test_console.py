"""The console front end end to end: the real GenreEngine on real songs from ../shared/pool."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.services import Services
from console.repl import LOCAL_GUILD_ID, Console, local_user_id
from genre_engine.errors import NotAudioError
from genrebot.cli import parse, run
from storage import open_store
from tests.conftest import REPO_ROOT


@pytest.fixture
def pool_dir(shared_dir: Path) -> Path:
    return shared_dir / "pool"


async def run_console(config_args: list[str], script: str) -> str:
    services = await Services.start(load_config(config_args, env={}))
    stdout = io.StringIO()
    try:
        assert await Console(services, io.StringIO(script), stdout).run() == 0
    finally:
        await services.close()
    return stdout.getvalue()


def test_python_m_bot_piped_classifies_a_real_song_and_exits_0(tmp_path, tiny_checkpoint, pool_dir):
    song = pool_dir / "sectoid" / "Metal madness.ogg"
    env = {**os.environ, "GENREBOT_DB": str(tmp_path / "genrebot.db"), "GENREBOT_MEDIA": str(tmp_path / "media")}
    env.pop("DISCORD_TOKEN", None)

    done = subprocess.run(
        [sys.executable, "-m", "bot", "--checkpoint", str(tiny_checkpoint)],
        cwd=REPO_ROOT,
        input=f"/classify {song}\n/playlist\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("genrebot console")
    assert lines[1] == f"> /classify {song}"
    assert lines[2].startswith("🎵 Metal madness: ") and "2:24 · song #1 in the server pool" in lines[2]
    assert "%" in lines[3]
    assert "> /playlist" in lines and any("every song in this server's pool" in line for line in lines)
    assert "msg=classified" in done.stderr  # logs go to stderr, in key=value form
    assert (tmp_path / "genrebot.db").is_file()


async def test_console_session(tmp_path, tiny_checkpoint, pool_dir):
    script = (
        "\n".join(
            [
                "/index " + str(pool_dir / "sectoid"),
                "/classify " + str(pool_dir / "muldjord" / "armygeddon.ogg"),
                "/playlist 3",
                "/variety 0.3",
                "/variety",
                "/taste",
                "/like 1 2",
                "/radio 3",
                "/radio 0",
                "/history 2",
                "/more 1",
                "/pool stats",
                "/user alice",
                "/taste",
                "/playlist 2",
                "/variety 7",
                "/classify " + str(tmp_path / "missing.mp3"),
                "/classify http://10.0.0.1/song.mp3",
                "/like one",
                "/frobnicate",
                "/user me",
                "/forget",
                "yes",
                "/history",
            ]
        )
        + "\n"
    )

    out = await run_console(
        ["--db", str(tmp_path / "c.db"), "--checkpoint", str(tiny_checkpoint), "--media", str(tmp_path / "media")],
        script,
    )

    assert "Indexed " + str(pool_dir / "sectoid") + ": 4 added, 0 already in the pool, 0 failed, 1 skipped." in out
    assert f"   – skipped COPYRIGHT: {NotAudioError()}" in out  # a text beside the songs
    assert "🎵 armygeddon: " in out and "song #5 in the server pool" in out
    assert "Playlist for me (variety 0.25)" in out and " 1. #" in out
    assert "Variety set to 0.30." in out and "Your variety is 0.30" in out
    assert "Taste of me, from 1 song(s) and 1 event(s):" in out
    assert "Marked liked: #1 Escape from chaosland, #2 Feelings" in out
    assert "liked    #2 Feelings" in out
    radio = out.split("> /radio 3\n", 1)[1].split("> /radio 0", 1)[0].splitlines()
    assert radio[0] == "The radio would play for me (variety 0.30):"
    # the test model's embeddings are near-duplicates, which a plan sets aside: fewer than three here
    assert radio[1].startswith(" 1. #") and all(" — " in line for line in radio[1:]) and len(radio) <= 4
    assert out.split("> /radio 0\n", 1)[1].startswith("⚠ A playlist can have from 1 to ")
    assert "Pool: 5 song(s)" in out and "from 1 contributor(s)" in out
    assert "Pool cache of this bot process: 1 server pool(s)" in out
    assert "You are now 'alice'." in out and "No taste profile yet" in out
    assert "The server's mix for alice" in out and "I don't know your taste yet" in out  # alice's first day
    assert "⚠ Variety must be a number from 0.0 to 1.0 (got 7.0)." in out
    assert f"⚠ There is no file or folder at `{tmp_path / 'missing.mp3'}`." in out
    assert "⚠ I won't fetch from `10.0.0.1`" in out
    assert "⚠ Song ids are numbers" in out
    assert "Unknown command `/frobnicate`" in out
    assert "Forgotten: 3 event(s) deleted, 1 shared song(s) kept in the pool without your name." in out
    assert out.rstrip().endswith("Your history here is empty: share songs with /classify or rate some from /playlist.")


async def test_index_command_seeds_a_discord_server(tmp_path, tiny_checkpoint, pool_dir, capsys):
    database = tmp_path / "seed.db"
    args = [
        "--db",
        str(database),
        "--checkpoint",
        str(tiny_checkpoint),
        "--media",
        str(tmp_path / "media"),
        "index",
        "--guild",
        "4242",
        str(pool_dir / "sectoid"),
    ]

    assert await run(parse(args, env={})) == 0
    assert await run(parse(args, env={})) == 0  # again: nothing re-classified or duplicated

    first, second = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Indexed")]
    assert first.endswith("into server 4242: 4 added, 0 already in the pool, 0 failed, 1 skipped.")
    assert second.endswith("into server 4242: 0 added, 4 already in the pool, 0 failed, 1 skipped.")
    async with open_store(database) as store:
        assert await store.pool_size(4242) == 4
        assert await store.pool_size(LOCAL_GUILD_ID) == 0


def test_local_users_get_stable_distinct_ids():
    assert local_user_id("alice") == local_user_id("alice") != local_user_id("bob")
    assert 0 < local_user_id("alice") < 2**63


# Runs ``python -m bot`` in an interpreter where ``import discord`` fails, as where discord.py is
# not installed (None in sys.modules makes every import of it raise ImportError).
WITHOUT_DISCORD = """
import runpy, sys
sys.modules["discord"] = None
try:
    import discord
except ImportError:
    pass
else:
    raise SystemExit("the shim did not hide discord.py")
sys.argv = ["bot", *sys.argv[1:]]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


def test_the_console_runs_without_discord_py(tmp_path, tiny_checkpoint):
    env = {**os.environ, "GENREBOT_DB": str(tmp_path / "genrebot.db"), "GENREBOT_MEDIA": str(tmp_path / "media")}
    env.pop("DISCORD_TOKEN", None)

    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_DISCORD, "--checkpoint", str(tiny_checkpoint)],
        cwd=REPO_ROOT,
        input="/help\n/variety\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "/classify FILE_OR_URL" in done.stdout and "Your variety is 0.25" in done.stdout
    assert "/radio [N]" in done.stdout  # the radio's console command is in /help
