"""The config object and the error-to-message mapping (the worker pool: test_queue.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import DEFAULT_HOME, MiB, load_config
from bot.errors import GENERIC_APOLOGY, TooLongError, user_message
from bot.jobs.errors import BusyError
from bot.logs import LogfmtFormatter
from genre_engine.errors import CheckpointError, NotAudioError
from recommender.errors import InvalidCountError
from storage.errors import InvalidVarietyError, StoreClosedError


def test_defaults():
    config = load_config([], env={})
    assert config.db_path == DEFAULT_HOME / "genrebot.db" and config.checkpoint is None and config.discord_token is None
    assert config.media_folder == DEFAULT_HOME / "media"
    assert not config.sync and config.allowed_internal_networks == ()


def test_environment_then_flags():
    env = {
        "DISCORD_TOKEN": "secret",
        "GENREBOT_DB": "/srv/a.db",
        "GENREBOT_WORKERS": "3",
        "GENREBOT_MAX_ATTACHMENT_MB": "8",
        "GENREBOT_SYNC": "yes",
        "GENREBOT_DEV_GUILD": "123",
        "GENREBOT_LOG_LEVEL": "debug",
    }

    from_env = load_config([], env=env)
    from_flags = load_config(["--db", "/tmp/b.db", "--workers", "1", "--max-attachment-mb", "2"], env=env)

    assert (from_env.db_path, from_env.workers, from_env.max_attachment_bytes) == (Path("/srv/a.db"), 3, 8 * MiB)
    assert from_env.sync and from_env.dev_guild == 123 and from_env.log_level == "DEBUG"
    assert (from_flags.db_path, from_flags.workers, from_flags.max_attachment_bytes) == (Path("/tmp/b.db"), 1, 2 * MiB)
    assert "secret" not in repr(from_env)  # the token never reaches a log line


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        ([], {"GENREBOT_WORKERS": "many"}),
        (["--workers", "0"], {}),
        (["--cooldown", "-1"], {}),
    ],
)
def test_bad_settings_stop_at_start_up(argv, env):
    with pytest.raises(SystemExit):
        load_config(argv, env=env)


@pytest.mark.parametrize(
    "error",
    [
        BusyError(),
        TooLongError(3600, 1200),
        NotAudioError(),
        InvalidVarietyError(2.0),
        InvalidCountError("playlist", 0, 50),
    ],
)
def test_known_errors_speak_for_themselves(error):
    assert user_message(error) == str(error)


def test_startup_and_shutdown_errors_get_a_try_again():
    for error in (CheckpointError("No model checkpoint at x."), StoreClosedError()):
        assert "try again in a minute" in user_message(error)


def test_unexpected_errors_are_logged_and_apologised_for(caplog):
    with caplog.at_level(logging.ERROR, logger="genrebot.errors"):
        message = user_message(KeyError("internal detail"))
    assert message == GENERIC_APOLOGY and "internal detail" not in message
    assert caplog.records[0].exc_info[0] is KeyError


def test_logfmt_lines():
    record = logging.LogRecord("genrebot.x", logging.INFO, __file__, 1, "classified", None, None)
    record.guild = 7
    record.title = 'A "quoted" name'
    line = LogfmtFormatter().format(record)
    assert ' level=info logger=genrebot.x msg=classified guild=7 title="A \\"quoted\\" name"' in line
