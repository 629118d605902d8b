"""``python -m benchmarks.engine``: one run gives torch and ONNX Runtime, idle and busy, clips and songs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks import engine as bench
from benchmarks.record import read


def _row(runtime: str, setting: str, idle: float, busy: float) -> dict:
    return {"runtime": runtime, "setting": setting, "clips": {"idle_ms": idle, "busy_ms": busy, "ratio": busy / idle}}


def test_the_chosen_setting_is_the_fastest_busy_one_that_keeps_its_ratio() -> None:
    rows = [
        _row("torch", "torch", 50, 60),
        _row("onnx", "fast but fragile", 80, 200),
        _row("onnx", "steady", 100, 140),
        _row("onnx", "slow", 200, 210),
    ]
    assert bench.choose(rows) == "steady"
    assert bench.choose(rows[:2]) is None


def test_one_run_reports_every_setting_idle_and_busy(
    exported: Path, wav_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "engine.json"
    args = ["--clips", str(wav_file), "--songs", str(wav_file), "--checkpoint", str(exported), "--json"]
    assert bench.main([*args, "--record", str(record)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert read(record)["results"] == result and read(record)["command"].startswith("python -m benchmarks.engine")
    assert "`onnx threads=1 spinning=off`" in bench.render(result)
    settings = [row["setting"] for row in result["single"]]
    assert settings[:2] == ["torch threads=2", "torch threads=1"] and len(settings) == 6
    assert len(result["workers"]) == 4
    for row in result["single"]:
        for case in ("clips", "songs"):
            assert row[case]["idle_ms"] > 0 and row[case]["busy_ms"] > 0


def test_an_onnx_file_alone_is_benchmarked_without_torch_rows(
    exported: Path, wav_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    onnx_file = exported.with_suffix(".onnx")
    args = ["--clips", str(wav_file), "--songs", str(wav_file), "--checkpoint", str(onnx_file)]
    assert bench.main([*args, "--record", str(tmp_path / "engine.json")]) == 0
    table = capsys.readouterr().out
    assert "onnx threads=2 spinning=off" in table and "torch" not in table and "chosen" in table


def test_the_reference_comparison_is_skipped_with_a_message_without_its_venv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks import engine_reference as bench_reference

    assert bench_reference.main(["--venv", str(tmp_path / "none")]) == 0
    assert "skipped: no reference environment" in capsys.readouterr().err


def test_unseen_excerpts_are_30_s_of_pool_songs(tmp_path: Path) -> None:
    from benchmarks import engine_reference as bench_reference

    excerpts = bench_reference.pool_excerpts(tmp_path)
    songs = sorted((bench_reference.SHARED / "pool").glob("*/*.ogg"))
    assert [path.stem for path in excerpts] == [song.stem for song in songs[::3]]
    assert all(sf.info(path).duration == pytest.approx(bench_reference.EXCERPT_S) for path in excerpts)


def test_a_held_out_head_gives_the_probes_probabilities_in_the_models_label_order() -> None:
    from sklearn.linear_model import LogisticRegression

    from benchmarks import engine_reference as bench_reference

    class Runner:
        labels = ("a", "b", "c")
        features = "the runner's"

        def predict_tagged(self, segments):
            return np.full((len(segments), 3), 1 / 3), segments, None

    embeddings = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.1]])
    probe = LogisticRegression().fit(embeddings, [0, 0, 2, 2])  # never saw label "b"
    head = bench_reference._ProbeHead(Runner(), probe)
    probs, out, tags = head.predict_tagged(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert head.features == "the runner's" and tags is None and out.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert probs[:, 1].tolist() == [0.0, 0.0] and probs.argmax(axis=1).tolist() == [0, 2]
    assert probs.sum(axis=1) == pytest.approx([1.0, 1.0])
