"""PyAV (FFmpeg) backend: every container FFmpeg reads, its music track chosen, its length measured.

*Track*: a container with several audio tracks (a film with a commentary, a video with a dub) is
read on the track marked default, else on the first one not marked as commentary or description,
as players do (:func:`pick_track`).

*Length*: FFmpeg's ``duration`` is often an estimate (from the bitrate for an mp3 without a
Xing/VBRI header or an ADTS stream, from a header on a truncated download), so the real length is
measured with a packet scan: demuxing without decoding, cheap even for an hour-long file. That
scan is only believed when the timeline is whole: every packet timed, and time never going back.
A chained Ogg (radio rips: links that each start again at 0) or a stream without timestamps is
measured by decoding instead, counting samples without keeping them, and then read forward from
its start instead of by seeking, which such a timeline cannot do. Where FFmpeg refuses to seek on
a timed stream (some spots near the end of a FLAC without a seek table), ever earlier points are
tried; where it seeks nowhere, that stream too is read forward.

*Samples*: every frame goes through FFmpeg's resampler (``av.AudioResampler``) to float at the
reader's rate, one resampler per format, layout and rate met, so a stream that changes midway (two
mp3s of different rates joined) is converted frame by frame; layouts above stereo are downmixed by
FFmpeg's matrix (channels in no order it knows a matrix for, e.g. 9 of a WAV without a channel
mask, are averaged instead), then :func:`genre_engine.samples.downmix` makes mono.

*Bounds*: reads decode only what they return, plus what they skip to reach it, never keeping the
skipped audio. On a timed stream, decoding may not run ahead of the timestamps (by more than
``_CLOCK_RATIO`` times the time they cover, plus ``_CLOCK_SLACK_S``): a file whose frames decode
to far more audio than they claim (a decompression bomb) raises :class:`InflatedAudioError` after
a frame or two. FFmpeg may read only the handle given: a playlist (HLS) that names other files or
URLs opens none of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

import av
import numpy as np
from av.stream import Disposition

from genre_engine.audio_report import AudioTrack, Meter
from genre_engine.errors import InflatedAudioError, NoSoundTrackError, TooLongAudioError
from genre_engine.ogg_chain import link, ogg_links
from genre_engine.samples import downmix

_OPTIONS = {"protocol_whitelist": "none"}  # no protocol: nothing but the handle is ever opened
_PREROLL_S = 0.25  # decoded before a window's start and dropped: mp3/aac decoders need warming up
COUNT_RATE = 48_000  # Hz: streams measured by decoding are held to their count limit in samples at this rate
_SECONDARY = Disposition.comment | Disposition.descriptions | Disposition.visual_impaired | Disposition.hearing_impaired
# Honest streams decode what their timestamps say, give or take codec priming (under 0.1 s), and a
# damaged frame skipped only puts decoding behind; a bomb runs ahead by its first frame.
_CLOCK_RATIO = 1.5
_CLOCK_SLACK_S = 0.5


def pick_track(streams: Sequence[av.audio.stream.AudioStream]) -> tuple[av.audio.stream.AudioStream, AudioTrack | None]:
    """The track a player would play, and an :class:`AudioTrack` saying so when there are several."""
    main = [s for s in streams if not s.disposition & _SECONDARY] or list(streams)
    marked = [s for s in main if s.disposition & Disposition.default]
    stream = (marked or main)[0]
    if len(streams) == 1:
        return stream, None
    number = list(streams).index(stream) + 1
    title = stream.metadata.get("title")
    return stream, AudioTrack(number, len(streams), title, stream.language, "default" if marked else "first")


def open_audio(handle: BinaryIO) -> tuple[av.container.InputContainer, av.audio.stream.AudioStream, AudioTrack | None]:
    """The container at ``handle``, its music track and which track that is (see :func:`pick_track`).
    ``NoSoundTrackError`` when it holds no audio track; FFmpeg's own errors when it can't open it."""
    container = av.open(handle, mode="r", container_options=_OPTIONS)
    if not container.streams.audio:
        kinds = sorted({stream.type for stream in container.streams})
        container.close()
        raise NoSoundTrackError(kinds)
    return container, *pick_track(container.streams.audio)


def decoded(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> Iterator[av.AudioFrame]:
    """The frames of ``stream`` from the container's current position. A damaged packet mid-stream
    (a broken frame, a tag between two joined mp3s) is skipped, as FFmpeg's own tools do; a stream
    where nothing decodes raises the decoder's error."""
    got_any = False
    failure: av.error.InvalidDataError | None = None
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError as exc:
            failure = exc
            continue
        got_any = got_any or bool(frames)
        yield from frames
    if failure is not None and not got_any:
        raise failure


