"""Spectrogram front ends as batched torch modules (training, and the torch runner of the engine).

Each turns a batch of fixed-length waveform segments into ``[batch, 1, freq, frames]`` so feature
extraction is batched and runs on the model's device. Exported models carry the same front end in
their ONNX graph (``python -m training.export``), so serving needs neither torch nor librosa.
"""

from __future__ import annotations

import librosa
import torch
from torch import nn

from genre_engine.features import FeatureConfig


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
