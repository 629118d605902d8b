from __future__ import annotations

from pathlib import Path

import pytest
import torch

from genre_engine.checkpoint import load_checkpoint, save_checkpoint
from genre_engine.errors import CheckpointError
from tests.conftest import tiny_bundle


def test_round_trip_keeps_everything_needed_to_run(tmp_path: Path) -> None:
    bundle = tiny_bundle()
    bundle.metrics = {"clip_accuracy": 0.5, "per_class": {"jazz": {"f1": 0.4}}}
    path = save_checkpoint(tmp_path / "m.pt", bundle)
    loaded = load_checkpoint(path)
    assert loaded.arch == "cnn" and loaded.labels == bundle.labels
    assert loaded.features == bundle.features
    assert loaded.metrics == bundle.metrics
    torch.testing.assert_close(loaded.mean, bundle.mean)
    x = torch.randn(2, 1, *bundle.features.shape)
    bundle.model.eval()
    torch.testing.assert_close(loaded.model(x), bundle.model(x))
    assert not loaded.model.training


def test_missing_checkpoint_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="training.train"):
        load_checkpoint(tmp_path / "nope.pt")


def test_foreign_and_garbage_files_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a genrebot checkpoint"):
        load_checkpoint(foreign)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a zip at all" * 10)
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(garbage)


def test_incompatible_weights_and_versions_are_refused(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "m.pt", tiny_bundle())
    payload = torch.load(path, weights_only=True)
    payload["state_dict"].pop(next(iter(payload["state_dict"])))
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(path)
    payload["version"] = 999
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="version 999"):
        load_checkpoint(path)
