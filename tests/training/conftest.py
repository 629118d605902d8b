"""A tiny separable data set (tones at distinct pitches, one folder per class) and a trained run on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
import torch

from genre_engine.features import FeatureConfig
from tests.conftest import tone
from training import train

RATE = 8000
PITCHES = {"blues": 220.0, "jazz": 660.0, "metal": 1760.0}  # any folder names work; these read well
CLIPS_PER_CLASS = 6

# The engine tests' tiny features (8 kHz, 1-s segments) keep every training run to a second or two.
TINY_FEATURES = FeatureConfig(kind="logmel", sample_rate=8000, n_fft=256, hop_length=256, n_mels=16, segment_s=1.0)
TINY = [
    "--feature-arg",
    "sample_rate=8000",
    "--feature-arg",
    "n_fft=256",
    "--feature-arg",
    "hop_length=256",
    "--feature-arg",
    "n_mels=16",
    "--feature-arg",
    "segment_s=1.0",
]


def write_tones(root: Path, clips_per_class: int = CLIPS_PER_CLASS) -> Path:
    for label, pitch in PITCHES.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(clips_per_class):
            # A slightly different pitch, loudness and noise per clip, so clips are not identical.
            samples = tone(pitch * (1 + 0.02 * i), seconds=3.0, sr=RATE, amplitude=0.2 + 0.05 * i, seed=i)
            sf.write(root / label / f"{label}.{i:05d}.wav", samples, RATE)
    return root


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tones(tmp_path_factory.mktemp("tones"))


def train_args(data: Path, out: Path, cache: Path, *extra: str, epochs: int = 2) -> list[str]:
    return [
        "--data",
        str(data),
        "--out",
        str(out),
        "--epochs",
        str(epochs),
        "--cache-dir",
        str(cache),
        "--device",
        "cpu",
        "--batch-size",
        "4",
        "--lr",
        "3e-3",
        "--model-arg",
        "dropout=0.1",
        "--workers",
        "1",
        *TINY,
        *extra,
    ]


@pytest.fixture(scope="session")
def trained(tones: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One two-epoch run shared by the tests that only read its outputs."""
    root = tmp_path_factory.mktemp("run")
    out = root / "out"
    with torch_settings_restored():
        metrics = train.main(train_args(tones, out, root / "cache"))
    return out, metrics


@contextmanager
def torch_settings_restored() -> Iterator[None]:
    """Training switches on deterministic kernels process-wide; other areas' tests shouldn't inherit that."""
    enabled, warn_only = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    benchmark = torch.backends.cudnn.benchmark
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
        torch.backends.cudnn.benchmark = benchmark


@pytest.fixture(autouse=True)
def _restore_torch_settings() -> Iterator[None]:
    with torch_settings_restored():
        yield
