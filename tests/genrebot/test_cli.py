"""The command line: settings and subcommands with their own options (genrebot.cli.parse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_HOME
from console.repl import LOCAL_GUILD_ID
from genrebot.cli import adopt_old_state, parse

URL = "postgresql://genrebot:s3cret@db.example:5432/genrebot"


def test_index_subcommand():
    invocation = parse(["index", "--guild", "42", "music/"], env={})
    assert (invocation.command, invocation.options.guild, invocation.options.folder) == ("index", 42, Path("music/"))
    assert parse(["index", "music/"], env={}).options.guild == LOCAL_GUILD_ID  # the console's server


def test_without_a_subcommand_genrebot_runs_the_front_end():
    assert parse([], env={}).command == "run"


def test_the_radio_subcommand_is_configured() -> None:
    invocation = parse(["radio", "--songs", "3", "--out", "mix.ogg", "--json"], env={})
    options = invocation.options
    assert (invocation.command, options.songs, options.out, options.json) == ("radio", 3, Path("mix.ogg"), True)
    config = parse(["--media", "m", "--media-cap-gb", "0.5"], env={"GENREBOT_MEDIA": "elsewhere"}).config
    assert config.media_folder == Path("m") and config.media_cap_bytes == 2**29


def test_a_worker_runs_with_a_concurrency_on_the_database_only() -> None:
    invocation = parse(["--database-url", URL, "worker", "--concurrency", "3"], env={})
    assert (invocation.command, invocation.options.concurrency) == ("worker", 3)
    assert parse(["worker"], env={"GENREBOT_DATABASE_URL": URL}).options.concurrency == 1
    with pytest.raises(SystemExit) as caught:
        parse(["worker"], env={})
    assert "GENREBOT_DATABASE_URL" in str(caught.value)
    with pytest.raises(SystemExit):
        parse(["--database-url", URL, "worker", "--concurrency", "0"], env={})


def test_paths_a_user_gives_are_relative_to_where_they_were(tmp_path):
    env = {"GENREBOT_CWD": str(tmp_path), "GENREBOT_CHECKPOINT": "runs/model.pt"}
    config = parse(["--db", "my.db", "index", "--guild", "1", "music"], env=env).config

    assert config.db_path == tmp_path / "my.db" and config.checkpoint == tmp_path / "runs" / "model.pt"
    assert parse(["index", "--guild", "1", "music"], env=env).options.folder == tmp_path / "music"
    assert config.user_path("song.ogg") == tmp_path / "song.ogg"
    assert config.user_path("/abs/song.ogg") == Path("/abs/song.ogg")
    assert parse([], env=env).config.db_path == DEFAULT_HOME / "genrebot.db"  # the default stays the repo's


def test_state_kept_in_data_before_it_had_a_home_moves_there_once(tmp_path):
    old = tmp_path / "data"
    (old / "media" / "copies").mkdir(parents=True)
    (old / "genrebot.db").write_bytes(b"db")
    (old / "genrebot.db-wal").write_bytes(b"wal")
    config = parse(["--home", str(tmp_path / "state")], env={}).config

    adopt_old_state(config, old)

    assert config.db_path.read_bytes() == b"db" and config.db_path.with_name("genrebot.db-wal").read_bytes() == b"wal"
    assert (config.media_folder / "copies").is_dir() and not (old / "genrebot.db").exists()
    (old / "genrebot.db").write_bytes(b"another")
    adopt_old_state(config, old)  # the home has a database now: nothing moves again
    assert config.db_path.read_bytes() == b"db"
