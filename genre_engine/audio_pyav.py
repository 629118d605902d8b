"""PyAV (FFmpeg) backend: every container FFmpeg reads, its length measured rather than trusted.

FFmpeg's ``duration`` is often an estimate (from the bitrate for an mp3 without a Xing/VBRI
header or an ADTS stream, from a header on a truncated download), so the real length is measured
with a packet scan: demuxing without decoding, cheap even for an hour-long file. Samples of any
format (unsigned 8-bit, planar or packed, integer or float) and any channel layout go through
FFmpeg's own resampler (``av.AudioResampler``) to float, with layouts above stereo downmixed by
FFmpeg's matrix; :func:`genre_engine.samples.downmix` then makes mono.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import av
import numpy as np

from genre_engine.errors import NotAudioError
from genre_engine.samples import downmix

_PREROLL_S = 0.25  # decoded before a window's start and dropped: mp3/aac decoders need warming up


class PyavReader:
    """An open input: ``rate`` (Hz), ``duration_s`` (measured), mono float32 reads."""

    def __init__(self, handle: BinaryIO) -> None:
        self._container = av.open(handle, mode="r")
        if not self._container.streams.audio:
            self._container.close()
            raise NotAudioError(kind="no audio track")
        self._stream = self._container.streams.audio[0]
        context = self._stream.codec_context
        self.rate: int = context.sample_rate or self._stream.sample_rate
        self._layout = "mono" if context.channels == 1 else "stereo"
        self._offset = self._stream.start_time or 0  # in the stream's time base
        self.duration_s: float = self._measure()

    def _seconds(self, pts: int) -> float:
        return float((pts - self._offset) * self._stream.time_base)

    def _measure(self) -> float:
        """The true length (s): the end of the last packet, from a scan that demuxes but doesn't decode.

        Packets without timestamps (rare raw streams) are measured by decoding instead, counting
        samples without keeping them. The scan also fills FFmpeg's seek index, so the windows read
        afterwards land where asked even when the file has no index of its own."""
        end = 0.0
        for packet in self._container.demux(self._stream):
            if packet.size == 0:
                continue
            if packet.pts is None or not packet.duration:
                return self._measure_by_decoding()
            end = max(end, self._seconds(packet.pts + packet.duration))
        return end

    def _measure_by_decoding(self) -> float:
        self._container.seek(0)
        return sum(frame.samples for frame in self._frames()) / self.rate

    def _frames(self) -> Iterator[av.AudioFrame]:
        """Decoded frames from the current position. A damaged packet mid-stream (a broken frame,
        a tag between two concatenated mp3s) is skipped, as FFmpeg's own tools do; a stream where
        nothing decodes raises the decoder's error."""
        decoded = False
        failure: av.error.InvalidDataError | None = None
        for packet in self._container.demux(self._stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError as exc:
                failure = exc
                continue
            decoded = decoded or bool(frames)
            yield from frames
        if failure is not None and not decoded:
            raise failure

    def read_all(self) -> np.ndarray:
        """Every sample there is, mono ``[samples]`` at ``rate``."""
        self._container.seek(0)
        return downmix(self._decode(self._frames(), None))

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        """Up to ``length_s`` seconds from ``start_s``, mono; shorter where the audio really ends."""
        target = max(start_s - _PREROLL_S, 0.0)
        self._container.seek(int(target / self._stream.time_base) + self._offset, stream=self._stream)
        return downmix(self._decode(self._frames(), (start_s, int(round(length_s * self.rate)))))

    def _decode(self, frames, window: tuple[float, int] | None) -> np.ndarray:
        """Decoded frames as float ``[channels, samples]``: all of them, or ``(start_s, count)``."""
        resampler = av.AudioResampler(format="fltp", layout=self._layout, rate=self.rate)
        chunks: list[np.ndarray] = []
        total = 0
        skip = None
        for frame in frames:
            if window is not None and skip is None:
                first = self._seconds(frame.pts) if frame.pts is not None else window[0]
                skip = max(int(round((window[0] - first) * self.rate)), 0)
            for converted in resampler.resample(frame):
                chunks.append(converted.to_ndarray())
                total += chunks[-1].shape[1]
            if window is not None and total >= skip + window[1]:
                break
        else:
            chunks += [converted.to_ndarray() for converted in resampler.resample(None)]
        channels = 1 if self._layout == "mono" else 2
        samples = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
        if window is not None:
            samples = samples[:, (skip or 0) : (skip or 0) + window[1]]
        return samples

    def close(self) -> None:
        self._container.close()
