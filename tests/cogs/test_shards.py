"""`--shard-ids/--shard-count` build discord.py's AutoShardedBot, and any shard answers any button;
`worker [--concurrency N]` needs the PostgreSQL database."""

from __future__ import annotations

import pytest
from discord.ext import commands

from bot.config import load_config
from bot.services import Caller
from cogs.client import GenreBot, make_client
from storage import EventKind
from tests.support.bot_fixtures import GUILD_ID, OTHER_USER_ID, USER_ID, share

URL = "postgresql://genrebot@db.example/genrebot"


def test_shards_come_from_the_flags_or_the_environment() -> None:
    config = load_config(["--shard-ids", "0,1", "--shard-count", "4"], env={})
    assert (config.shard_ids, config.shard_count) == ((0, 1), 4)
    config = load_config([], env={"GENREBOT_SHARD_IDS": "2,3", "GENREBOT_SHARD_COUNT": "4"})
    assert (config.shard_ids, config.shard_count) == ((2, 3), 4)
    assert load_config([], env={}).shard_count is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--shard-ids", "0,1"],
        ["--shard-ids", "4", "--shard-count", "4"],
        ["--shard-count", "0"],
        ["--shard-ids", "-1", "--shard-count", "2"],
    ],
)
def test_impossible_shards_are_refused_clearly(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        load_config(argv, env={})
    assert "shard" in str(caught.value)


async def test_the_client_is_an_auto_sharded_bot_running_the_given_shards(make_services) -> None:
    services = await make_services()
    sharded = make_client(services, shard_ids=(0, 1), shard_count=4)
    assert isinstance(sharded, commands.AutoShardedBot) and isinstance(sharded, GenreBot)
    assert (sharded.shard_ids, sharded.shard_count) == ([0, 1], 4)
    assert not isinstance(make_client(services), commands.AutoShardedBot)


async def test_a_button_one_shard_sent_works_on_another_shard(make_bot, tmp_path) -> None:
    shared_db = tmp_path / "shared.db"  # the one database both processes use
    first = await make_bot(shard_ids=(0,), shard_count=2, db=shared_db)
    second = await make_bot(shard_ids=(1,), shard_count=2, db=shared_db)
    await share(first, OTHER_USER_ID, 220, 330, 440)
    message = first.recorder.last_message_with("genrebot:history:")

    (added,) = await second.click(message, "genrebot:history:3")

    assert added.ephemeral and "to your history" in added.text
    (event,) = await first.services.store.listen_events(GUILD_ID, USER_ID)
    assert (event.kind, event.song_id) == (EventKind.LISTENED, 3)
    assert (await first.services.taste(Caller(GUILD_ID, USER_ID))).songs == 1