def chain_frames(handle: BinaryIO, links: list[tuple[int, int | None]]) -> Iterator[av.AudioFrame]:
    """The music track's frames from the first byte on, each link of a chained Ogg (``links``, from
    :func:`genre_engine.ogg_chain.ogg_links`) opened in turn, each container closed when done."""
    for start, end in links:
        container, stream, _ = open_audio(link(handle, start, end))
        with container:
            yield from decoded(container, stream)


def music_frames(handle: BinaryIO) -> Iterator[av.AudioFrame]:
    """Every frame of the track :func:`pick_track` chooses, chained Oggs included (the radio plays these)."""
    return chain_frames(handle, ogg_links(handle))


def resampled(frames: Iterable[av.AudioFrame], layout: str, rate: int) -> Iterator[av.AudioFrame]:
    """``frames`` as planar float at ``layout`` and ``rate``, each through a resampler made for its own
    format, layout and rate: a stream that changes midway (two mp3s of different rates joined) is
    converted frame by frame where one resampler would stop at the change. Timestamps play no part
    (a stream with broken ones converts all the same)."""
    resampler, source, averaged = None, None, False
    for frame in frames:
        signature = (frame.format.name, frame.layout.name, frame.sample_rate)
        if signature != source:
            if resampler is not None:
                yield from resampler.resample(None)
            resampler, source = av.AudioResampler(format="fltp", layout=layout, rate=rate), signature
            averaged = False
        frame.pts = None
        if not averaged:
            try:
                converted = resampler.resample(frame)
            except av.error.ArgumentError:  # no matrix from channels of no known order (a 9-channel WAV)
                averaged = True
                resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        if averaged:
            converted = resampler.resample(_averaged(frame))
        yield from converted
    if resampler is not None:
        yield from resampler.resample(None)


_FULL_SCALE = {"u8": 128.0, "s16": 2.0**15, "s32": 2.0**31, "s64": 2.0**63}


def _averaged(frame: av.AudioFrame) -> av.AudioFrame:
    """A frame's channels mixed to one (``samples.downmix``), as float: for channels FFmpeg's
    resampler has no downmix matrix for. Given as stereo of two equal channels, which the resampler
    turns into either layout at the same level (from mono it would make stereo 3 dB down)."""
    channels = len(frame.layout.channels)
    data = frame.to_ndarray()  # planar: [channels, n]; packed: [1, n * channels]
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    kind = frame.format.name.removesuffix("p")
    samples = data.astype(np.float32) - (128.0 if kind == "u8" else 0.0)
    samples /= _FULL_SCALE.get(kind, 1.0)
    mixed = av.AudioFrame.from_ndarray(np.repeat(downmix(samples)[None, :], 2, axis=0), format="fltp", layout="stereo")
    mixed.sample_rate = frame.sample_rate
    return mixed


class _Pass:
    """One pass forward through converted audio ``[channels, n]`` chunks, remembering where it is."""

    def __init__(self, chunks: Iterator[np.ndarray], channels: int) -> None:
        self._chunks = chunks
        self._left = np.zeros((channels, 0), np.float32)
        self.position = 0  # samples consumed from the start of the pass

    def take(self, skip: int, count: int) -> np.ndarray:
        """``count`` samples after dropping ``skip``, ``[channels, n]`` (fewer where the audio ends).
        Only the blocks that hold kept samples stay in memory: a view of a skipped block would keep
        all of it, and a file read forward (no timeline to seek by) skips hours between windows."""
        kept: list[np.ndarray] = [np.zeros((self._left.shape[0], 0), np.float32)]
        have = 0
        while have < count:
            block = self._next()
            if block is None:
                break
            dropped = min(skip, block.shape[1])
            skip -= dropped
            used = block[:, dropped : dropped + count - have]
            if used.shape[1]:
                kept.append(used)
            have += used.shape[1]
            self._left = block[:, dropped + used.shape[1] :]
            self.position += dropped + used.shape[1]
        return np.concatenate(kept, axis=1)

    def _next(self) -> np.ndarray | None:
        if self._left.shape[1]:
            block, self._left = self._left, self._left[:, :0]
            return block
        return next(self._chunks, None)


