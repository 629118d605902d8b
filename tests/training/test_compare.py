from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.conftest import TINY
from training import compare
from training.errors import ConfigError


def test_configurations_share_folds_and_a_rerun_resumes(
    tones: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [
        "--data",
        str(tones),
        "--out",
        str(tmp_path / "cmp"),
        "--folds",
        "2",
        "--configs",
        "cnn-logmel,cnn-stft",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--batch-size",
        "8",
        "--cache-dir",
        str(tmp_path / "cache"),
        *TINY,
    ]
    results = compare.main(argv)
    assert list(results["configs"]) == ["cnn-logmel", "cnn-stft"]
    assert results["protocol"]["n_clips"] == 18
    for name, config in results["configs"].items():
        assert config["test"]["folds"] == 2
        assert sum(map(sum, config["test"]["confusion_matrix"])) == 18  # every clip tested exactly once
        assert (tmp_path / "cmp" / name / "confusion_matrix.png").stat().st_size > 0
        assert "--folds 2 --repeats 1" in config["command"]
    folds = {
        name: [
            json.loads((tmp_path / "cmp" / name / "splits" / f"r1-f{i}.json").read_text())["test"]["n_clips"]
            for i in (1, 2)
        ]
        for name in results["configs"]
    }
    assert folds["cnn-logmel"] == folds["cnn-stft"]
    table = (tmp_path / "cmp" / "results.md").read_text()
    assert table.startswith("| config | clip accuracy") and "`cnn-stft`" in table and "65%" in table

    def no_training(*args, **kwargs):
        raise AssertionError("a finished fold was trained again")

    monkeypatch.setattr(compare, "fit", no_training)
    again = compare.main(argv)
    assert again["configs"] == results["configs"]


def test_unknown_or_unavailable_configurations_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="unknown configuration nope"):
        compare.select_configs("cnn-logmel,nope")
    monkeypatch.setitem(compare.CONFIGS, "musicnn-linear", "--model musicnn --pretrained /nonexistent/MSD_musicnn.pt")
    with pytest.raises(ConfigError, match="musicnn-linear needs"):
        compare.select_configs("musicnn-linear")
    assert "musicnn-linear" not in compare.select_configs(None)
