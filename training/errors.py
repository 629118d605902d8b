"""Errors the training commands report as one line, without a traceback."""

import logging
import sys
from collections.abc import Callable

from genre_engine.errors import CheckpointError, PortableError


class TrainingError(PortableError):
    """Base of the problems a user can fix by changing the command or the data."""


class DatasetError(TrainingError):
    """The data folder or split lists cannot be used as they are; the message says why."""


class ConfigError(TrainingError):
    """The options don't describe a runnable training job (unknown model, bad feature argument, ...)."""


def run_cli(main: Callable[[], object]) -> int:
    """Run a command's ``main``; a problem the user can fix becomes one line on stderr and exit status 2."""
    logging.basicConfig(format="%(levelname)s: %(message)s")
    try:
        main()
    except (TrainingError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
