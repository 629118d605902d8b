"""``python -m bot``: the Discord bot with DISCORD_TOKEN, the console front end without;
``python -m bot index --guild ID FOLDER`` seeds a server's pool from local files;
``python -m bot migrate-db --to postgresql://...`` copies the SQLite database into PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import sys

from tqdm import tqdm

from bot.client import run_discord
from bot.config import Config, load_config
from bot.console import Console
from bot.errors import GenreBotError
from bot.logs import setup_logging
from bot.services import Services
from genre_engine.errors import CheckpointError
from storage import describe_location
from storage.errors import StorageError
from storage.transfer import copy_sqlite_to_postgres

log = logging.getLogger("genrebot")


async def index(services: Services, guild_id: int, config: Config) -> int:
    with tqdm(desc="classifying", unit="file", file=sys.stderr, disable=None) as bar:
        report = await services.index_folder(guild_id, config.index_folder, total=lambda n: bar.reset(total=n),
                                             progress=lambda done: bar.update(done - bar.n))
    print(f"Indexed {config.index_folder} into server {guild_id}: {report.added} added, "
          f"{report.duplicates} already in the pool, {len(report.failed)} failed.")
    for path, why in report.failed:
        print(f"   ✗ {path}: {why}")
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


async def run(config: Config) -> int:
    if config.command == "migrate-db":
        return await migrate_db(config)
    services = await Services.start(config)
    try:
        if config.command == "index":
            return await index(services, config.index_guild, config)
        if config.discord_token:
            await run_discord(services, config.discord_token)
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
