"""Loudness of a song and the gain that brings it to the radio's level.

Measured with FFmpeg's ``ebur128`` filter (EBU R128 / ITU-R BS.1770-4: K-weighting, 400-ms blocks,
absolute and relative gating; true peak by 4x oversampling) through PyAV, on exactly the signal the
radio plays (48 kHz stereo from :func:`bot.radio.stream.decode_48k`), so a song measured here plays at the
target level. Measured once per song; the store keeps the result (``Song.loudness_lufs``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import av
import av.filter
import numpy as np

TARGET_LUFS = -14.0  # what streaming services play at
TRUE_PEAK_LIMIT_DBTP = -1.0  # EBU R128 s1 / AES TD1004 ceiling for lossy delivery
SILENCE_LUFS = -70.0  # the gate: ebur128 reports -70 for silence


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float  # EBU R128 integrated loudness, LUFS
    true_peak_dbtp: float  # highest 4x-oversampled peak over channels, dBTP


class LoudnessMeter:
    """FFmpeg's ebur128 over 48 kHz stereo planar-float frames pushed one by one."""

    def __init__(self) -> None:
        self._graph = av.filter.Graph()
        source = self._graph.add_abuffer(format="fltp", sample_rate=48_000, layout="stereo")
        meter = self._graph.add("ebur128", "metadata=1:peak=true")
        sink = self._graph.add("abuffersink")
        source.link_to(meter)
        meter.link_to(sink)
        self._graph.configure()
        self._integrated = SILENCE_LUFS
        self._peak = 0.0

    def _drain(self) -> None:
        while True:
            try:
                frame = self._graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            metadata = frame.metadata
            if "lavfi.r128.I" in metadata:
                self._integrated = float(metadata["lavfi.r128.I"])
                self._peak = max(self._peak, float(metadata.get("lavfi.r128.true_peak", 0.0)))

    def push(self, frame: av.AudioFrame) -> None:
        self._graph.push(frame)
        self._drain()

    def result(self) -> Loudness:
        """Flush and return the measurement (call once, after the last frame)."""
        self._graph.push(None)
        self._drain()
        integrated = self._integrated if math.isfinite(self._integrated) else SILENCE_LUFS
        peak = 20 * math.log10(self._peak) if self._peak > 0 else -math.inf
        return Loudness(max(integrated, SILENCE_LUFS), peak)


def measure(frames: Iterable[av.AudioFrame]) -> Loudness:
    """Integrated loudness and true peak of 48 kHz stereo planar-float frames (the output of
    :func:`bot.radio.stream.decode_48k`). Silence measures -70 LUFS."""
    meter = LoudnessMeter()
    for frame in frames:
        meter.push(frame)
    return meter.result()


def measure_segments(frames: Iterable[av.AudioFrame], starts_s: Sequence[float]) -> list[Loudness]:
    """Loudness of consecutive segments of one stream (a rendered radio file: one per song), each
    from its start to the next start (the last to the end)."""
    bounds = [round(start * 48_000) for start in starts_s]
    meters = [LoudnessMeter() for _ in bounds]
    offset = 0
    for frame in frames:
        data = frame.to_ndarray()
        for index, meter in enumerate(meters):
            end = bounds[index + 1] if index + 1 < len(bounds) else math.inf
            lo, hi = max(bounds[index] - offset, 0), min(end - offset, data.shape[1])
            if lo < hi:
                part = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, lo:hi]), format="fltp", layout="stereo")
                part.sample_rate = 48_000
                meter.push(part)
        offset += data.shape[1]
    return [meter.result() for meter in meters]


def gain_db(loudness_lufs: float | None, target_lufs: float = TARGET_LUFS) -> float:
    """Gain (dB) that brings a song of ``loudness_lufs`` to the target. Silence and unmeasured songs
    get 0 dB (never +56 dB of noise); the gain is capped at +20 dB."""
    if loudness_lufs is None or loudness_lufs <= SILENCE_LUFS:
        return 0.0
    return float(np.clip(target_lufs - loudness_lufs, -40.0, 20.0))
