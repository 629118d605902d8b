"""PyAV (FFmpeg) decoding for the containers libsndfile cannot read, such as m4a/aac and webm."""

from __future__ import annotations

from typing import BinaryIO

import av
import numpy as np

from genre_engine.audio import DecodedAudio, fit_length, is_long, resample, undecodable, window_starts
from genre_engine.errors import CorruptAudioError, EmptyAudioError, NotAudioError


def decode_pyav(handle: BinaryIO, rate: int, window_s: float, max_windows: int | None) -> DecodedAudio:
    try:
        container = av.open(handle, mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        raise undecodable(handle) from None
    with container:
        if not container.streams.audio:
            raise NotAudioError("no audio track")
        stream = container.streams.audio[0]
        duration = _pyav_duration(container, stream)
        try:
            if duration is not None and is_long(duration, window_s, max_windows):
                windows = [
                    _pyav_window(container, stream, start, window_s, rate)
                    for start in window_starts(duration, window_s, max_windows)
                ]
                return DecodedAudio(np.stack(windows), duration)
            samples, native = _pyav_read(container, stream, None)
        except av.error.FFmpegError as exc:
            raise CorruptAudioError(str(exc)) from None
    if samples.size == 0:
        raise EmptyAudioError()
    return DecodedAudio(resample(samples, native, rate)[None], len(samples) / native)


def _pyav_duration(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _pyav_read(container, stream, max_seconds: float | None) -> tuple[np.ndarray, int]:
    """Decode from the current position, mixing to mono, up to ``max_seconds`` (or the end)."""
    chunks: list[np.ndarray] = []
    total = 0
    native = stream.codec_context.sample_rate or stream.sample_rate
    limit = None if max_seconds is None else int(max_seconds * native)
    for frame in container.decode(stream):
        raw = frame.to_ndarray()
        block = raw.astype(np.float32, copy=False)
        if frame.format.is_planar:
            mono = block.mean(axis=0)
        else:
            mono = block.reshape(-1, len(frame.layout.channels)).mean(axis=1)
        if np.issubdtype(raw.dtype, np.integer):
            mono = mono / float(np.iinfo(raw.dtype).max)
        chunks.append(mono)
        total += len(mono)
        if limit is not None and total >= limit:
            break
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return (samples if limit is None else samples[:limit]), native


def _pyav_window(container, stream, start_s: float, window_s: float, rate: int) -> np.ndarray:
    container.seek(int(start_s * av.time_base), any_frame=False)
    samples, native = _pyav_read(container, stream, window_s)
    return fit_length(resample(samples, native, rate), int(round(window_s * rate)))
