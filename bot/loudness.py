"""Loudness of a song and the gain that brings it to the radio's level.

Measured with FFmpeg's ``ebur128`` filter (EBU R128 / ITU-R BS.1770-4: K-weighting, 400-ms blocks,
absolute and relative gating; true peak by 4x oversampling) through PyAV, on exactly the signal the
radio plays (48 kHz stereo from :func:`bot.stream.decode_48k`), so a song measured here plays at the
target level. Measured once per song; the store keeps the result (``Song.loudness_lufs``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
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


def measure(frames: Iterable[av.AudioFrame]) -> Loudness:
    """Integrated loudness and true peak of 48 kHz stereo float frames (the output of
    :func:`bot.stream.decode_48k`). Silence measures -70 LUFS."""
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="fltp", sample_rate=48_000, layout="stereo")
    meter = graph.add("ebur128", "metadata=1:peak=true")
    sink = graph.add("abuffersink")
    source.link_to(meter)
    meter.link_to(sink)
    graph.configure()
    integrated, peak = SILENCE_LUFS, 0.0

    def drain() -> None:
        nonlocal integrated, peak
        while True:
            try:
                frame = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            metadata = frame.metadata
            if "lavfi.r128.I" in metadata:
                integrated = float(metadata["lavfi.r128.I"])
                peak = max(peak, float(metadata.get("lavfi.r128.true_peak", 0.0)))

    for frame in frames:
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    if not math.isfinite(integrated):
        integrated = SILENCE_LUFS
    return Loudness(max(integrated, SILENCE_LUFS), 20 * math.log10(peak) if peak > 0 else -math.inf)


def gain_db(loudness_lufs: float | None, target_lufs: float = TARGET_LUFS) -> float:
    """Gain (dB) that brings a song of ``loudness_lufs`` to the target. Silence and unmeasured songs
    get 0 dB (never +56 dB of noise); the gain is capped at +20 dB."""
    if loudness_lufs is None or loudness_lufs <= SILENCE_LUFS:
        return 0.0
    return float(np.clip(target_lufs - loudness_lufs, -40.0, 20.0))
