"""``python -m bot``: the Discord bot with DISCORD_TOKEN, the console front end without;
``python -m bot index --guild ID FOLDER`` seeds a server's pool from local files;
``python -m bot radio --songs N --out FILE.ogg [--json]`` renders the console user's radio.

The Discord package (``cogs``) is imported only when a token is set, so the console and the index
command run where discord.py is not installed."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from bot import texts
from bot.config import Config, load_config
from bot.console import DEFAULT_USER, LOCAL_GUILD_ID, Console, index_with_progress, local_user_id
from bot.errors import GenreBotError
from bot.logs import setup_logging
from bot.media_store import MediaStore
from bot.radio_errors import RadioError
from bot.radio_render import render_radio
from bot.services import Services
from genre_engine.errors import CheckpointError
from storage.errors import StorageError

log = logging.getLogger("genrebot")


async def index(services: Services, guild_id: int, config: Config) -> int:
    report = await index_with_progress(services, guild_id, config.index_folder)
    print("\n".join(texts.index_lines(config.index_folder, report, guild_id=guild_id)))
    return 0


async def radio(services: Services, config: Config) -> int:
    media = MediaStore(config.media_folder, config.media_cap_bytes)
    render = await render_radio(services.store, media, LOCAL_GUILD_ID, local_user_id(DEFAULT_USER),
                                config.radio_songs, config.radio_out)
    if config.radio_json:
        print(json.dumps(render.as_json(), ensure_ascii=False))
    else:
        for song in render.songs:
            print(f"{song.start_s:8.1f} s  {song.title}")
        print(f"Wrote {render.duration_s:.1f} s to {config.radio_out}.")
    return 0


async def run(config: Config) -> int:
    services = await Services.start(config)
    try:
        if config.command == "index":
            return await index(services, config.index_guild, config)
        if config.command == "radio":
            return await radio(services, config)
        if config.discord_token:
            from cogs.client import run_discord  # only here: the console runs without discord.py

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
    except (CheckpointError, StorageError, GenreBotError, RadioError) as error:  # e.g. no model, newer database
        print(f"genrebot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
