"""The ONNX export: what it records, how the engine pairs it with its checkpoint, parity with torch
on real audio, and serving with torch out of reach."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from genre_engine import GenreEngine
from genre_engine.checkpoint import (
    DEFAULT_CHECKPOINT,
    export_path,
    file_sha256,
    load_checkpoint,
    save_checkpoint,
)
from genre_engine.errors import CheckpointError
from genre_engine.runtime_onnx import OnnxModel
from genre_engine.runtime_torch import TorchModel
from tests.conftest import REPO_ROOT, tiny_bundle
from tests.support.no_torch import run_module_without_torch


def test_export_records_labels_features_and_the_checkpoint_hash(exported: Path) -> None:
    model = OnnxModel(export_path(exported))
    bundle = tiny_bundle()
    assert model.labels == bundle.labels and model.features == bundle.features
    assert model.checkpoint_sha256 == file_sha256(exported)
    assert model.arch == "cnn" and model.embedding_dim == bundle.model.embedding_dim


def test_engine_prefers_a_fitting_export_and_falls_back_to_torch_on_a_stale_one(exported: Path, tmp_path: Path) -> None:
    assert GenreEngine.from_checkpoint(exported).runner.runtime == "onnx"
    assert GenreEngine.from_checkpoint(exported, runtime="torch").runner.runtime == "torch"
    stale = tmp_path / "tiny.pt"
    bundle = tiny_bundle()
    bundle.mean += 1.0  # another checkpoint under the old export
    save_checkpoint(stale, bundle)
    shutil.copy(export_path(exported), export_path(stale))
    assert GenreEngine.from_checkpoint(stale).runner.runtime == "torch"
    with pytest.raises(CheckpointError, match="training.export"):
        GenreEngine.from_checkpoint(stale, runtime="onnx")


def test_onnx_runtime_needs_an_export(tiny_checkpoint: Path) -> None:
    with pytest.raises(CheckpointError, match="No ONNX export"):
        GenreEngine.from_checkpoint(tiny_checkpoint, runtime="onnx")


def test_a_foreign_or_broken_onnx_file_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="not a readable ONNX model"):
        GenreEngine.from_checkpoint(garbage)
    import onnx

    foreign = tmp_path / "foreign.onnx"
    node = onnx.helper.make_node("Identity", ["x"], ["y"])
    value = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        [node], "g", [value("x", onnx.TensorProto.FLOAT, [1])], [value("y", onnx.TensorProto.FLOAT, [1])]
    )
    onnx.save(onnx.helper.make_model(graph), foreign)
    with pytest.raises(CheckpointError, match="not a genrebot ONNX export"):
        GenreEngine.from_checkpoint(foreign)


def test_export_matches_torch_for_any_batch_size(exported: Path) -> None:
    onnx_model, torch_model = GenreEngine.from_checkpoint(exported).runner, TorchModel(load_checkpoint(exported))
    segments = np.random.default_rng(1).normal(0, 0.1, (5, tiny_bundle().features.segment_samples)).astype(np.float32)
    for n in (1, 5):
        for got, want in zip(onnx_model.predict(segments[:n]), torch_model.predict(segments[:n])):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, atol=1e-5)


def test_per_thread_sessions_give_each_thread_its_own_session(exported: Path) -> None:
    model = OnnxModel(export_path(exported), sessions="per_thread")
    seen = []
    worker = threading.Thread(target=lambda: seen.append(model._session()))
    worker.start()
    worker.join()
    assert seen[0] is not model._session() and model._session() is model._session()


def test_the_shipped_export_belongs_to_the_shipped_checkpoint() -> None:
    # Fails when data/model.pt changes without `python -m training.export` being run again.
    shipped = OnnxModel(export_path(DEFAULT_CHECKPOINT))
    assert shipped.checkpoint_sha256 == file_sha256(DEFAULT_CHECKPOINT)
    assert shipped.n_tags == 50  # exported with the tagger's output


def test_a_model_without_a_tagger_exports_no_tags(exported: Path) -> None:
    model = OnnxModel(export_path(exported))
    segments = np.zeros((2, tiny_bundle().features.segment_samples), np.float32)
    assert model.n_tags == 0 and model.predict_tagged(segments)[2] is None


def _real_audio(shared_dir: Path) -> list[Path]:
    clips = shared_dir / "gtzan" / "clips"
    return [
        clips / "metal" / "metal.00001.wav",
        clips / "jazz" / "jazz.00002.wav",
        shared_dir / "pool" / "sectoid" / "Feelings.ogg",
    ]


def test_onnx_and_torch_agree_on_real_audio(shared_dir: Path) -> None:
    onnx_engine = GenreEngine.from_checkpoint()
    torch_engine = GenreEngine.from_checkpoint(runtime="torch")
    assert (onnx_engine.runner.runtime, torch_engine.runner.runtime) == ("onnx", "torch")
    for path in _real_audio(shared_dir):
        segments = onnx_engine.decode(path).samples
        got_probs, got_emb, got_tags = onnx_engine.predict_segments_with_tags(segments)
        want_probs, want_emb, want_tags = torch_engine.predict_segments_with_tags(segments)
        assert np.abs(got_probs - want_probs).max() <= 1e-5
        assert got_tags.shape == want_tags.shape == (len(segments), 50)  # the tagger's output, from the graph
        assert np.abs(got_tags - want_tags).max() <= 1e-5
        assert got_probs.mean(0).argmax() == want_probs.mean(0).argmax()
        cosine = (got_emb * want_emb).sum(1) / np.linalg.norm(got_emb, axis=1) / np.linalg.norm(want_emb, axis=1)
        assert cosine.min() >= 0.9999


def test_the_default_engine_classifies_without_torch(shared_dir: Path) -> None:
    song = shared_dir / "gtzan" / "clips" / "metal" / "metal.00001.wav"
    result = run_module_without_torch("genre_engine", str(song), "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["genre"] == "metal" and record["confident"] is True and "metal" in record["styles"]


def test_without_torch_a_checkpoint_without_export_is_refused_with_a_hint(tiny_checkpoint: Path) -> None:
    result = run_module_without_torch(
        "genre_engine", str(REPO_ROOT / "README.md"), "--checkpoint", str(tiny_checkpoint), timeout=120
    )
    assert result.returncode != 0
    assert "genrebot[train]" in result.stderr and "Traceback" not in result.stderr


def test_the_console_classifies_without_torch(shared_dir: Path, tmp_path: Path) -> None:
    # What `scripts/run` starts on the base install: the bot's console over the shipped model.
    song = shared_dir / "gtzan" / "clips" / "jazz" / "jazz.00000.wav"
    result = run_module_without_torch("bot", "--db", str(tmp_path / "bot.db"), input=f"/classify {song}\n", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "jazz.00000: jazz" in result.stdout
