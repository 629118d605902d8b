"""The radio's audio path: songs in, 20-ms Opus packets out, as Discord's voice connection wants them.

Per song: decode with PyAV (FFmpeg, the engine's decoder stack for anything libsndfile does not read),
resample to 48 kHz stereo (``av.AudioResampler``), apply the song's gain to -14 LUFS
(:mod:`bot.radio.loudness`) and a peak limiter (FFmpeg's ``alimiter``, through a PyAV filter graph), fade
in and out, and cut into 20-ms frames; then one Opus encoder (FFmpeg's ``libopus``) for the whole
session, so the packets run on without a gap from one song to the next.

Everything here is synchronous and CPU-bound: the caller runs it in a thread (discord.py's
``AudioPlayer`` already reads its source from one), never on the event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import av.filter
import numpy as np

from bot.radio.loudness import TRUE_PEAK_LIMIT_DBTP
from genre_engine.audio_pyav import music_frames, resampled
from genre_engine.errors import NoSoundTrackError

log = logging.getLogger("genrebot.stream")

RATE = 48_000
CHANNELS = 2
FRAME_SAMPLES = 960  # 20 ms at 48 kHz: the frame discord.py's AudioPlayer sends every 20 ms
FRAME_S = FRAME_SAMPLES / RATE
FADE_IN_S = 0.3
FADE_OUT_S = 1.5
OPUS_BITRATE = 128_000  # what discord.py's own encoder uses
# alimiter limits sample peaks; 0.5 dB below the true-peak ceiling leaves room for inter-sample
# peaks and the Opus encoder's overshoot
LIMITER_CEILING_DB = TRUE_PEAK_LIMIT_DBTP - 0.5

AudioSourceLike = str | Path | BinaryIO


def decode_48k(source: AudioSourceLike) -> Iterator[av.AudioFrame]:
    """Decode ``source`` (a path or a binary file) to 48 kHz stereo planar float frames, by the engine's
    own FFmpeg path (:func:`genre_engine.audio_pyav.music_frames`): the track it analysed (the
    default one of a video with a commentary), every link of a chained Ogg, every frame resampled
    whatever its rate. Raises ``av.FFmpegError`` subclasses for files FFmpeg cannot read and
    ``NoSoundTrackError`` for one without an audio track."""
    with ExitStack() as stack:
        handle = source if not isinstance(source, str | Path) else stack.enter_context(open(source, "rb"))
        yield from resampled(music_frames(handle), "stereo", RATE)


def _gain_and_limiter(gain_db: float) -> av.filter.Graph:
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="fltp", sample_rate=RATE, layout="stereo")
    volume = graph.add("volume", f"volume={gain_db:.3f}dB:precision=float")
    limit = 10 ** (LIMITER_CEILING_DB / 20)
    # level=0: no auto-levelling (it would undo the gain); latency=1: compensate the look-ahead delay
    limiter = graph.add("alimiter", f"limit={limit:.4f}:attack=5:release=50:level=0:latency=1")
    fmt = graph.add("aformat", "sample_fmts=fltp:channel_layouts=stereo")
    sink = graph.add("abuffersink")
    source.link_to(volume)
    volume.link_to(limiter)
    limiter.link_to(fmt)
    fmt.link_to(sink)
    graph.configure()
    return graph


def normalised(frames: Iterator[av.AudioFrame], gain_db: float) -> Iterator[np.ndarray]:
    """The frames with ``gain_db`` applied and peaks limited, as float32 arrays [2, n]."""
    graph = _gain_and_limiter(gain_db)

    def drain() -> Iterator[np.ndarray]:
        while True:
            try:
                frame = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            yield frame.to_ndarray()

    for frame in frames:
        graph.push(frame)
        yield from drain()
    graph.push(None)
    yield from drain()


def _ramp(length: int, rising: bool) -> np.ndarray:
    """Half a cosine from 0 to 1 (or 1 to 0): no click at either end."""
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, length, dtype=np.float32))
    return ramp if rising else ramp[::-1]


def faded(
    chunks: Iterator[np.ndarray], fade_in_s: float = FADE_IN_S, fade_out_s: float = FADE_OUT_S
) -> Iterator[np.ndarray]:
    """Fade in the first ``fade_in_s`` and out the last ``fade_out_s`` of a song. The end is not known
    ahead, so the last ``fade_out_s`` are held back (in blocks of about a second) until it is."""
    fade_in, fade_out = int(fade_in_s * RATE), int(fade_out_s * RATE)
    start = 0  # samples already passed the fade-in
    held: list[np.ndarray] = []
    held_samples = 0
    for chunk in chunks:
        if start < fade_in:
            chunk = chunk.copy()
            span = min(fade_in - start, chunk.shape[1])
            chunk[:, :span] *= _ramp(fade_in, True)[start : start + span]
        start += chunk.shape[1]
        held.append(chunk)
        held_samples += chunk.shape[1]
        if held_samples >= fade_out + RATE:
            block = np.concatenate(held, axis=1)
            yield block[:, :-fade_out]
            held, held_samples = [block[:, -fade_out:]], fade_out
    if held:
        tail = np.concatenate(held, axis=1)
        span = min(fade_out, tail.shape[1])
        tail[:, tail.shape[1] - span :] *= _ramp(span, False)
        yield tail


def frames_of(chunks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """Cut chunks into [2, 960] blocks; the last is padded with silence, so every 20-ms frame (and
    so every Opus packet) belongs to one song."""
    carry = np.zeros((CHANNELS, 0), np.float32)
    for chunk in chunks:
        carry = np.concatenate([carry, chunk], axis=1) if carry.shape[1] else chunk
        whole = carry.shape[1] // FRAME_SAMPLES * FRAME_SAMPLES
        for offset in range(0, whole, FRAME_SAMPLES):
            yield carry[:, offset : offset + FRAME_SAMPLES]
        carry = carry[:, whole:]
    if carry.shape[1]:
        yield np.pad(carry, ((0, 0), (0, FRAME_SAMPLES - carry.shape[1])))


def configure_opus(codec: av.CodecContext) -> None:
    """The one Opus setting used for the voice connection and for rendered files alike: 48 kHz
    stereo, 20-ms frames, 128 kb/s, tuned for music."""
    codec.sample_rate = RATE
    codec.layout = "stereo"
    codec.format = "flt"
    codec.bit_rate = OPUS_BITRATE
    codec.time_base = Fraction(1, RATE)
    codec.options = {"application": "audio", "frame_duration": "20"}


class OpusEncoder:
    """libopus through PyAV. Standalone for the voice connection, or the encoder of an output
    stream (``codec`` = ``stream.codec_context``) when rendering to a file."""

    def __init__(self, codec: av.CodecContext | None = None) -> None:
        self.codec = codec or av.CodecContext.create("libopus", "w")
        configure_opus(self.codec)
        self.samples = 0

    def encode(self, block: np.ndarray | None) -> list[av.Packet]:
        """Encode one [2, 960] float32 block (None flushes the encoder's look-ahead)."""
        if block is None:
            return list(self.codec.encode(None))
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block.T).reshape(1, -1), format="flt", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = self.samples
        frame.time_base = self.codec.time_base
        self.samples += FRAME_SAMPLES
        return list(self.codec.encode(frame))


