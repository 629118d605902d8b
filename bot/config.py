"""The one configuration object of the bot, read from the environment and the command line.

Every setting has an environment variable (for Docker and systemd) and a flag (for trying things
out); a flag wins over the environment, and both win over the default. Nothing else in ``bot/`` or
``cogs/`` reads ``os.environ``. The recommender's knobs travel inside it as a
:class:`~recommender.config.RecommenderConfig` built here.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from recommender.config import RecommenderConfig
from storage import is_postgres_url

DEFAULT_DB = Path("data") / "genrebot.db"
DEFAULT_MEDIA = Path("data") / "media"
MiB = 1024 * 1024
GiB = 1024 * MiB
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def user_path(typed: str | Path, cwd: Path | None) -> Path:
    """``typed`` (``~`` expanded) relative to ``cwd`` unless absolute or ``cwd`` is None."""
    path = Path(typed).expanduser()
    return path if path.is_absolute() or cwd is None else cwd / path


@dataclass(frozen=True, kw_only=True)
class Config:
    """Everything an operator can tune. ``mode``/``index_*`` say what ``python -m bot`` should do."""

    discord_token: str | None = field(default=None, repr=False)
    db_path: Path = DEFAULT_DB
    # postgresql://... : use PostgreSQL instead of the SQLite file (repr=False: it may hold a password)
    database_url: str | None = field(default=None, repr=False)
    checkpoint: Path | None = None  # None: the checkpoint shipped in data/
    workers: int = 2
    queue_size: int = 200  # jobs that may wait for a classification worker
    queue_bytes: int = 1024 * MiB  # audio those waiting jobs may hold in memory
    per_user_jobs: int = 3  # classifications (and, apart, link downloads) one user may have in line
    download_workers: int = 8  # link downloads at once: threads mostly waiting on the network
    cooldown_s: float = 10.0
    max_attachment_bytes: int = 25 * MiB
    max_duration_s: float = 20 * 60
    download_timeout_s: float = 60.0
    dev_guild_id: int | None = None
    sync: bool = False
    log_level: str = "INFO"
    # Networks that links may reach although they are internal. Empty in production; only tests
    # (which serve audio from 127.0.0.1) set it, and only from code, never from env or flags.
    allowed_internal_networks: tuple[IPNetwork, ...] = ()
    # the radio's media store: copies of uploaded/linked audio, capped, least recently played evicted
    media_folder: Path = DEFAULT_MEDIA
    media_cap_bytes: int = 4 * GiB
    command: str = "run"  # "run" (Discord with a token, console without), "index", "radio", "migrate-db", "worker"
    index_guild: int | None = None
    index_folder: Path | None = None
    # playlist and "more like this" caps, taste decay...: handed to the recommender by the services
    recommender: RecommenderConfig = field(default_factory=RecommenderConfig)
    radio_songs: int = 5
    radio_out: Path | None = None
    radio_json: bool = False
    migrate_to: str | None = field(default=None, repr=False)  # migrate-db: the PostgreSQL URL
    worker_concurrency: int = 1  # worker: classifications one `python -m bot worker` runs at once
    # Discord shards this process runs (None: all, or none asked) out of shard_count (None: one
    # process, discord.py's plain client unless shard ids are given)
    shard_ids: tuple[int, ...] | None = None
    shard_count: int | None = None

    @property
    def store_location(self) -> str | Path:
        """Where the store lives: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or self.db_path

    # Where the user was when they started genrebot (GENREBOT_CWD, which scripts/run sets before it
    # changes to the repository root); None: the current directory. Paths users give are relative to it.
    cwd: Path | None = None

    def user_path(self, typed: str | Path) -> Path:
        """A path a user typed (``~`` expanded), relative to where they started genrebot."""
        return user_path(typed, self.cwd)


    def __post_init__(self) -> None:
        for url in (self.database_url, self.migrate_to):
            if url is not None and not is_postgres_url(url):
                raise ValueError("a database URL must start with postgresql:// or postgres://")
        if min(self.workers, self.download_workers, self.per_user_jobs) < 1 or min(self.queue_size, self.queue_bytes) < 0:
            raise ValueError("workers and per-user jobs must be >= 1, queue sizes >= 0")
        if min(self.cooldown_s, self.max_duration_s, self.download_timeout_s) < 0:
            raise ValueError("durations must not be negative")
        if self.max_attachment_bytes < 1:
            raise ValueError("the attachment size cap must be positive")
        if self.media_cap_bytes < 1:
            raise ValueError("the media store's size cap must be positive")
        if self.worker_concurrency < 1:
            raise ValueError("a worker's concurrency must be >= 1")
        if self.command == "worker" and not self.database_url:
            raise ValueError("a worker needs the PostgreSQL database of the bot: set GENREBOT_DATABASE_URL "
                             "or --database-url")
        if self.shard_ids is not None and self.shard_count is None:
            raise ValueError("--shard-ids needs --shard-count (the total number of shards)")
        if self.shard_count is not None:
            if self.shard_count < 1:
                raise ValueError("the shard count must be >= 1")
            if self.shard_ids is not None and (not self.shard_ids or
                                               not all(0 <= shard < self.shard_count for shard in self.shard_ids)):
                raise ValueError(f"shard ids must be between 0 and {self.shard_count - 1}")
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"the log level must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="genrebot: the Discord bot when DISCORD_TOKEN is set, a console front end otherwise.",
        epilog="Every option can also be set by the environment variable named in its help.",
    )
    parser.add_argument("--db", type=Path, help="SQLite database file (GENREBOT_DB; default data/genrebot.db)")
    parser.add_argument("--database-url", help="PostgreSQL database instead of the SQLite file, "
                        "postgresql://user:password@host:port/dbname (GENREBOT_DATABASE_URL)")
    parser.add_argument("--checkpoint", type=Path, help="genre model checkpoint (GENREBOT_CHECKPOINT; default: shipped)")
    parser.add_argument("--workers", type=int, help="classification threads (GENREBOT_WORKERS; default 2)")
    parser.add_argument("--queue-size", type=int, help="classifications that may wait in line for a worker "
                        "(GENREBOT_QUEUE_SIZE; default 200)")
    parser.add_argument("--queue-mb", type=float, help="audio the waiting classifications may hold, MiB "
                        "(GENREBOT_QUEUE_MB; default 1024)")
    parser.add_argument("--per-user-jobs", type=int, help="classifications, and apart link downloads, one user "
                        "may have in line (GENREBOT_PER_USER_JOBS; default 3)")
    parser.add_argument("--download-workers", type=int, help="link downloads at once "
                        "(GENREBOT_DOWNLOAD_WORKERS; default 8)")
    parser.add_argument("--cooldown", type=float, help="seconds between two /classify of one user "
                        "(GENREBOT_COOLDOWN_S; default 10)")
    parser.add_argument("--max-attachment-mb", type=float, help="largest audio file accepted, MiB "
                        "(GENREBOT_MAX_ATTACHMENT_MB; default 25)")
    parser.add_argument("--max-duration", type=float, help="longest track accepted, seconds "
                        "(GENREBOT_MAX_DURATION_S; default 1200)")
    parser.add_argument("--download-timeout", type=float, help="seconds a link download may take "
                        "(GENREBOT_DOWNLOAD_TIMEOUT_S; default 60)")
    parser.add_argument("--dev-guild", type=int, help="server id to sync slash commands to instantly "
                        "(GENREBOT_DEV_GUILD)")
    parser.add_argument("--sync", action="store_true", default=None,
                        help="publish the slash commands to Discord at start-up (GENREBOT_SYNC=1)")
    parser.add_argument("--max-playlist", type=int, help="most songs one /playlist may ask for "
                        "(GENREBOT_MAX_PLAYLIST; default 50; Discord's menus show at most 25)")
    parser.add_argument("--media", type=Path, help="folder of the radio's audio copies (GENREBOT_MEDIA; "
                        "default data/media)")
    parser.add_argument("--media-cap-gb", type=float, help="size cap of that folder, GiB; the least recently "
                        "played copies go first (GENREBOT_MEDIA_CAP_GB; default 4)")
    parser.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS,
                        help="how much to log (GENREBOT_LOG_LEVEL; default INFO)")
    parser.add_argument("--shard-ids", type=_shard_ids, help="Discord shards this process runs, e.g. 0,1 "
                        "(GENREBOT_SHARD_IDS; needs --shard-count; default: all)")
    parser.add_argument("--shard-count", type=int, help="total Discord shards over all processes "
                        "(GENREBOT_SHARD_COUNT; with it the bot is discord.py's AutoShardedBot)")
    commands = parser.add_subparsers(dest="command", metavar="{index,radio,migrate-db,worker}")
    index = commands.add_parser("index", help="add every audio file under a folder to a server's pool")
    index.add_argument("--guild", type=int, required=True, help="Discord server id whose pool to seed")
    index.add_argument("folder", type=Path)
    radio = commands.add_parser("radio", help="render the radio the bot would play for the console's local "
                                "server and user to an Ogg Opus file")
    radio.add_argument("--songs", type=int, default=5, help="how many songs (default 5)")
    radio.add_argument("--out", type=Path, required=True, help="the .ogg file to write")
    radio.add_argument("--json", action="store_true", help="print the songs and where they start as JSON")
    migrate = commands.add_parser("migrate-db", help="copy the SQLite database (--db) into PostgreSQL")
    migrate.add_argument("--to", required=True, dest="migrate_to", metavar="POSTGRESQL_URL",
                         help="target database, postgresql://user:password@host:port/dbname")
    worker = commands.add_parser("worker", help="classify the bot's queued uploads (needs the PostgreSQL "
                                 "database, GENREBOT_DATABASE_URL); run any number, on any machines")
    worker.add_argument("--concurrency", type=int, dest="worker_concurrency",
                        help="classifications at once in this process (default 1; one process per core scales best)")
    return parser


