"""Synthesised songs for the radio tests, and a decoder for the packets the radio sends."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from scipy.signal import lfilter


def noise_song(
    path: Path, seconds: float, level_db: float, *, sr: int = 44_100, channels: int = 2, seed: int = 0
) -> Path:
    """Band-limited noise with a slow tremolo (music-like loudness swings), ``level_db`` RMS dBFS."""
    rng = np.random.default_rng(seed)
    count = int(seconds * sr)
    # white noise through a one-pole low-pass: more energy low down, as in music
    noise = lfilter([1.0], [1.0, -0.9], rng.normal(0.0, 1.0, (count, channels)), axis=0)
    noise *= 1.0 + 0.5 * np.sin(2 * np.pi * 0.5 * np.arange(count) / sr)[:, None]
    noise *= 10 ** (level_db / 20) / np.sqrt(np.mean(noise**2))
    sf.write(path, np.clip(noise, -1.0, 1.0).astype(np.float32), sr)
    return path


def decode_packets(packets: Iterable[bytes]) -> list[av.AudioFrame]:
    """Decode raw Opus packets (what the voice connection carries) with PyAV's libopus decoder,
    back to 48 kHz stereo planar float frames."""
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate = 48_000
    decoder.layout = "stereo"
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48_000)
    frames = []
    for data in packets:
        for frame in decoder.decode(av.Packet(data)):
            frames.extend(resampler.resample(frame))
    return frames


def genre_vector(genre: int, share: float = 0.8, genres: int = 10) -> np.ndarray:
    """A probability vector with ``share`` on one genre and the rest spread evenly."""
    vector = np.full(genres, (1.0 - share) / (genres - 1), np.float32)
    vector[genre] = share
    return vector


def embedding_for(genre: int, seed: int, dim: int = 16) -> np.ndarray:
    """A unit embedding near the axis of ``genre``, slightly different per ``seed``."""
    rng = np.random.default_rng(seed)
    vector = np.zeros(dim, np.float32)
    vector[genre] = 1.0
    vector += rng.normal(0, 0.05, dim).astype(np.float32)
    return vector / np.linalg.norm(vector)
