"""The entry point, above the core and both front ends: ``genrebot`` (or ``python -m bot``).

- ``genrebot``: the Discord bot when ``DISCORD_TOKEN`` is set, the console front end otherwise;
- ``genrebot index [--guild ID] FOLDER``: seed a server's pool (the console's by default) from local files;
- ``genrebot radio --songs N --out FILE.ogg [--json]``: render the console user's radio to a file;
- ``genrebot migrate-db --to postgresql://...``: copy the SQLite database into PostgreSQL;
- ``genrebot worker [--concurrency N]``: classify the uploads and fetch the links queued in PostgreSQL;
- ``genrebot reanalyse [--guild ID] [--json]``: analyse again every song another model analysed;
- ``genrebot model [--json]``: the serving model and how many songs it analysed.

The settings (``--db``, ``--workers`` ...) come from :mod:`bot.config`, where each is declared once;
a subcommand's own options are declared with it here (:data:`COMMANDS`). The Discord package
(``cogs``) is imported only when a token is set, so everything else runs without discord.py.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bot import texts
from bot.config import DB_NAME, MEDIA_NAME, Config, add_flags, config_from, user_path
from bot.errors import GenreBotError
from bot.jobs.children import load_engine
from bot.logs import setup_logging
from bot.radio.render import render_radio
from bot.services import Services, bounded_work, serving_model
from console.repl import (
    DEFAULT_USER,
    LOCAL_GUILD_ID,
    Console,
    index_with_progress,
    local_user_id,
)
from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from genre_engine.errors import CheckpointError
from genre_engine.locations import DATA_DIR
from storage import describe_location, open_store
from storage.errors import StorageError
from storage.transfer import copy_sqlite_to_postgres

log = logging.getLogger("genrebot")

Options = argparse.Namespace


@dataclass(frozen=True)
class Command:
    """A subcommand: its options (``arguments``), a check of them against the settings that fails
    with a sentence (``check``), and what it does (``run``, returning the exit status)."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Config, Options], Awaitable[int]]
    check: Callable[[Config, Options], None] = lambda config, options: None


@dataclass(frozen=True)
class Invocation:
    """What the command line asks: the settings, the subcommand (``run`` without one) and its options."""

    config: Config
    command: str
    options: Options


# -- the subcommands ---------------------------------------------------------------------------------


async def run_front_end(config: Config, options: Options) -> int:
    """The Discord bot with a token, else the console, over the same services."""
    services = await Services.start(config)
    try:
        await services.reanalyse_in_background()
        if config.discord_token:
            from cogs.client import (
                run_discord,  # only here: everything else runs without discord.py
            )

            await run_discord(
                services, config.discord_token, shard_ids=config.shard_ids, shard_count=config.shard_count
            )
            return 0
        return await Console(services).run()
    finally:
        await services.close()


def index_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--guild",
        type=int,
        default=LOCAL_GUILD_ID,
        help="Discord server id whose pool to seed (default: the console's local server)",
    )
    parser.add_argument("folder", type=Path, help="folder whose audio files to add, recursively (or one audio file)")


async def index(config: Config, options: Options) -> int:
    services = await Services.start(config)
    try:
        report = await index_with_progress(services, options.guild, options.folder)
    finally:
        await services.close()
    print("\n".join(texts.index_lines(options.folder, report, guild_id=options.guild)))
    return 0


def radio_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--songs", type=int, default=5, help="how many songs (default 5)")
    parser.add_argument("--out", type=Path, required=True, help="the .ogg file to write")
    parser.add_argument("--json", action="store_true", help="print the songs and where they start as JSON")


async def radio(config: Config, options: Options) -> int:
    services = await Services.start(config)
    try:
        render = await render_radio(
            services.store,
            services.media,
            LOCAL_GUILD_ID,
            local_user_id(DEFAULT_USER),
            options.songs,
            options.out,
            config=config.recommender,
            labels=services.labels,
        )
    finally:
        await services.close()
    if options.json:
        print(json.dumps(render.as_json(), ensure_ascii=False))
    else:
        for song in render.songs:
            print(f"{song.start_s:8.1f} s  {song.title}")
        print(f"Wrote {render.duration_s:.1f} s to {options.out}.")
    return 0


def migrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        required=True,
        metavar="POSTGRESQL_URL",
        help="target database, postgresql://user:password@host:port/dbname",
    )


def check_migration(config: Config, options: Options) -> None:
    Config(database_url=options.to)  # the same check as the setting's


async def migrate_db(config: Config, options: Options) -> int:
    bars: dict[str, tqdm] = {}

    def progress(table: str, done: int, total: int) -> None:
        bar = bars.get(table) or bars.setdefault(
            table, tqdm(desc=table, total=total, unit="row", file=sys.stderr, disable=None)
        )
        bar.update(done - bar.n)

    try:
        report = await copy_sqlite_to_postgres(config.db_path, options.to, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    counts = ", ".join(f"{count} {table}" for table, count in report.counts.items())
    print(
        f"Copied {config.db_path} into {describe_location(options.to)}: {counts} "
        f"(counts checked; {sum(report.copied.values())} rows new in this run)."
    )
    return 0


UNAVAILABLE_SHOWN = 20  # songs with no audio that `reanalyse` lists by name


def reanalyse_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--guild", type=int, help="only this Discord server's songs (default: every server's)")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object: model, songs, reanalysed, current, unavailable"
    )


async def reanalyse(config: Config, options: Options) -> int:
    """Analyse again, in the foreground, the songs another model analysed (bot.reanalysis)."""
    services = await Services.start(config)
    bar = tqdm(desc="re-analysing", unit="song", file=sys.stderr, disable=None)
    try:

        def step(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        # nobody waits on a foreground run: every classification worker takes part
        report = await services.reanalysis.run(guild_id=options.guild, on_song=step, concurrency=config.workers)
        unavailable = await services.store.other_model_songs(
            guild_id=options.guild, missing=True, limit=UNAVAILABLE_SHOWN
        )
    finally:
        bar.close()
        await services.close()
    if options.json:
        print(json.dumps(report.as_json()))
    else:
        print("\n".join(texts.reanalysis_lines(report, unavailable)))
    return 0


def model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object: model, checkpoint, runtime, labels, songs"
    )


async def model(config: Config, options: Options) -> int:
    """The serving model, and where the stored songs stand against it."""
    engine = await asyncio.to_thread(load_engine, config.checkpoint)
    async with open_store(
        config.store_location, pool_cache_mb=config.pool_cache_mb, model=serving_model(engine)
    ) as store:
        counts = await store.model_counts()
    checkpoint = config.checkpoint or DEFAULT_CHECKPOINT
    if options.json:
        print(
            json.dumps(
                {
                    "model": engine.model_id,
                    "checkpoint": str(checkpoint),
                    "runtime": engine.runner.runtime,
                    "labels": list(engine.labels),
                    "songs": {
                        "current": counts.current,
                        "other_model": counts.other_model,
                        "unavailable": counts.unavailable,
                    },
                }
            )
        )
    else:
        print("\n".join(texts.model_lines(engine, checkpoint, counts)))
    return 0


def worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="classifications at once in this process (default 1; one process per core scales best)",
    )


def check_worker(config: Config, options: Options) -> None:
    if not config.database_url:
        raise ValueError(
            "a worker needs the PostgreSQL database of the bot: set GENREBOT_DATABASE_URL or --database-url"
        )
    if options.concurrency < 1:
        raise ValueError("a worker's concurrency must be >= 1")


async def worker(config: Config, options: Options) -> int:
    """Classify queued uploads and fetch queued links until stopped (SIGINT/SIGTERM); see bot.jobs.queue."""
    from bot.jobs.queue import (  # procrastinate: only for the queue
        WORKER_MODEL_THREADS,
        run_worker,
    )

    # one model thread per job: a worker scales by jobs and processes (one per core), not by
    # threads inside one classification (two of those already fill a 2-core machine)
    make_engine = functools.partial(load_engine, config.checkpoint, WORKER_MODEL_THREADS)
    model_id = (await asyncio.to_thread(make_engine)).model_id  # the children load it again, each its own
    work = bounded_work(config, make_engine, workers=options.concurrency)
    log.info(
        "worker started",
        extra={"db": describe_location(config.database_url), "concurrency": options.concurrency, "model": model_id},
    )
    try:
        await run_worker(config.database_url, work, model_id=model_id, concurrency=options.concurrency)
    finally:
        await asyncio.to_thread(work.close)
    return 0


