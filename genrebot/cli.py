"""``python -m bot``: the Discord bot with DISCORD_TOKEN, the console front end without;
``python -m bot index --guild ID FOLDER`` seeds a server's pool from local files;
``python -m bot radio --songs N --out FILE.ogg [--json]`` renders the console user's radio;
``python -m bot migrate-db --to postgresql://...`` copies the SQLite database into PostgreSQL;
``python -m bot worker [--concurrency N]`` classifies the uploads and fetches the links queued in it.

The Discord package (``cogs``) is imported only when a token is set, so the console and the index
command run where discord.py is not installed."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from tqdm import tqdm

from bot import texts
from bot.config import Config, load_config
from bot.errors import GenreBotError
from bot.logs import setup_logging
from bot.radio.render import render_radio
from bot.services import Services, link_policy
from console.repl import (
    DEFAULT_USER,
    LOCAL_GUILD_ID,
    Console,
    index_with_progress,
    local_user_id,
)
from genre_engine import GenreEngine
from genre_engine.errors import CheckpointError
from storage import describe_location
from storage.errors import StorageError
from storage.transfer import copy_sqlite_to_postgres

log = logging.getLogger("genrebot")



async def index(services: Services, guild_id: int, config: Config) -> int:
    report = await index_with_progress(services, guild_id, config.index_folder)
    print("\n".join(texts.index_lines(config.index_folder, report, guild_id=guild_id)))
    return 0


async def radio(services: Services, config: Config) -> int:
    render = await render_radio(services.store, services.media, LOCAL_GUILD_ID, local_user_id(DEFAULT_USER),
                                config.radio_songs, config.radio_out, config=config.recommender,
                                labels=services.labels)
    if config.radio_json:
        print(json.dumps(render.as_json(), ensure_ascii=False))
    else:
        for song in render.songs:
            print(f"{song.start_s:8.1f} s  {song.title}")
        print(f"Wrote {render.duration_s:.1f} s to {config.radio_out}.")
    return 0


async def migrate_db(config: Config) -> int:
    bars: dict[str, tqdm] = {}

    def progress(table: str, done: int, total: int) -> None:
        bar = bars.get(table) or bars.setdefault(
            table, tqdm(desc=table, total=total, unit="row", file=sys.stderr, disable=None))
        bar.update(done - bar.n)

    try:
        report = await copy_sqlite_to_postgres(config.db_path, config.migrate_to, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    counts = ", ".join(f"{count} {table}" for table, count in report.counts.items())
    print(f"Copied {config.db_path} into {describe_location(config.migrate_to)}: {counts} "
          f"(counts checked; {sum(report.copied.values())} rows new in this run).")
    return 0


async def worker(config: Config) -> int:
    """Classify queued uploads and fetch queued links until stopped (SIGINT/SIGTERM); see bot.jobs.queue."""
    from bot.jobs.queue import (  # procrastinate: only for the queue
        WORKER_MODEL_THREADS,
        run_worker,
    )

    # one model thread per job: a worker scales by jobs and processes (one per core), not by
    # threads inside one classification (two of those already fill a 2-core machine)
    engine = await asyncio.to_thread(GenreEngine.from_checkpoint, config.checkpoint,
                                     onnx_options={"threads": WORKER_MODEL_THREADS})
    log.info("worker started", extra={"db": describe_location(config.database_url),
                                      "concurrency": config.worker_concurrency})
    await run_worker(config.database_url, engine, link_policy(config), concurrency=config.worker_concurrency)
    return 0


async def run(config: Config) -> int:
    if config.command == "migrate-db":
        return await migrate_db(config)
    if config.command == "worker":
        return await worker(config)
    services = await Services.start(config)
    try:
        if config.command == "index":
            return await index(services, config.index_guild, config)
        if config.command == "radio":
            return await radio(services, config)
        if config.discord_token:
            from cogs.client import (
                run_discord,  # only here: the console runs without discord.py
            )

            await run_discord(services, config.discord_token, shard_ids=config.shard_ids,
                              shard_count=config.shard_count)
            return 0
        return await Console(services).run()
    finally:
        await services.close()


def main(argv: list[str] | None = None) -> int:
    config = load_config(argv)
    setup_logging(config.log_level)
    try:
        return asyncio.run(run(config))
    except (CheckpointError, StorageError, GenreBotError) as error:  # e.g. no model, newer database
        print(f"genrebot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
