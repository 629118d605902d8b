"""genrebot's settings, each declared once: a field of :class:`Config` with its default, help,
command-line flag and environment variable.

From that one declaration come the flags of ``python -m bot`` (:func:`add_flags`), the reading of
the environment (:func:`load_config`) and the docs' configuration page (:func:`settings_table`). A
flag wins over the environment, and both win over the default. Nothing else in the product reads
``os.environ``. Options of one subcommand (``index --guild``, ``radio --out`` ...) are that
subcommand's own, in :mod:`genrebot.cli`, not settings.

Sizes and times are declared in the units people type (MiB, GiB, seconds) and offered in bytes by
properties (:attr:`Config.max_attachment_bytes` ...). Runtime state (the SQLite database, the radio's
audio copies, caches) lives in one folder, :attr:`Config.home` (``GENREBOT_HOME``; by default
``state/`` in the repository), apart from the shipped model files in ``data/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genre_engine.locations import DEFAULT_HOME
from recommender.config import RecommenderConfig
from storage import DEFAULT_POOL_CACHE_MB, is_postgres_url

DB_NAME = "genrebot.db"  # the SQLite file in the home folder
MEDIA_NAME = "media"  # the radio's audio copies in the home folder
MAPS_NAME = "maps"  # the console's pictures of the server's map in the home folder
MiB = 1024 * 1024
GiB = 1024 * MiB
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Setting:
    """How one :class:`Config` field is set from outside: ``flag`` (None: no flag, e.g. a secret that
    must not show in ``ps``), ``env`` (the environment variable), ``parse`` (text to value; None: the
    field's type), ``shown`` (the default as the docs write it, where the value depends on the machine)."""

    help: str
    flag: str | None
    env: str
    parse: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    shown: str | None = None


_DERIVED = "derived"  # flag and environment variable named after the field


def setting(
    default: Any,
    help: str,
    *,
    flag: str | None = _DERIVED,
    env: str = _DERIVED,
    parse: Callable[[str], Any] | None = None,
    choices: tuple[str, ...] | None = None,
    shown: str | None = None,
    secret: bool = False,
) -> Any:
    """A :class:`Config` field that operators set: ``--field-name`` / ``GENREBOT_FIELD_NAME`` unless
    named otherwise. ``secret`` keeps the value out of ``repr`` (and so out of logs)."""
    meta = {"help": help, "flag": flag, "env": env, "parse": parse, "choices": choices, "shown": shown}
    return field(default=default, repr=not secret, metadata={"setting": meta})


def user_path(typed: str | Path, cwd: Path | None) -> Path:
    """``typed`` (``~`` expanded) relative to ``cwd`` unless absolute or ``cwd`` is None."""
    path = Path(typed).expanduser()
    return path if path.is_absolute() or cwd is None else cwd / path


def parse_flag(value: str) -> bool:
    """``1``, ``true``, ``yes``, ``on`` (any case) are true; anything else is false."""
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``"0,1"`` -> ``(0, 1)``."""
    return tuple(int(part) for part in text.split(",") if part.strip())


@dataclass(frozen=True, kw_only=True)
class Config:
    """Everything an operator can tune, and the few values only code sets (tests)."""

    discord_token: str | None = setting(
        None,
        "the bot's token (Discord developer portal); without it genrebot starts the console",
        flag=None,
        env="DISCORD_TOKEN",
        secret=True,
    )
    home: Path = setting(
        DEFAULT_HOME,
        "folder of the runtime state: the SQLite database, the radio's audio copies, caches",
        shown="`state/` in the repository",
    )
    db: Path | None = setting(None, "SQLite database file", shown=f"`<home>/{DB_NAME}`")
    database_url: str | None = setting(
        None,
        "PostgreSQL database instead of the SQLite file, postgresql://user:password@host:port/dbname "
        "(then uploads are classified by `python -m bot worker` processes)",
        secret=True,
    )
    checkpoint: Path | None = setting(
        None,
        "genre model checkpoint (`.pt`, served through its `.onnx` export beside it)",
        shown="the shipped `data/model.pt`",
    )
    workers: int = setting(2, "classification threads")
    queue_size: int = setting(200, "classifications that may wait in line for a worker")
    queue_mb: float = setting(1024.0, "audio the waiting classifications may hold, MiB")
    per_user_jobs: int = setting(3, "classifications, and apart link downloads, one member may have in line")
    download_workers: int = setting(8, "link downloads at once")
    cooldown_s: float = setting(10.0, "seconds between two /classify of one member", flag="--cooldown")
    max_attachment_mb: float = setting(25.0, "largest audio file accepted, MiB")
    max_duration_s: float = setting(20 * 60.0, "longest track accepted, seconds", flag="--max-duration")
    download_timeout_s: float = setting(60.0, "seconds a link download may take", flag="--download-timeout")
    job_timeout_s: float = setting(
        60.0,
        "seconds one classification may take; past them its process is killed and the song refused",
        flag="--job-timeout",
    )
    job_memory_mb: float = setting(
        1024.0,
        "memory each classifying or link-fetching process may hold (its data, the model included), MiB; "
        "a song that needs more is refused",
    )
    max_playlist: int = setting(50, "most songs one /playlist may ask for (Discord's menus show 25)")
    max_taught_labels: int = setting(50, "most genres one server may teach (/genre teach)")
    media: Path | None = setting(None, "folder of the radio's audio copies", shown=f"`<home>/{MEDIA_NAME}`")
    media_cap_gb: float = setting(4.0, "size cap of that folder, GiB; the least recently played copies go first")
    pool_cache_mb: float = setting(
        DEFAULT_POOL_CACHE_MB,
        "memory for the servers' song pools kept in this process, MiB; the least recently read pools leave first",
    )
    dev_guild: int | None = setting(None, "server id to sync slash commands to instantly")
    sync: bool = setting(False, "publish the slash commands to Discord at start-up", parse=parse_flag)
    log_level: str = setting("INFO", "how much to log", parse=str.upper, choices=LOG_LEVELS)
    shard_ids: tuple[int, ...] | None = setting(
        None, "Discord shards this process runs, e.g. `0,1` (needs --shard-count)", parse=parse_shard_ids, shown="all"
    )
    shard_count: int | None = setting(
        None, "total Discord shards over all processes (with it the bot is discord.py's AutoShardedBot)"
    )
    cwd: Path | None = setting(
        None,
        "where the user started genrebot: paths they give are relative to it "
        "(`scripts/run` sets it before changing to the repository)",
        flag=None,
        shown="the current directory",
    )
    # Only code sets these. Networks that links may reach although they are internal: tests serve
    # audio from 127.0.0.1; production leaves it empty.
    allowed_internal_networks: tuple[IPNetwork, ...] = ()

    def __post_init__(self) -> None:
        for url in (self.database_url,):
            if url is not None and not is_postgres_url(url):
                raise ValueError("a database URL must start with postgresql:// or postgres://")
        counts = (self.workers, self.download_workers, self.per_user_jobs, self.max_taught_labels)
        if min(counts) < 1 or min(self.queue_size, self.queue_mb) < 0:
            raise ValueError("workers, per-user jobs and taught labels must be >= 1, queue sizes >= 0")
        if min(self.cooldown_s, self.max_duration_s, self.download_timeout_s) < 0:
            raise ValueError("durations must not be negative")
        if min(self.job_timeout_s, self.job_memory_mb) <= 0:
            raise ValueError("the job time and memory limits must be positive")
        if self.max_attachment_bytes < 1:
            raise ValueError("the attachment size cap must be positive")
        if self.media_cap_bytes < 1:
            raise ValueError("the media store's size cap must be positive")
        if not self.pool_cache_mb > 0:
            raise ValueError("the pool cache's budget must be a positive number of MiB")
        if self.shard_ids is not None and self.shard_count is None:
            raise ValueError("--shard-ids needs --shard-count (the total number of shards)")
        if self.shard_count is not None:
            if self.shard_count < 1:
                raise ValueError("the shard count must be >= 1")
            if self.shard_ids is not None and (
                not self.shard_ids or not all(0 <= shard < self.shard_count for shard in self.shard_ids)
            ):
                raise ValueError(f"shard ids must be between 0 and {self.shard_count - 1}")
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"the log level must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        RecommenderConfig(max_playlist=self.max_playlist)  # ValueError for a cap it does not take

    @property
    def db_path(self) -> Path:
        """The SQLite file: ``db``, else ``genrebot.db`` in the home folder."""
        return self.db or self.home / DB_NAME

    @property
    def media_folder(self) -> Path:
        """The radio's audio copies: ``media``, else ``media/`` in the home folder."""
        return self.media or self.home / MEDIA_NAME

    @property
    def maps_folder(self) -> Path:
        """Where the console writes the server's map (``/pool map``): ``maps/`` in the home folder."""
        return self.home / MAPS_NAME

    @property
    def store_location(self) -> str | Path:
        """Where the store lives: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or self.db_path

    @property
    def queue_bytes(self) -> int:
        return int(self.queue_mb * MiB)

    @property
    def job_memory_bytes(self) -> int:
        return int(self.job_memory_mb * MiB)

    @property
    def max_attachment_bytes(self) -> int:
        return int(self.max_attachment_mb * MiB)

    @property
    def media_cap_bytes(self) -> int:
        return int(self.media_cap_gb * GiB)

    @property
    def recommender(self) -> RecommenderConfig:
        """The recommender's knobs: its defaults, with the caps operators set here."""
        return RecommenderConfig(max_playlist=self.max_playlist)

    def user_path(self, typed: str | Path) -> Path:
        """A path a user typed (``~`` expanded), relative to where they started genrebot."""
        return user_path(typed, self.cwd)


# -- the declarations, read back -----------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """One setting as declared: its :class:`Config` field, the value type, flag, variable and text."""

    name: str
    type: type
    default: Any
    help: str
    flag: str | None
    env: str
    parse: Callable[[str], Any]
    choices: tuple[str, ...] | None
    shown: str | None


def _base_type(annotation: Any) -> type:
    """``int`` for ``int | None``; the annotation itself otherwise."""
    if isinstance(annotation, types.UnionType):
        (kind,) = (arg for arg in typing.get_args(annotation) if arg is not type(None))
        return kind
    return annotation


def declared_settings() -> tuple[Declared, ...]:
    """Every setting of :class:`Config`, in declaration order."""
    hints = typing.get_type_hints(Config)
    found = []
    for spec in dataclasses.fields(Config):
        meta = spec.metadata.get("setting")
        if meta is None:
            continue
        kind = _base_type(hints[spec.name])
        flag = "--" + spec.name.replace("_", "-") if meta["flag"] == _DERIVED else meta["flag"]
        env = "GENREBOT_" + spec.name.upper() if meta["env"] == _DERIVED else meta["env"]
        found.append(
            Declared(
                spec.name,
                kind,
                spec.default,
                meta["help"],
                flag,
                env,
                meta["parse"] or kind,
                meta["choices"],
                meta["shown"],
            )
        )
    return tuple(found)


def add_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for every setting that has one; each help names its environment variable."""
    for item in declared_settings():
        if item.flag is None:
            continue
        text = f"{item.help} ({item.env}; default {_default_text(item)})"
        if item.type is bool:
            parser.add_argument(item.flag, dest=item.name, action="store_true", default=None, help=text)
        else:
            parser.add_argument(
                item.flag,
                dest=item.name,
                type=item.parse,
                choices=item.choices,
                default=None,
                help=text,
                metavar=None if item.choices else item.name.upper(),
            )


def config_from(
    flags: argparse.Namespace | Mapping[str, Any], env: Mapping[str, str] | None = None, **code: Any
) -> Config:
    """The config from parsed ``flags`` over the environment ``env`` (default ``os.environ``) over the
    defaults; ``code`` sets fields only code sets. Paths are the user's (relative to ``cwd``).
    SystemExit with one line for a value that is not valid."""
    env = os.environ if env is None else env
    given = vars(flags) if isinstance(flags, argparse.Namespace) else dict(flags)
    values: dict[str, Any] = {}
    for item in declared_settings():
        value = given.get(item.name)
        if value is None:
            value = _from_env(env, item)
        if value is not None:
            values[item.name] = value
    cwd = values.get("cwd")
    for item in declared_settings():
        if item.type is Path and item.name != "cwd" and item.name in values:
            values[item.name] = user_path(values[item.name], cwd)
    try:
        return Config(**values, **code)
    except ValueError as exc:
        raise SystemExit(f"genrebot: {exc}") from None


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """The config from the settings' flags in ``argv`` (default ``sys.argv[1:]``) over ``env``."""
    parser = argparse.ArgumentParser(prog="genrebot")
    add_flags(parser)
    return config_from(parser.parse_args(argv), env)


def _from_env(env: Mapping[str, str], item: Declared) -> Any:
    raw = env.get(item.env, "").strip()
    if not raw:
        return None
    try:
        value = item.parse(raw)
    except ValueError:
        raise SystemExit(f"genrebot: environment variable {item.env}={raw!r} is not valid") from None
    return value


def _default_text(item: Declared) -> str:
    if item.shown is not None:
        return item.shown.replace("`", "")
    return "off" if item.default in (None, False) else str(item.default)


def settings_table() -> str:
    """The settings as a Markdown table (the docs' configuration page is built from it)."""
    rows = ["| flag | environment variable | default | what it sets |", "| --- | --- | --- | --- |"]
    for item in declared_settings():
        default = (
            item.shown if item.shown is not None else ("off" if item.default in (None, False) else f"`{item.default}`")
        )
        flag = f"`{item.flag}`" if item.flag else "(none)"
        choices = f" (one of {', '.join(f'`{c}`' for c in item.choices)})" if item.choices else ""
        rows.append(f"| {flag} | `{item.env}` | {default} | {item.help}{choices} |")
    return "\n".join(rows)
