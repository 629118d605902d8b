"""Spectrogram front ends, described by one config that travels inside every checkpoint.

Training and inference build the front end from the same stored ``FeatureConfig``, so they can
never disagree about sample rate, FFT size or segment length. Front ends are torch modules that
turn a batch of fixed-length waveform segments into ``[batch, 1, freq, frames]`` so that feature
extraction is batched and runs on the model's device.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import librosa
import numpy as np
import torch
from torch import nn

FEATURE_KINDS = ("logmel", "stft", "musicnn")


@dataclass(frozen=True)
class FeatureConfig:
    kind: str = "logmel"
    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    segment_s: float = 3.0

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise ValueError(f"unknown feature kind {self.kind!r}; choose one of {FEATURE_KINDS}")

    @classmethod
    def preset(cls, kind: str) -> "FeatureConfig":
        """Defaults per kind: the seed paper's settings for logmel/stft, musicnn's own for musicnn."""
        if kind == "stft":
            return cls(kind="stft", sample_rate=22050, n_fft=1024, hop_length=512, n_mels=0)
        if kind == "musicnn":
            # musicnn: 16 kHz, 512-point FFT, hop 256, 96 mel bands, 187-frame (3 s) patches.
            return cls(kind="musicnn", sample_rate=16000, n_fft=512, hop_length=256, n_mels=96,
                       segment_s=187 * 256 / 16000)
        return cls(kind=kind)

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
    def from_dict(cls, data: dict[str, Any]) -> "FeatureConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class _PowerSpectrogram(nn.Module):
    def __init__(self, n_fft: int, hop_length: int, pad_mode: str) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.pad_mode = pad_mode
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(
            waveform,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            pad_mode=self.pad_mode,
            return_complex=True,
        )
        return spec.real.square() + spec.imag.square()  # [batch, freq, frames]


class LogMel(nn.Module):
    """Log-mel in dB (librosa's Slaney mel filterbank, ``power_to_db`` without the top clamp)."""

    def __init__(self, config: FeatureConfig) -> None:
        super().__init__()
        self.power = _PowerSpectrogram(config.n_fft, config.hop_length, pad_mode="constant")
        fb = librosa.filters.mel(sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels)
        self.register_buffer("mel_basis", torch.from_numpy(fb).float(), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        mel = torch.matmul(self.mel_basis, self.power(waveform))
        return (10.0 * torch.log10(mel.clamp_min(1e-10))).unsqueeze(1)


class LogStft(nn.Module):
    """Log-magnitude STFT in dB, the seed paper's second representation."""

    def __init__(self, config: FeatureConfig) -> None:
        super().__init__()
        self.power = _PowerSpectrogram(config.n_fft, config.hop_length, pad_mode="constant")

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return (10.0 * torch.log10(self.power(waveform).clamp_min(1e-10))).unsqueeze(1)


class MusicnnMel(nn.Module):
    """musicnn's own input: librosa mel power spectrogram, then ``log10(10000 * x + 1)``.

    Computed in float32: the reference casts to float16 first, which overflows on loud passages.
    """

    def __init__(self, config: FeatureConfig) -> None:
        super().__init__()
        self.power = _PowerSpectrogram(config.n_fft, config.hop_length, pad_mode="constant")
        self.frames = config.frames
        fb = librosa.filters.mel(sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels)
        self.register_buffer("mel_basis", torch.from_numpy(fb).float(), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        mel = torch.matmul(self.mel_basis, self.power(waveform))[..., : self.frames]
        return torch.log10(10000.0 * mel + 1.0).unsqueeze(1)


def build_frontend(config: FeatureConfig) -> nn.Module:
    frontends = {"logmel": LogMel, "stft": LogStft, "musicnn": MusicnnMel}
    return frontends[config.kind](config)


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