@dataclass(eq=False)
class Track:
    """One song to play. ``source`` is opened by the caller (a path or binary file; the stream closes
    a file); ``gain_db`` brings it to the target loudness. The stream fills ``frames`` (20-ms frames
    sent) and ``error`` (why it stopped early, if it could not be decoded to its end)."""

    song_id: int
    title: str
    source: AudioSourceLike
    gain_db: float
    frames: int = 0
    skipped: bool = False
    error: str | None = None

    @property
    def played_s(self) -> float:
        return self.frames * FRAME_S

    def close(self) -> None:
        if hasattr(self.source, "close"):
            self.source.close()


@dataclass(frozen=True)
class Packet:
    """One Opus packet (20 ms). ``at_s``: where it starts in the stream; ``track``: whose audio
    (the packets the encoder still holds when a song ends are attributed to that song)."""

    data: bytes
    at_s: float
    track: Track
    packet: av.Packet = field(repr=False)


class PacketStream:
    """Endless Opus packets from the tracks ``next_track`` hands out (None: the radio stops).

    Iterate it from one thread (discord.py's player thread, or the renderer); :meth:`skip` may be
    called from any thread and ends the current song at the next packet. ``on_track_end(track)``
    is called when a song ends (played out, skipped, or broken), before the next is asked for.
    """

    def __init__(
        self,
        next_track: Callable[[], Track | None],
        on_track_end: Callable[[Track], None] | None = None,
        encoder: OpusEncoder | None = None,
    ) -> None:
        self.next_track = next_track
        self.on_track_end = on_track_end
        self.encoder = encoder or OpusEncoder()
        self.current: Track | None = None
        self._skip = threading.Event()
        self._sent = 0

    def skip(self) -> None:
        self._skip.set()

    def _packets(self, packets: list[av.Packet], track: Track) -> Iterator[Packet]:
        for packet in packets:
            yield Packet(bytes(packet), self._sent * FRAME_S, track, packet)
            self._sent += 1

    def _track_blocks(self, track: Track) -> Iterator[np.ndarray]:
        try:
            yield from frames_of(faded(normalised(decode_48k(track.source), track.gain_db)))
        except (av.FFmpegError, NoSoundTrackError, OSError) as error:
            track.error = type(error).__name__
            log.warning("song stopped early", extra={"song": track.song_id, "error": repr(error)})

    def __iter__(self) -> Iterator[Packet]:
        last = None
        while (track := self.next_track()) is not None:
            self.current = last = track
            self._skip.clear()
            blocks = self._track_blocks(track)
            try:
                for block in blocks:
                    if self._skip.is_set():
                        track.skipped = True
                        break
                    track.frames += 1
                    yield from self._packets(self.encoder.encode(block), track)
            finally:
                blocks.close()
                track.close()
            if self.on_track_end is not None:
                self.on_track_end(track)
        self.current = None
        if last is not None:  # the radio stopped: flush the encoder's look-ahead
            yield from self._packets(self.encoder.encode(None), last)
