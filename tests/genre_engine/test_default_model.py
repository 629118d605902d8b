"""The shipped checkpoint is what every front end loads without flags: it must load and behave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genre_engine import GENRES, GenreEngine
from genre_engine.checkpoint import DEFAULT_CHECKPOINT


@pytest.fixture(scope="module")
def engine() -> GenreEngine:
    return GenreEngine.from_checkpoint()


def test_default_is_the_documented_musicnn_model(engine: GenreEngine) -> None:
    assert DEFAULT_CHECKPOINT.stat().st_size < 50_000_000
    assert engine.runner.runtime == "onnx"  # the shipped export, paired with the checkpoint
    assert engine.runner.arch == "musicnn" and engine.labels == GENRES
    assert engine.features.kind == "musicnn"
    assert engine.runner.embedding_dim == 1756  # musicnn's features, handed out compacted:
    assert engine.projection is not None and engine.embedding_dim == 256


@pytest.mark.parametrize("genre", ["classical", "metal", "reggae"])
def test_clips_it_learnt_from_are_recognised(engine: GenreEngine, shared_dir: Path, genre: str) -> None:
    # A training clip, so this checks the shipped artefact works end to end, not its accuracy.
    prediction = engine.classify(shared_dir / "gtzan" / "clips" / genre / f"{genre}.00000.wav")
    assert prediction.genre == genre


def test_a_real_song_gets_a_distribution_and_a_unit_embedding(engine: GenreEngine, shared_dir: Path) -> None:
    prediction = engine.classify(shared_dir / "pool" / "muldjord" / "armygeddon.ogg")
    assert prediction.segments in (engine.min_segments, 10) and prediction.duration_s > 180
    assert len(prediction.segment_starts_s) == prediction.segments
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(prediction.embedding) == pytest.approx(1.0, abs=1e-5)
    assert prediction.genre in {"metal", "rock"}