COMMANDS = (
    Command("index", "add every audio file under a folder to a server's pool", index_arguments, index),
    Command(
        "radio",
        "render the radio the bot would play for the console's local server and user to an Ogg Opus file",
        radio_arguments,
        radio,
    ),
    Command(
        "migrate-db", "copy the SQLite database (--db) into PostgreSQL", migrate_arguments, migrate_db, check_migration
    ),
    Command(
        "reanalyse",
        "analyse again with the model in use every stored song another model analysed, then exit",
        reanalyse_arguments,
        reanalyse,
    ),
    Command("model", "the model in use and the songs analysed by it or by others", model_arguments, model),
    Command(
        "worker",
        "classify the bot's queued uploads (needs the PostgreSQL database, GENREBOT_DATABASE_URL); "
        "run any number, on any machines",
        worker_arguments,
        worker,
        check_worker,
    ),
)
RUN = Command("run", "the Discord bot with DISCORD_TOKEN, the console without", lambda parser: None, run_front_end)


# -- the command line ----------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The settings' flags and every subcommand with its options."""
    main = argparse.ArgumentParser(
        prog="genrebot",
        description="genrebot: the Discord bot when DISCORD_TOKEN is set, a console front end otherwise.",
        epilog="Every setting can also be set by the environment variable named in its help.",
    )
    add_flags(main)
    commands = main.add_subparsers(dest="command", metavar="{" + ",".join(c.name for c in COMMANDS) + "}")
    for command in COMMANDS:
        command.arguments(commands.add_parser(command.name, help=command.help))
    return main


def parse(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Invocation:
    """The invocation ``argv`` (default ``sys.argv[1:]``) asks for over ``env`` (default ``os.environ``);
    SystemExit with one line when a setting or an option is not valid."""
    options = parser().parse_args(argv)
    name = options.command or RUN.name
    config = config_from(options, env)
    for option, value in vars(options).items():  # a subcommand's paths are the user's, as the settings' are
        if isinstance(value, Path):
            setattr(options, option, user_path(value, config.cwd))
    try:
        command_named(name).check(config, options)
    except ValueError as exc:
        raise SystemExit(f"genrebot: {exc}") from None
    return Invocation(config, name, options)


def command_named(name: str) -> Command:
    return next((command for command in COMMANDS if command.name == name), RUN)


async def run(invocation: Invocation) -> int:
    return await command_named(invocation.command).run(invocation.config, invocation.options)


def adopt_old_state(config: Config, old: Path = DATA_DIR) -> None:
    """Move the database and audio copies that genrebot kept in ``data/`` before runtime state had a
    folder of its own into the home folder, once, when the defaults are in use and the home has none."""
    moves = [(old / DB_NAME, config.db_path), (old / MEDIA_NAME, config.media_folder)]
    moves += [
        (old / f"{DB_NAME}{suffix}", config.db_path.with_name(f"{DB_NAME}{suffix}")) for suffix in ("-wal", "-shm")
    ]
    if config.db or config.media or config.db_path.exists() or not moves[0][0].exists():
        return
    config.home.mkdir(parents=True, exist_ok=True)
    for source, target in moves:
        if source.exists() and not target.exists():
            source.rename(target)
            log.warning("runtime state moved", extra={"from": source, "to": target})


def main(argv: list[str] | None = None) -> int:
    invocation = parse(argv)
    setup_logging(invocation.config.log_level)
    adopt_old_state(invocation.config)
    try:
        return asyncio.run(run(invocation))
    except (CheckpointError, StorageError, GenreBotError) as error:  # e.g. no model, newer database
        print(f"genrebot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
