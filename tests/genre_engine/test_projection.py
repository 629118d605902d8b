"""The compact embedding: the projection file, and the engine applying only one fitted on its model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from genre_engine import GenreEngine
from genre_engine.checkpoint import file_sha256
from genre_engine.errors import CheckpointError
from genre_engine.projection import Projection, projection_path
from training.projection import fit_pca


def _rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_projection_roundtrip_and_unit_rows(tmp_path: Path) -> None:
    projection = fit_pca(_rows(50, 12), 4, "abc")
    loaded = Projection.load(projection.save(tmp_path / "p.npz", "python -m studies.projection --ship 4"))
    assert (loaded.input_dim, loaded.output_dim, loaded.checkpoint_sha256) == (12, 4, "abc")
    with np.load(tmp_path / "p.npz") as data:
        assert str(data["command"]) == "python -m studies.projection --ship 4"
    out = loaded.apply(_rows(3, 12, seed=1))
    assert out.shape == (3, 4) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(loaded.apply(_rows(3, 12, seed=1)[0]), out[0], atol=1e-6)
    with pytest.raises(ValueError):
        loaded.apply(_rows(1, 5))


def test_pca_keeps_neighbours_of_low_rank_data() -> None:
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((200, 3)) @ rng.standard_normal((3, 40))
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    compact = fit_pca(rows, 3, "").apply(rows)
    full_sim, compact_sim = rows @ rows.T, compact @ compact.T
    assert np.corrcoef(full_sim.ravel(), compact_sim.ravel())[0, 1] > 0.95


def test_unreadable_projection_is_a_checkpoint_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not numpy")
    with pytest.raises(CheckpointError):
        Projection.load(bad)


@pytest.fixture
def checkpoint_with_projection(tiny_checkpoint: Path, tmp_path: Path) -> Path:
    checkpoint = Path(shutil.copy(tiny_checkpoint, tmp_path / "tiny.pt"))
    dim = GenreEngine.from_checkpoint(checkpoint).embedding_dim
    fit_pca(_rows(40, dim), 8, file_sha256(checkpoint)).save(projection_path(checkpoint))
    return checkpoint


def test_engine_hands_out_the_compact_embedding(checkpoint_with_projection: Path, wav_file: Path) -> None:
    engine = GenreEngine.from_checkpoint(checkpoint_with_projection)
    full = GenreEngine.from_checkpoint(checkpoint_with_projection, compact=False)
    prediction, full_prediction = engine.classify(wav_file), full.classify(wav_file)
    assert engine.embedding_dim == 8 and prediction.embedding.shape == (8,)
    np.testing.assert_allclose(prediction.embedding, engine.projection.apply(full_prediction.embedding), atol=1e-5)
    assert full_prediction.embedding.shape == (full.embedding_dim,) and full.embedding_dim > 8


def test_projection_of_another_checkpoint_is_not_used(
    checkpoint_with_projection: Path, caplog: pytest.LogCaptureFixture
) -> None:
    projection = Projection.load(projection_path(checkpoint_with_projection))
    Projection(projection.mean, projection.components, "0" * 64).save(projection_path(checkpoint_with_projection))
    engine = GenreEngine.from_checkpoint(checkpoint_with_projection)
    assert engine.projection is None and engine.embedding_dim == projection.input_dim
    assert "fitted on another model" in caplog.text