def _shard_ids(text: str) -> tuple[int, ...]:
    """``"0,1"`` -> ``(0, 1)``."""
    return tuple(int(part) for part in text.split(",") if part.strip())


def _env(env: Mapping[str, str], name: str, convert=str):
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return convert(raw)
    except ValueError:
        raise SystemExit(f"genrebot: environment variable {name}={raw!r} is not valid") from None


def _flag(value: str) -> bool:
    return value.lower() in {"1", "true", "yes", "on"}


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Build the config from ``argv`` (default ``sys.argv[1:]``) over ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    args = _parser().parse_args(argv)

    def pick(flag_value, env_name: str, convert=str):
        return flag_value if flag_value is not None else _env(env, env_name, convert)

    cwd = _env(env, "GENREBOT_CWD", Path)

    def given_path(typed: Path | None) -> Path | None:
        return None if typed is None else user_path(typed, cwd)

    attachment_mb = pick(args.max_attachment_mb, "GENREBOT_MAX_ATTACHMENT_MB", float)
    queue_mb = pick(args.queue_mb, "GENREBOT_QUEUE_MB", float)
    recommender = {"max_playlist": pick(args.max_playlist, "GENREBOT_MAX_PLAYLIST", int)}
    media_cap_gb = pick(args.media_cap_gb, "GENREBOT_MEDIA_CAP_GB", float)
    values = {
        "discord_token": _env(env, "DISCORD_TOKEN"),
        "db_path": given_path(pick(args.db, "GENREBOT_DB", Path)),
        "database_url": pick(args.database_url, "GENREBOT_DATABASE_URL"),
        "checkpoint": given_path(pick(args.checkpoint, "GENREBOT_CHECKPOINT", Path)),
        "workers": pick(args.workers, "GENREBOT_WORKERS", int),
        "queue_size": pick(args.queue_size, "GENREBOT_QUEUE_SIZE", int),
        "queue_bytes": None if queue_mb is None else int(queue_mb * MiB),
        "per_user_jobs": pick(args.per_user_jobs, "GENREBOT_PER_USER_JOBS", int),
        "download_workers": pick(args.download_workers, "GENREBOT_DOWNLOAD_WORKERS", int),
        "cooldown_s": pick(args.cooldown, "GENREBOT_COOLDOWN_S", float),
        "max_attachment_bytes": None if attachment_mb is None else int(attachment_mb * MiB),
        "max_duration_s": pick(args.max_duration, "GENREBOT_MAX_DURATION_S", float),
        "download_timeout_s": pick(args.download_timeout, "GENREBOT_DOWNLOAD_TIMEOUT_S", float),
        "dev_guild_id": pick(args.dev_guild, "GENREBOT_DEV_GUILD", int),
        "sync": pick(args.sync, "GENREBOT_SYNC", _flag),
        "log_level": pick(args.log_level, "GENREBOT_LOG_LEVEL", str.upper),
        "command": args.command or "run",
        "index_guild": getattr(args, "guild", None),
        "index_folder": given_path(getattr(args, "folder", None)),
        "cwd": cwd,
        "media_folder": given_path(pick(args.media, "GENREBOT_MEDIA", Path)),
        "media_cap_bytes": None if media_cap_gb is None else int(media_cap_gb * GiB),
        "radio_songs": getattr(args, "songs", None),
        "radio_out": given_path(getattr(args, "out", None)),
        "radio_json": getattr(args, "json", None),
        "migrate_to": getattr(args, "migrate_to", None),
        "worker_concurrency": getattr(args, "worker_concurrency", None),
        "shard_ids": pick(args.shard_ids, "GENREBOT_SHARD_IDS", _shard_ids),
        "shard_count": pick(args.shard_count, "GENREBOT_SHARD_COUNT", int),
    }
    try:
        values["recommender"] = RecommenderConfig(**{name: value for name, value in recommender.items()
                                                     if value is not None})
        return Config(**{name: value for name, value in values.items() if value is not None})
    except ValueError as exc:
        raise SystemExit(f"genrebot: {exc}") from None
