"""Spectrogram front ends, described by one config that travels inside every checkpoint.

Training and inference build the front end from the same stored ``FeatureConfig``, so they can
never disagree about sample rate, FFT size or segment length. Front ends are torch modules that
turn a batch of fixed-length waveform segments into ``[batch, 1, freq, frames]`` so that feature
extraction is batched and runs on the model's device.

This module needs only numpy: the torch front ends themselves live in ``genre_engine.frontends``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURE_KINDS = ("logmel", "stft", "musicnn")
# The integrated loudness (LUFS) every preset normalises its input to (``genre_engine.loudness``);
# chosen by ``python -m studies.level``.
TARGET_LUFS = -17.0  # about the median of the GTZAN clips: the level the heads have always seen


@dataclass(frozen=True)
class FeatureConfig:
    """What turns audio into the model's input. ``sample_rate`` (Hz), ``n_fft``, ``hop_length`` and
    ``n_mels`` shape the spectrogram of each ``segment_s``-second segment; ``loudness_lufs``: the
    integrated loudness (BS.1770, LUFS) the segments of one input are brought to before the front end
    (``genre_engine.loudness.normalise``), None for a model trained on audio as decoded (checkpoints
    made before normalisation existed)."""

    kind: str = "logmel"
    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    segment_s: float = 3.0
    loudness_lufs: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise ValueError(f"unknown feature kind {self.kind!r}; choose one of {FEATURE_KINDS}")

    @classmethod
    def preset(cls, kind: str) -> FeatureConfig:
        """Defaults per kind: the seed paper's settings for logmel/stft, musicnn's own for musicnn."""
        if kind == "stft":
            return cls(kind="stft", sample_rate=22050, n_fft=1024, hop_length=512, n_mels=0, loudness_lufs=TARGET_LUFS)
        if kind == "musicnn":
            # musicnn: 16 kHz, 512-point FFT, hop 256, 96 mel bands, 187-frame (3 s) patches.
            return cls(
                kind="musicnn",
                sample_rate=16000,
                n_fft=512,
                hop_length=256,
                n_mels=96,
                segment_s=187 * 256 / 16000,
                loudness_lufs=TARGET_LUFS,
            )
        return cls(kind=kind, loudness_lufs=TARGET_LUFS)

    @property
    def segment_samples(self) -> int:
        return int(round(self.segment_s * self.sample_rate))

    @property
    def frames(self) -> int:
        if self.kind == "musicnn":
            return int(round(self.segment_s * self.sample_rate / self.hop_length))
        return 1 + self.segment_samples // self.hop_length

    @property
    def freq_bins(self) -> int:
        return self.n_fft // 2 + 1 if self.kind == "stft" else self.n_mels

    @property
    def shape(self) -> tuple[int, int]:
        """``(freq_bins, frames)`` of one segment."""
        return (self.freq_bins, self.frames)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def split_segments(samples: np.ndarray, config: FeatureConfig, max_segments: int | None) -> np.ndarray:
    """Cut a mono clip into fixed-length segments ``[n, segment_samples]``.

    A clip shorter than one segment is tiled up to a segment (a 2-s ringtone still gets a
    prediction); a clip with more segments than ``max_segments`` keeps evenly spread ones, so a long
    song is judged across its whole length rather than by its intro.
    """
    size = config.segment_samples
    if len(samples) < size:
        samples = np.tile(samples, math.ceil(size / max(len(samples), 1)))[:size]
    n = len(samples) // size
    starts = np.arange(n) * size
    if max_segments is not None and n > max_segments:
        starts = starts[np.linspace(0, n - 1, max_segments).round().astype(int)]
    return np.stack([samples[s : s + size] for s in starts]).astype(np.float32, copy=False)
