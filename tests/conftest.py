"""Fixtures every area of the test suite shares: real data beside the repo, synthetic audio, a tiny
model and its ONNX export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from benchmarks.record import Recorder
from benchmarks.shared import SHARED
from genre_engine.checkpoint import ModelBundle, export_path, save_checkpoint
from genre_engine.features import FeatureConfig
from genre_engine.labels import GENRES
from genre_engine.models import create_model
from training.export import export

# fixtures every area shares: stores of both backends, the bot harness, loopback link servers
pytest_plugins = ("tests.support.stores", "tests.support.bot_fixtures", "tests.support.link_servers")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = SHARED


@pytest.fixture(autouse=True)
def _committed_records_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    """A benchmark or study run in a test writes its record where ``--record PATH`` says; one that would
    replace the record kept in the repository fails instead."""
    write = Recorder.write

    def guarded(recorder: Recorder, results: dict, path: Path | None = None) -> Path:
        assert path is not None, f"a test would replace {recorder.folder / recorder.name}.json: pass --record"
        return write(recorder, results, path)

    monkeypatch.setattr(Recorder, "write", guarded)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED_DIR / "gtzan" / "clips").is_dir():
        pytest.skip("../shared is not beside the repository")
    return SHARED_DIR


def tone(
    freq: float = 440.0, seconds: float = 4.0, sr: int = 22050, amplitude: float = 0.3, seed: int = 0
) -> np.ndarray:
    """A sine with a little noise: quick to make, never silent, distinct per frequency."""
    t = np.arange(int(seconds * sr)) / sr
    noise = np.random.default_rng(seed).normal(0, 0.01, t.shape)
    return (amplitude * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


@pytest.fixture
def wav_file(tmp_path: Path) -> Path:
    path = tmp_path / "tone.wav"
    sf.write(path, tone(), 22050)
    return path


def tiny_bundle(kind: str = "logmel") -> ModelBundle:
    features = FeatureConfig(kind=kind, sample_rate=8000, n_fft=256, hop_length=128, n_mels=32, segment_s=1.0)
    torch.manual_seed(0)
    model = create_model("cnn", len(GENRES), features.shape)
    bins = features.freq_bins
    return ModelBundle(model, "cnn", {}, features, GENRES, torch.full((bins,), -40.0), torch.full((bins,), 20.0))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid, untrained, fast checkpoint (8 kHz, 1-s segments) for tests that need a real engine."""
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", tiny_bundle())


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny.pt`` (see ``tiny_bundle``) with ``tiny.onnx`` written by ``training.export`` beside it."""
    folder = tmp_path_factory.mktemp("export")
    checkpoint = save_checkpoint(folder / "tiny.pt", tiny_bundle())
    export(checkpoint, export_path(checkpoint))
    return checkpoint
