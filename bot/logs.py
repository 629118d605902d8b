"""Structured logging: one ``key=value`` line per event (logfmt), on standard error.

Call sites pass facts as ``extra``: ``log.info("classified", extra={"guild": 1, "genre": "jazz"})``
gives ``ts=... level=info logger=genrebot.services msg=classified guild=1 genre=jazz``, which grep,
Loki and friends read without a parser. Standard output stays free for the console front end.
"""

from __future__ import annotations

import logging
import sys
import time

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def _quote(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\n\t'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        pairs = [
            ("ts", stamp),
            ("level", record.levelname.lower()),
            ("logger", record.name),
            ("msg", record.getMessage()),
        ]
        pairs += [(key, value) for key, value in vars(record).items() if key not in _STANDARD]
        if record.exc_info:
            pairs.append(("exc", self.formatException(record.exc_info)))
        return " ".join(f"{key}={_quote(value)}" for key, value in pairs)


def setup_logging(level: str) -> None:
    """Route every logger (ours, discord.py's, aiosqlite's) through one logfmt handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