class PyavReader:
    """An open input: ``rate`` (Hz), ``duration_s`` (measured), ``track``, mono float32 reads.

    ``meter`` counts every decoded second; ``max_count_s``: the longest stream measured by decoding
    (``TooLongAudioError`` beyond it)."""

    def __init__(self, handle: BinaryIO, meter: Meter, max_count_s: float) -> None:
        self._handle = handle
        self._meter = meter
        self._links = ogg_links(handle)  # one, unless a chained Ogg
        self._container, self._stream, self.track = open_audio(handle)
        try:
            context = self._stream.codec_context
            self.rate: int = context.sample_rate or self._stream.sample_rate
            self._layout = "mono" if context.channels == 1 else "stereo"
            self._offset = self._stream.start_time or 0  # in the stream's time base
            end = self._scan() if len(self._links) == 1 else None
            self._timed = end is not None  # the timeline is believed: decoding must keep up with it
            self.duration_s: float = end if end is not None else self._count(max_count_s)
        except BaseException:
            self._container.close()
            raise
        self._seekable = self._timed  # until FFmpeg seeks nowhere
        self._pass: _Pass | None = None  # where forward reads are

    def _seconds(self, pts: int) -> float:
        return float((pts - self._offset) * self._stream.time_base)

    def _scan(self) -> float | None:
        """The end of the last packet (s), from a scan that demuxes but doesn't decode; None when the
        timeline can't be believed (a packet without a time or duration, or time going back: a chain
        whose links FFmpeg reads as one).

        The scan also fills FFmpeg's seek index, so the windows read afterwards land where asked
        even when the file has no index of its own."""
        end, last = 0.0, None
        for packet in self._container.demux(self._stream):
            if packet.size == 0:
                continue
            if packet.pts is None or not packet.duration or (last is not None and packet.pts < last):
                return None
            last = packet.pts
            end = max(end, self._seconds(packet.pts + packet.duration))
        return end

    def _count(self, max_s: float) -> float:
        """The length (s) by decoding from the start, at each frame's own rate, keeping nothing. What
        counting costs is samples: above ``COUNT_RATE`` the limit shrinks in proportion (4 h of
        192 kHz audio would cost as much as 16 h at 48 kHz)."""
        seconds = 0.0
        for frame in self._from_first_byte():
            seconds += frame.samples / frame.sample_rate
            limit = max_s * min(1.0, COUNT_RATE / frame.sample_rate)
            if seconds > limit:
                raise TooLongAudioError(seconds, limit)
        return seconds

    def _checked(self, frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame]:
        """``frames``, each counted by the meter and, on a believed timeline, held to it."""
        for frame in self._clocked(frames) if self._timed else frames:
            self._meter.add(frame.samples, frame.sample_rate)
            yield frame

    def _from_first_byte(self) -> Iterator[av.AudioFrame]:
        """Every frame from the first byte on, the one start every input has."""
        return self._checked(chain_frames(self._handle, self._links))

    def _clocked(self, frames: Iterable[av.AudioFrame]) -> Iterator[av.AudioFrame]:
        """``frames``, checked against the timestamps: each must start no earlier than the audio
        decoded before it allows (``InflatedAudioError`` otherwise)."""
        first, decoded_s = None, 0.0
        for frame in frames:
            if frame.pts is not None:
                now = self._seconds(frame.pts)
                first = now if first is None else first
                if decoded_s > _CLOCK_RATIO * (now - first) + _CLOCK_SLACK_S:
                    raise InflatedAudioError(self.duration_s, decoded_s)
            decoded_s += frame.samples / frame.sample_rate
            yield frame

    def _new_pass(self, frames: Iterable[av.AudioFrame]) -> _Pass:
        chunks = (frame.to_ndarray() for frame in resampled(frames, self._layout, self.rate))
        return _Pass(chunks, 1 if self._layout == "mono" else 2)

    def read_all(self, max_samples: int) -> np.ndarray:
        """The audio from the start, mono ``[samples]`` at ``rate``: all of it, or ``max_samples + 1``
        samples when there is more (the caller decides what that means)."""
        return downmix(self._new_pass(self._from_first_byte()).take(0, max_samples + 1))

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        """Up to ``length_s`` seconds from ``start_s``, mono; shorter where the audio really ends."""
        count = int(round(length_s * self.rate))
        self._seekable = self._seekable and self._seek(max(start_s - _PREROLL_S, 0.0))
        if not self._seekable:
            return downmix(self._forward(int(round(start_s * self.rate)), count))
        frames = self._checked(decoded(self._container, self._stream))
        first = next(frames, None)
        if first is None:
            return np.zeros(0, np.float32)
        skip = max(int(round((start_s - self._seconds(first.pts)) * self.rate)), 0) if first.pts is not None else 0
        return downmix(self._new_pass(itertools.chain([first], frames)).take(skip, count))

    def _seek(self, target_s: float) -> bool:
        """Seek to ``target_s`` or before; where FFmpeg refuses (some spots near the end of a FLAC
        without a seek table), to ever earlier points, 1, 2, 4... s back. False when it seeks nowhere."""
        back = 0.0
        while True:
            point = max(target_s - back, 0.0)
            try:
                self._container.seek(int(point / self._stream.time_base) + self._offset, stream=self._stream)
                return True
            except av.FFmpegError:
                if point == 0.0:
                    return False
                back = max(2 * back, 1.0)

    def _forward(self, start: int, count: int) -> np.ndarray:
        """``count`` samples from sample ``start``, read without seeking: onwards from the last read
        when it lies ahead, else from the first byte again."""
        if self._pass is None or start < self._pass.position:
            self._pass = self._new_pass(self._from_first_byte())
        return self._pass.take(start - self._pass.position, count)

    def close(self) -> None:
        self._container.close()
