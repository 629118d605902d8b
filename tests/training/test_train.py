from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from genre_engine.checkpoint import load_checkpoint
from genre_engine.engine import GenreEngine
from genre_engine.runtime_torch import TorchModel
from tests.training.conftest import PITCHES, train_args
from training import fit as fit_module
from training import train
from training.data import choose_splits, discover
from training.errors import ConfigError, run_cli
from training.options import parse_config


def test_two_epochs_on_separable_tones_beat_chance(trained: tuple[Path, dict[str, Any]]) -> None:
    out, metrics = trained
    chance = 1 / len(PITCHES)
    assert metrics["split"] == {"name": "seeded", "train": 12, "valid": 3, "test": 3, "n_clips": 18}
    held_out = (metrics["valid"]["clip_accuracy"] + metrics["test"]["clip_accuracy"]) / 2  # 6 clips
    assert held_out > chance + 0.1
    assert metrics["history"][-1]["train_loss"] < metrics["history"][0]["train_loss"]


def test_output_folder_holds_everything_a_run_promises(trained: tuple[Path, dict[str, Any]]) -> None:
    out, metrics = trained
    for name in ("model.pt", "last.pt", "metrics.json", "loss_curves.png", "confusion_matrix.png", "command.txt"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "command.txt").read_text().startswith("python -m training.train --data ")
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["test"]["per_class"].keys() == set(PITCHES)
    assert len(on_disk["test"]["confusion_matrix"]) == len(PITCHES)
    assert {"clip_accuracy", "segment_accuracy", "n_clips", "per_class"} <= on_disk["valid"].keys()


def test_checkpoint_runs_in_the_engine_with_the_metrics_training_measured(
    trained: tuple[Path, dict[str, Any]], tones: Path
) -> None:
    out, metrics = trained
    bundle = load_checkpoint(out / "model.pt")
    assert bundle.labels == tuple(sorted(PITCHES)) and bundle.features.sample_rate == 8000
    assert bundle.metrics["test"]["clip_accuracy"] == metrics["test"]["clip_accuracy"]
    assert bundle.extra["split"]["name"] == "seeded"
    # The engine's own classify() on the test clips agrees with the accuracy training reported.
    engine = GenreEngine(TorchModel(bundle))
    test_files = sorted(p for p in tones.rglob("*.wav"))
    split = choose_splits(
        discover(tones), split_dir=None, folds=1, repeats=1, full=False, valid_fraction=0.15, test_fraction=0.15, seed=0
    )[0]
    hits = [engine.classify(test_files[i]).genre == test_files[i].parent.name for i in split.test]
    assert np.mean(hits) == metrics["test"]["clip_accuracy"]


def test_same_seed_same_model_and_resume_continues_exactly(
    tones: Path, tmp_path: Path, trained: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, metrics = trained
    reference = load_checkpoint(out / "model.pt").model.state_dict()
    args = train_args(tones, tmp_path / "out", tmp_path / "cache")

    # Stop the run after its first epoch, as a crash or Ctrl-C would.
    real_epoch = fit_module.train_one_epoch
    calls = []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_epoch(*a, **k)

    monkeypatch.setattr(fit_module, "train_one_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train.main(args)
    monkeypatch.setattr(fit_module, "train_one_epoch", real_epoch)
    resumed = train.main(args + ["--resume"])

    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    assert resumed["test"] == metrics["test"]
    state = load_checkpoint(tmp_path / "out" / "model.pt").model.state_dict()
    assert all(torch.equal(state[k], reference[k]) for k in reference)
    assert (tmp_path / "out" / "command.txt").read_text().count("\n") == 2


def test_resume_refuses_a_changed_run(tones: Path, trained: tuple[Path, dict[str, Any]]) -> None:
    out, _ = trained
    with pytest.raises(ConfigError, match="different lr"):
        train.main(train_args(tones, out, out.parent / "cache", "--lr", "0.5", "--resume"))


def test_cross_validation_reports_every_fold_and_their_spread(tones: Path, tmp_path: Path) -> None:
    metrics = train.main(train_args(tones, tmp_path / "out", tmp_path / "cache", "--folds", "2", "--epochs", "1"))
    assert [f["split"]["name"] for f in metrics["folds"]] == ["r1-f1", "r1-f2"]
    assert sum(f["split"]["test"] for f in metrics["folds"]) == 18
    summary = metrics["summary"]["test"]
    accuracies = [f["test"]["clip_accuracy"] for f in metrics["folds"]]
    assert summary["clip_accuracy"]["mean"] == pytest.approx(np.mean(accuracies))
    assert summary["clip_accuracy"]["std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert np.sum(summary["confusion_matrix"]) == 18
    bundle = load_checkpoint(tmp_path / "out" / "model.pt")
    assert bundle.metrics["cross_validation"]["test"]["folds"] == 2
    assert bundle.metrics["split"] == metrics["model_pt_split"]


def test_full_trains_on_every_clip_without_held_out_metrics(tones: Path, tmp_path: Path) -> None:
    metrics = train.main(
        train_args(
            tones,
            tmp_path / "out",
            tmp_path / "cache",
            "--full",
            "--epochs",
            "1",
            "--aug-copies",
            "1",
            "--hpss-remix",
            "0",
            "--pitch-shift",
            "0",
            "--time-stretch",
            "0",
            "--freq-mask",
            "0.2",
            "--mixup-alpha",
            "0.4",
        )
    )
    assert metrics["split"]["train"] == 18 and metrics["valid"] is None and metrics["test"] is None
    assert load_checkpoint(tmp_path / "out" / "model.pt").extra["options"]["aug_copies"] == 1
    assert not (tmp_path / "out" / "confusion_matrix.png").exists()


def test_model_and_feature_arguments_parse_as_json_when_they_can() -> None:
    config = parse_config(
        [
            "--data",
            "d",
            "--out",
            "o",
            "--model-arg",
            "head=mlp",
            "--model-arg",
            "dropout=0.3",
            "--model-arg",
            "batchnorm=false",
            "--feature-arg",
            "n_mels=64",
        ]
    )
    assert config.model.args == {"head": "mlp", "dropout": 0.3, "batchnorm": False}
    assert config.features.n_mels == 64
    with pytest.raises(ConfigError, match="unknown feature parameter mels"):
        parse_config(["--data", "d", "--out", "o", "--feature-arg", "mels=64"])


def test_problems_are_one_line_errors_not_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    status = run_cli(lambda: train.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]))
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "nowhere" in err and "\n" not in err
