"""A pool stored with the model's full embeddings moves to the compact ones when the bot starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from bot.config import Config
from bot.services import Services
from genre_engine import GenreEngine
from genre_engine.checkpoint import file_sha256
from genre_engine.projection import projection_path
from storage import SQLiteStore
from tests.support.stores import make_song
from training.projection import fit_pca

GUILD = 7


async def test_start_compacts_a_pool_of_full_embeddings_and_keeps_adding(tmp_path: Path, tiny_checkpoint: Path) -> None:
    checkpoint = Path(shutil.copy(tiny_checkpoint, tmp_path / "tiny.pt"))
    full_dim = GenreEngine.from_checkpoint(checkpoint).embedding_dim
    db = tmp_path / "db.sqlite"
    async with SQLiteStore(db) as store:  # indexed before the projection shipped
        await store.add_songs([make_song(i, guild_id=GUILD, dim=full_dim) for i in range(4)])
    rows = np.random.default_rng(0).standard_normal((40, full_dim)).astype(np.float32)
    projection = fit_pca(rows, 8, file_sha256(checkpoint))
    projection.save(projection_path(checkpoint))

    services = await Services.start(Config(db=db, checkpoint=checkpoint, media=tmp_path / "media"))
    try:
        pool = await services.store.pool_matrix(GUILD)
        assert pool.embeddings.shape == (4, 8)
        await services.store.add_song(make_song(9, guild_id=GUILD, dim=services.engine.embedding_dim))
        assert (await services.store.pool_matrix(GUILD)).embeddings.shape == (5, 8)
    finally:
        await services.close()
