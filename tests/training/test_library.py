"""Training called as a library, with a ``TrainConfig`` and no command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch

from genre_engine.engine import GenreEngine
from genre_engine.runtime_torch import TorchModel
from tests.training.conftest import PITCHES, TINY_FEATURES
from training.config import ModelConfig, OptimConfig, TrainConfig
from training.errors import ConfigError
from training.fit import build_model, fit
from training.options import get_args_parser, parse_config
from training.run import config_splits, prepare, run_training


def _no_argparse(*args, **kwargs):
    raise AssertionError("the library parsed a command line")


@pytest.fixture
def config(tones: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrainConfig:
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", _no_argparse)
    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", _no_argparse)
    return TrainConfig(
        data=tones,
        out=tmp_path / "out",
        model=ModelConfig("cnn", {"dropout": 0.1}),
        features=TINY_FEATURES,
        optim=OptimConfig(epochs=2, batch_size=4, lr=3e-3),
        device="cpu",
        cache_dir=str(tmp_path / "cache"),
        workers=1,
    )


def test_fit_on_separable_tones_from_a_config_beats_chance(config: TrainConfig) -> None:
    device = torch.device("cpu")
    data, splits, training_data = prepare(config, config_splits(config), device, progress=False)
    result = fit(config, training_data, splits[0], seed=config.seed, progress=False)
    held_out = (result.report["valid"]["clip_accuracy"] + result.report["test"]["clip_accuracy"]) / 2
    assert held_out > 1 / len(PITCHES) + 0.1
    assert result.bundle.labels == data.labels and result.bundle.features == TINY_FEATURES
    assert GenreEngine(TorchModel(result.bundle)).classify(data.clips[0].path).genre in PITCHES


def test_run_training_writes_a_run_without_a_command_line(config: TrainConfig) -> None:
    metrics = run_training(config, progress=False)
    assert metrics["split"]["n_clips"] == 18 and metrics["command"] is None
    assert (config.out / "model.pt").stat().st_size > 0 and not (config.out / "command.txt").exists()


def test_build_model_takes_the_model_config() -> None:
    model = build_model(ModelConfig("cnn", {"dropout": 0.3}), 3, TINY_FEATURES)
    assert model(torch.zeros(2, 1, *TINY_FEATURES.shape)).shape == (2, 3)
    with pytest.raises(ConfigError, match="cannot build model 'cnn'"):
        build_model(ModelConfig("cnn", {"wings": 2}), 3, TINY_FEATURES)


def test_a_runs_options_record_every_flag_that_changes_what_it_computes() -> None:
    argv = ["--data", "d", "--out", "o"]
    flags = set(vars(get_args_parser().parse_args(argv))) - {"resume", "device", "workers", "cache_dir", "out"}
    assert set(parse_config(argv).options()) == flags


def test_flag_defaults_are_the_config_defaults() -> None:
    assert parse_config(["--data", "d", "--out", "o"]) == TrainConfig(data=Path("d"), out=Path("o"))
