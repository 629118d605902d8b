"""``python -m bot``: the Discord bot with DISCORD_TOKEN, the console front end without;
``python -m bot index --guild ID FOLDER`` seeds a server's pool from local files."""

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
from storage.errors import StorageError

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


async def run(config: Config) -> int:
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
