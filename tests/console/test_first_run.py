"""The first five minutes of a new user: start-up mistakes end in one clear line, paths are the user's,
and the console says what each command expects."""

from __future__ import annotations

import io
import logging
import os
import shutil
import stat
import subprocess
import sys

import pytest

import genrebot.cli as entry
from bot.config import load_config
from console.repl import Console, index_with_progress
from tests.conftest import REPO_ROOT
from tests.support.bot_fixtures import wav_bytes


async def console_output(services, *lines: str) -> str:
    stdout = io.StringIO()
    await Console(services, io.StringIO("\n".join(lines) + "\n"), stdout).run()
    return stdout.getvalue()


# ``python -m bot`` with discord.py's HTTP layer replaced, as Discord (or the network) would answer a
# login: REFUSE is what Discord says to a bad token, OFFLINE what aiohttp raises without a network.
FAKE_LOGIN = """
import runpy, sys
import aiohttp, discord.http

MODE = sys.argv[1]

class Response:
    status, reason = 401, "Unauthorized"

async def request(self, route, **kwargs):
    if MODE == "refuse":
        raise discord.HTTPException(Response(), {"message": "401: Unauthorized", "code": 0})
    raise aiohttp.ClientConnectionError("Cannot connect to host discord.com:443 [Name or service not known]")

discord.http.HTTPClient.request = request
sys.argv = ["bot", *sys.argv[2:]]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("refuse", "genrebot: Discord rejected DISCORD_TOKEN. Copy the bot's token again"),
        ("offline", "genrebot: I couldn't reach Discord (Cannot connect to host discord.com:443"),
    ],
)
def test_a_bad_token_or_no_network_ends_in_one_line(tmp_path, tiny_checkpoint, answer, expected):
    env = {**os.environ, "DISCORD_TOKEN": "abc", "GENREBOT_DB": str(tmp_path / "g.db")}

    done = subprocess.run(
        [sys.executable, "-c", FAKE_LOGIN, answer, "--checkpoint", str(tiny_checkpoint), "--log-level", "warning"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(expected)


def test_a_bad_log_level_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as flag:
        load_config(["--log-level", "foo"], env={})
    assert flag.value.code == 2 and "invalid choice: 'FOO'" in capsys.readouterr().err
    assert load_config(["--log-level", "debug"], env={}).log_level == "DEBUG"

    with pytest.raises(SystemExit) as env:
        load_config([], env={"GENREBOT_LOG_LEVEL": "foo"})
    assert "the log level must be one of DEBUG, INFO, WARNING, ERROR, not 'FOO'" in str(env.value)


def test_a_database_that_is_not_one_ends_in_one_line(tmp_path, tiny_checkpoint, capsys, monkeypatch):
    monkeypatch.setattr(entry, "setup_logging", lambda level: None)  # keep pytest's log capture
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    readme = tmp_path / "README.md"
    readme.write_text("# genrebot\n" * 100)

    assert entry.main(["--db", str(readme), "--checkpoint", str(tiny_checkpoint)]) == 2

    assert capsys.readouterr().err == (
        f"genrebot: {readme} is not a genrebot database (not a SQLite file); "
        "give a new file name or an existing genrebot database.\n"
    )
    assert readme.read_text() == "# genrebot\n" * 100


async def test_the_console_reads_relative_paths_from_the_users_folder(make_services, tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    (music / "Feelings.wav").write_bytes(wav_bytes(440))
    services = await make_services(cwd=music)

    out = await console_output(services, "/classify Feelings.wav", "/index .")

    assert "🎵 Feelings: " in out and "Indexed .: 0 added, 1 already in the pool, 0 failed." in out


def test_scripts_run_passes_the_users_folder_on(tmp_path):
    """scripts/run changes to the repository root; it exports where the user was first."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts" / "run", repo / "scripts" / "run")
    fakes = {
        repo / "scripts" / "setup": "#!/bin/sh\n",
        repo / ".venv" / "bin" / "python": '#!/bin/sh\necho "cwd=$PWD user=$GENREBOT_CWD args=$*"\n',
    }
    for path, text in fakes.items():
        path.write_text(text)
    for path in [repo / "scripts" / "run", *fakes]:
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    user = tmp_path / "songs"
    user.mkdir()

    done = subprocess.run(
        [str(repo / "scripts" / "run"), "--db", "x.db"],
        cwd=user,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "GENREBOT_CWD"},
    )

    assert done.stdout.strip() == f"cwd={repo} user={user} args=-m bot --db x.db"


async def test_console_commands_say_what_they_expect(make_services, tmp_path):
    services = await make_services()
    folder = tmp_path / "album"
    folder.mkdir()

    out = await console_output(
        services, f"/classify {folder}", "/index", "/more", "/pool remove", "/like", "/playlst", "/histroy", "/zzz"
    )

    assert (
        f"⚠ `{folder}` is a folder; /classify takes one file. To add every song in it to the pool, "
        f"use `/index {folder}`."
    ) in out
    assert "⚠ Which folder? `/index path/to/music` adds every audio file under it to the pool." in out
    assert "⚠ Which song? Give its id, as shown after # in /playlist: `/more 12`." in out
    assert "`/pool remove 12`" in out and "`/like 12 15`" in out
    assert "Unknown command `/playlst`. Did you mean /playlist? Type /help for the list." in out
    assert "Did you mean /history?" in out
    assert "Unknown command `/zzz`. Type /help for the list." in out
    assert await services.store.pool_size(1) == 0  # /index without a folder scanned nothing


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_progress_bar_is_drawn_once_with_log_lines_above_it(make_services, tmp_path, monkeypatch):
    for freq in (300, 400, 500):
        (tmp_path / f"{freq}.wav").write_bytes(wav_bytes(freq))
    services = await make_services()
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    handler = logging.StreamHandler(sys.stderr)  # as bot.logs sets it up
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        await index_with_progress(services, 1, tmp_path)
    finally:
        root.removeHandler(handler)

    screen = terminal.getvalue()
    assert "0file [" not in screen  # no bar before the number of files is known
    assert screen.count("0/3 [") == 1 and "3/3 [" in screen
    log_line = screen.index("indexed\n")
    assert screen.rfind("\r", 0, log_line) > screen.rfind("0/3", 0, log_line)  # the bar was cleared for it


def test_the_first_setup_says_what_it_installs(tmp_path):
    """scripts/setup with a fake Python whose venv's pip only logs what it was asked."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts" / "setup", repo / "scripts" / "setup")
    shutil.copy(REPO_ROOT / "pyproject.toml", repo / "pyproject.toml")
    fake_python = tmp_path / "python3.11"
    fake_python.write_text(
        "#!/bin/sh\nmkdir -p .venv/bin\nprintf '#!/bin/sh\\necho \"$*\" >> pip.log\\n' "
        "> .venv/bin/python\nchmod +x .venv/bin/python\n"
    )
    for path in (repo / "scripts" / "setup", fake_python):
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PYTHON": str(fake_python)}

    first = subprocess.run([str(repo / "scripts" / "setup")], capture_output=True, text=True, env=env)
    again = subprocess.run([str(repo / "scripts" / "setup")], capture_output=True, text=True, env=env)

    said = first.stdout + first.stderr
    assert first.returncode == 0 and "installing" in said and " GB" in said
    assert "-m pip install --quiet -e ." in (repo / "pip.log").read_text()
    assert again.stdout + again.stderr == ""  # nothing to install, nothing said


def test_the_readmes_slow_test_command_finds_tests():
    """`scripts/test -m slow` (docs/contributing.md) must not end in pytest's "no tests collected" (exit 5)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "slow"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout[-2000:]
