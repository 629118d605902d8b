"""Pure numpy steps between a decoder and the model: downmix, resampling and the content check.

Both decoding backends (libsndfile in ``audio_soundfile``, FFmpeg in ``audio_pyav``) and the
engine use these, so every input is mixed, resampled and judged for content the same way.
"""

from __future__ import annotations

import numpy as np
import soxr

# A segment whose level, after removing its DC offset, is below this is digital silence, a constant
# level or noise far below anything audible (-80 dBFS RMS: under 20 dB SPL even when full scale
# plays at 100 dB). A quiet recording is music: a -50 dBFS-peak orchestra is far above it.
SILENCE_RMS = 10 ** (-80 / 20)
# A segment this many dB quieter than the loudest segment of the same input is near-silence
# (room tone, a fade's tail, tape hiss between tracks): it says nothing about the genre.
QUIET_DB = 40.0
# A channel mean this far (-20 dB) below its loudest channel means the channels cancel out
# (out-of-phase stereo); the loudest channel alone then stands for the recording.
PHASE_CANCEL_RATIO = 0.1


def downmix(channels: np.ndarray) -> np.ndarray:
    """Mix ``[channels, samples]`` float audio to mono ``[samples]`` float32.

    The mean of the channels, except when that mean cancels (right = -left, a wiring or
    polarity fault common in home recordings): then the loudest single channel is used.
    More than two channels should already be downmixed to stereo by FFmpeg's layout-aware
    matrix (``audio_pyav``); a plain mean is only right for mono and stereo.
    """
    channels = np.ascontiguousarray(channels, dtype=np.float32)  # readers hand a transposed view
    if channels.shape[0] == 1:
        return channels[0]
    mix = channels.mean(axis=0)
    levels = [rms(channel) for channel in channels]
    if rms(mix) < PHASE_CANCEL_RATIO * max(levels):
        return channels[int(np.argmax(levels))]
    return mix


def rms(samples: np.ndarray) -> float:
    """Root mean square of a 1-D float array (0 for no samples)."""
    return float(np.sqrt(np.dot(samples, samples) / samples.size)) if samples.size else 0.0


def without_dc(samples: np.ndarray) -> np.ndarray:
    """Mono float32 ``samples`` less their mean (their DC offset). A constant level carries no sound,
    and left in, a resampler rings at its edges: the ringing of a DC-only file's start would count as
    content. Every read is centred before it is resampled."""
    samples = np.asarray(samples, dtype=np.float32)
    return samples - samples.mean(dtype=np.float64).astype(np.float32) if samples.size else samples


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Mono float32 resampled with soxr's high quality setting (no change when the rates match)."""
    if from_rate == to_rate:
        return np.ascontiguousarray(samples, dtype=np.float32)
    return soxr.resample(samples, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


def ac_levels(segments: np.ndarray) -> np.ndarray:
    """RMS level of each row of ``[n, samples]`` after removing its mean (its DC offset), ``[n]``."""
    return np.asarray(segments, dtype=np.float32).std(axis=1, dtype=np.float64)


def has_content(segments: np.ndarray) -> np.ndarray:
    """Which rows of ``[n, samples]`` hold sound worth classifying, as a boolean ``[n]``.

    A row is left out when it is digital silence or a constant level (AC level below
    ``SILENCE_RMS``), or when it is more than ``QUIET_DB`` below the loudest row.
    """
    levels = ac_levels(segments)
    if levels.size == 0:
        return np.zeros(0, dtype=bool)
    return levels >= content_floor(float(levels.max()))


def content_floor(loudest: float) -> float:
    """The AC level (RMS) a segment needs to count as content, given the loudest segment's."""
    return max(SILENCE_RMS, loudest * 10 ** (-QUIET_DB / 20))


def cut(samples: np.ndarray, size: int) -> np.ndarray:
    """Consecutive whole ``size``-sample pieces of ``samples``, ``[len // size, size]`` (a view)."""
    n = len(samples) // size
    return samples[: n * size].reshape(n, size)
