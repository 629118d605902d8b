from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.training.conftest import PITCHES
from training import evaluate
from training.errors import DatasetError


def run(capsys: pytest.CaptureFixture, *argv: str) -> str:
    evaluate.main(evaluate.get_args_parser().parse_args([*argv, "--device", "cpu"]))
    return capsys.readouterr().out


def test_json_is_one_object_with_the_promised_fields(
    trained: tuple[Path, dict[str, Any]], tones: Path, capsys: pytest.CaptureFixture
) -> None:
    out, _ = trained
    printed = run(
        capsys, str(out / "model.pt"), "--data", str(tones), "--json", "--cache-dir", str(out.parent / "cache")
    )
    assert printed.count("\n") == 1
    report = json.loads(printed)
    assert report["n_clips"] == 18 and report["n_segments"] == 54
    assert 0.0 <= report["clip_accuracy"] <= 1.0 and 0.0 <= report["segment_accuracy"] <= 1.0
    assert set(report["per_class"]) == set(PITCHES)
    assert set(report["per_class"]["jazz"]) == {"precision", "recall", "f1", "support"}


def test_split_file_limits_the_clips_and_text_output_reads_as_a_table(
    trained: tuple[Path, dict[str, Any]], tones: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, metrics = trained
    listed = tmp_path / "test.txt"
    listed.write_text("metal/metal.00000.wav\njazz/jazz.00001.wav\nrock/rock.00000.wav\n")
    printed = run(capsys, str(out / "model.pt"), "--data", str(tones), "--split", str(listed), "--cache-dir", "")
    assert "clips: 2  segments: 6" in printed
    assert "clip accuracy:" in printed and "confusion matrix" in printed


def test_nothing_to_evaluate_is_a_clear_error(
    trained: tuple[Path, dict[str, Any]], tones: Path, tmp_path: Path
) -> None:
    out, _ = trained
    empty = tmp_path / "none.txt"
    empty.write_text("rock/rock.00000.wav\n")
    args = evaluate.get_args_parser().parse_args([str(out / "model.pt"), "--data", str(tones), "--split", str(empty)])
    with pytest.raises(DatasetError, match="no clips to evaluate"):
        evaluate.main(args)


def test_clip_distribution_follows_the_engines_early_stop() -> None:
    probs = np.tile([0.0, 1.0], (10, 1))
    probs[[0, 4, 9]] = [0.9, 0.1]  # the three spread segments the engine runs first: decided
    assert evaluate.clip_distribution(probs, 3, 0.5).argmax() == 0
    assert evaluate.clip_distribution(probs, 3, None).argmax() == 1  # every segment: the other genre
