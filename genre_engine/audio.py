"""Decode real-world audio into mono windows at the model's sample rate, measuring what it reads.

What counts as audio is decided here once, for the engine and every front end, by content, never
by name: :func:`sniff` judges a file by its first bytes (a zip archive named ``.mp3`` is not
audio), :func:`content_verdict` asks the decoders whether they can open what the first bytes don't
settle (a Musepack file, an Ogg voice note without an extension), and :func:`scan_folder` sorts a
folder's files into audio and what was skipped, and why.

Two backends, both private: libsndfile (``audio_soundfile``) and FFmpeg through PyAV
(``audio_pyav``), which also picks the music track of a container holding several. Each input goes
to the one that reads it best first (libsndfile for the containers whose length it counts exactly,
FFmpeg for the rest); any failure or implausible answer of that one (an absurd length, a read
error past the real end, a stream that runs ahead of its own timestamps) hands the input to the
other, and the input is called damaged only when neither decodes it.

Durations are measured, not trusted: a header's frame count or FFmpeg's estimate is a hint, and
when decoding ends earlier the real length wins. A long file is never decoded whole: only the
windows that will be analysed are read (seeking), so an hour-long mix costs the same memory as a
three-minute song; a stream that can't be seeked (a chained Ogg, a timeline without timestamps) is
read forward once, the windows taken on the way.

Every decoding is bounded by samples, whatever the container says (the audio decoded is counted
in :attr:`DecodedAudio.decoded_s`):

- a whole read (an input measured no longer than its windows) stops ``_SLACK_S`` after
  ``max_windows * window_s`` (``MAX_WHOLE_S`` when every length is read whole): an input that
  holds more than it measured is refused with ``InflatedAudioError``, not analysed, since nothing
  about it can be trusted;
- a window read decodes its window, the pre-roll before it and what it skips, and keeps only the
  window;
- FFmpeg's frames must keep up with their timestamps (``audio_pyav``: the audio decoded before a
  frame may exceed the time its timestamp says has passed at most 1.5 times, plus 0.5 s), so a
  decompression bomb (frames that claim 1/12,000 s and decode to 1.4 s) is refused with
  ``InflatedAudioError`` at its second frame, in a whole read or a window's;
- a stream measured by decoding (no usable timestamps) is counted without keeping samples, up to
  ``MAX_COUNT_S`` (``TooLongAudioError`` beyond);
- the packet scan decodes nothing, and no input over ``max_bytes`` is opened.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from genre_engine.audio_pyav import PyavReader, open_audio
from genre_engine.audio_report import AudioTrack, Meter
from genre_engine.audio_soundfile import SoundfileReader
from genre_engine.errors import (
    AudioError,
    AudioTooLargeError,
    CorruptAudioError,
    EmptyAudioError,
    InflatedAudioError,
    NoSoundTrackError,
    NotAudioError,
    SilentAudioError,
    TooLongAudioError,
    TooShortAudioError,
)
from genre_engine.samples import ac_levels, content_floor, cut, has_content, resample, without_dc

AudioSource = str | Path | bytes

MAX_BYTES = 200_000_000
MIN_DURATION_S = 1.0
MIN_RATE = 4000  # Hz: below the lowest rate audio is stored at (telephony's 8 kHz), a file holds no music
MAX_WHOLE_S = 600.0  # read whole at most, when every length is (training's clips)
MAX_COUNT_S = 4 * 3600.0  # counted by decoding at most: 200 MB of a 128-kbit/s mp3 is 3.5 h
SNIFF_BYTES = 64
_SLACK_S = 1.0  # a whole read may hold this much more than the windows' span (codec priming, rounding)
_SPARE_FACTOR = 3  # a long file's windows that land in silence are replaced from a grid this much finer


class Sniffed(Enum):
    """What the first bytes of a file say about it."""

    AUDIO = "audio"  # starts like a known audio or video container: failing to decode it means damage
    NOT_AUDIO = "not audio"  # starts like a known non-audio format (archive, image, document, program)
    UNKNOWN = "unknown"  # no known signature: the decoder decides


_AUDIO_MAGIC = (
    b"RIFF",
    b"RF64",
    b"BW64",
    b"FORM",
    b"OggS",
    b"fLaC",
    b"ID3",
    b".snd",
    b"caff",
    b"\x1a\x45\xdf\xa3",
    b"0&\xb2u\x8e\x66\xcf\x11",
    b"#!AMR",
    b"wvpk",
    b"MAC ",
    b"\x0b\x77",
    b"MPCK",  # Musepack SV8
    b"MP+",  # Musepack SV7
    b"DSD ",  # DSD stream file (.dsf)
    b"FRM8",  # DSDIFF (.dff)
    b"TTA1",
    b"FLV",
)
# Containers libsndfile reads exactly: it goes first for them; FFmpeg for the rest (mp3 above all,
# whose length libsndfile only estimates and whose decoder inside it prints to stderr).
_SOUNDFILE_MAGIC = (b"RIFF", b"RF64", b"FORM", b"fLaC", b"OggS", b".snd", b"caff")
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")
_NOT_AUDIO_MAGIC = {
    b"PK\x03\x04": "zip archive",
    b"PK\x05\x06": "zip archive",
    b"Rar!": "rar archive",
    b"7z\xbc\xaf\x27\x1c": "7z archive",
    b"\x1f\x8b": "gzip archive",
    b"BZh": "bzip2 archive",
    b"%PDF": "PDF document",
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"\x7fELF": "program",
    b"MZ": "program",
    b"<!DOCTYPE": "web page",
    b"<html": "web page",
    b"{": "JSON document",
}


def sniff(head: bytes) -> tuple[Sniffed, str | None]:
    """Judge a file by its first bytes (``SNIFF_BYTES`` are plenty): the verdict, and for a
    recognised non-audio file what it is (``"zip archive"``). Names play no part."""
    for magic, kind in _NOT_AUDIO_MAGIC.items():
        if head.lower().startswith(magic.lower()) if magic.startswith(b"<") else head.startswith(magic):
            return Sniffed.NOT_AUDIO, kind
    if head.startswith(_AUDIO_MAGIC) or head[4:8] in _MP4_BOXES:
        return Sniffed.AUDIO, None
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # mpeg audio / adts frame sync
        return Sniffed.AUDIO, None
    return Sniffed.UNKNOWN, None


def content_verdict(path: Path) -> NotAudioError | EmptyAudioError | None:
    """Why the file at ``path`` is not audio, or None when it is worth decoding: its first bytes are
    those of an audio or video container, or else FFmpeg or libsndfile opens it and finds a sound
    track. Nothing is decoded: a file accepted here may still turn out damaged or silent.

    The reason is an :class:`EmptyAudioError` for an empty file (what decoding it says too), a
    :class:`NotAudioError` (``kind`` says what the first bytes showed), or a
    :class:`NoSoundTrackError` for a container that holds no audio track."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
        if not head:
            return EmptyAudioError()
        verdict, kind = sniff(head)
        if verdict is not Sniffed.UNKNOWN:
            return None if verdict is Sniffed.AUDIO else NotAudioError(kind=kind)
        failures = []
        for name, opener in _OPENERS:
            handle.seek(0)
            try:
                opener(handle)
            except NoSoundTrackError as exc:
                return exc
            except Exception as exc:  # noqa: BLE001 - a library that can't open it has said no
                failures.append((name, exc))
            else:
                return None
        return NotAudioError(cause=_causes(failures))


def _open_soundfile(handle: BinaryIO) -> None:
    SoundfileReader(handle, Meter()).close()


def _open_pyav(handle: BinaryIO) -> None:
    open_audio(handle)[0].close()


_OPENERS: tuple[tuple[str, Callable[[BinaryIO], None]], ...] = (
    ("FFmpeg", _open_pyav),
    ("libsndfile", _open_soundfile),
)


def _visible(path: Path, root: Path) -> bool:
    """Not hidden, nor inside a hidden folder under ``root`` (``.DS_Store``, macOS's ``._song.mp3``)."""
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


@dataclasses.dataclass(frozen=True)
class FolderScan:
    """A folder's files (recursively, hidden ones left out) in a stable order: ``audio``, worth
    decoding, and ``skipped``, each with why it is not audio (see :func:`content_verdict`)."""

    audio: list[Path]
    skipped: list[tuple[Path, NotAudioError | EmptyAudioError]]


def scan_folder(folder: Path) -> FolderScan:
    """Sort every file under ``folder`` (or ``folder`` alone, when it is a file) by content into audio
    and skipped (names play no part)."""
    audio: list[Path] = []
    skipped: list[tuple[Path, NotAudioError | EmptyAudioError]] = []
    for path in [folder] if folder.is_file() else sorted(folder.rglob("*")):
        if path.is_file() and _visible(path, folder):
            reason = content_verdict(path)
            if reason is None:
                audio.append(path)
            else:
                skipped.append((path, reason))
    return FolderScan(audio, skipped)


def is_audio_file(path: Path) -> bool:
    """Whether ``path`` is a visible file whose content is worth decoding (:func:`content_verdict`)."""
    return path.is_file() and not path.name.startswith(".") and content_verdict(path) is None


def find_audio_files(paths: list[Path]) -> list[Path]:
    """Files given as they are, folders searched recursively for audio (:func:`scan_folder`)."""
    found: list[Path] = []
    for path in paths:
        found += scan_folder(path).audio if path.is_dir() else [path]
    return found


@dataclasses.dataclass(frozen=True)
class DecodedAudio:
    """Audio ready to cut into segments.

    ``windows``: float32 ``[n, samples]``, mono at the requested rate. When ``whole`` is True it is
    one row holding the entire input (``starts_s == (0.0,)``); otherwise ``n`` windows of exactly
    ``window_s`` each, all inside the audio that exists and each holding content, starting at
    ``starts_s`` (seconds, ascending). ``duration_s``: the measured length of the whole input.
    ``track``: which audio track was analysed, when the container holds several (else None).
    ``decoded_s``: seconds of audio the decoders produced to get here, by every backend tried
    (skipped audio and measuring by decoding included): what the bounds above hold down.
    """

    windows: np.ndarray
    starts_s: tuple[float, ...]
    duration_s: float
    whole: bool
    track: AudioTrack | None = None
    decoded_s: float = 0.0


class _Reader(Protocol):
    rate: int
    duration_s: float
    track: AudioTrack | None

    def read_all(self, max_samples: int) -> np.ndarray: ...
    def read(self, start_s: float, length_s: float) -> np.ndarray: ...
    def close(self) -> None: ...


def window_starts(duration_s: float, window_s: float, max_windows: int) -> np.ndarray:
    """Evenly spread window start times (s) covering the whole of a long input."""
    last_start = max(duration_s - window_s, 0.0)
    return np.linspace(0.0, last_start, max_windows)


def decode_windows(
    source: AudioSource,
    sample_rate: int,
    window_s: float,
    max_windows: int | None,
    *,
    max_bytes: int = MAX_BYTES,
) -> DecodedAudio:
    """Decode ``source`` (a path, or the file's bytes) into analysable mono windows.

    Inputs up to ``max_windows * window_s`` seconds (or, when ``max_windows`` is None, up to
    ``MAX_WHOLE_S``) come back whole, as one row; longer ones as ``max_windows`` windows of
    ``window_s`` seconds, read by seeking, evenly spread over the measured length and moved to
    where there is content when they land in silence. Multichannel audio is downmixed (see
    :mod:`genre_engine.samples`), then resampled to ``sample_rate`` Hz with soxr. The backends
    are tried in turn (see above); the first that decodes the input answers.

    Raises (all :class:`~genre_engine.errors.AudioError`; when every backend fails, the most
    telling of their errors): ``AudioTooLargeError`` (over ``max_bytes``, checked first),
    ``NotAudioError`` (content is not audio, whatever the name), ``NoSoundTrackError`` (a
    container without an audio track), ``InflatedAudioError`` (decodes to far more than it says),
    ``TooLongAudioError`` (over ``MAX_WHOLE_S`` with ``max_windows`` None, or an untimed stream over
    ``MAX_COUNT_S``), ``SilentAudioError`` (no content anywhere), ``TooShortAudioError`` (under
    ``MIN_DURATION_S``), ``EmptyAudioError`` (no bytes, or no samples), ``CorruptAudioError``
    (starts like audio but no backend decodes it; any library failure, expected or not, becomes
    this or ``NotAudioError``). ``MemoryError`` is not a verdict on the file and passes through:
    whoever bounds the job's memory (``bot.jobs.children``) answers it.
    """
    _check_size(source, max_bytes)
    with _open(source) as handle:
        head = handle.read(SNIFF_BYTES)
        verdict, kind = sniff(head)
        if verdict is Sniffed.NOT_AUDIO:
            raise NotAudioError(kind=kind)
        meter = Meter()
        failures: list[tuple[str, Exception]] = []
        for name, backend in _backends(head):
            handle.seek(0)
            try:
                reader = backend(handle, meter)
            except MemoryError:  # the job's memory, not the file's fault alone: its runner says so
                raise
            except Exception as exc:  # noqa: BLE001 - any failure inside a decoding library is bad input
                failures.append((name, exc))
                continue
            try:
                decoded = _decode(reader, sample_rate, window_s, max_windows)
                return dataclasses.replace(decoded, track=reader.track, decoded_s=meter.seconds)
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - the other backend may read what this one misreads
                failures.append((name, exc))
            finally:
                reader.close()
        raise _verdict(failures, verdict)


Backend = Callable[[BinaryIO, Meter], _Reader]


def _pyav(handle: BinaryIO, meter: Meter) -> _Reader:
    return PyavReader(handle, meter, MAX_COUNT_S)


def _backends(head: bytes) -> tuple[tuple[str, Backend], ...]:
    """The backends to try, the one that reads this kind of input best first."""
    if head.startswith(_SOUNDFILE_MAGIC):
        return ("libsndfile", SoundfileReader), ("FFmpeg", _pyav)
    return ("FFmpeg", _pyav), ("libsndfile", SoundfileReader)


# When no backend decodes an input, the first of these any of them raised is the answer: what a
# backend found in the audio says more than another's failure to read it.
_JUDGEMENTS = (
    NoSoundTrackError,
    InflatedAudioError,
    TooLongAudioError,
    SilentAudioError,
    TooShortAudioError,
    EmptyAudioError,
    CorruptAudioError,
)


def _verdict(failures: list[tuple[str, Exception]], sniffed: Sniffed) -> AudioError:
    for kind in _JUDGEMENTS:
        for _, exc in failures:
            if isinstance(exc, kind):
                return exc
    cause = _causes(failures)
    return CorruptAudioError(cause) if sniffed is Sniffed.AUDIO else NotAudioError(cause=cause)


def _causes(failures: list[tuple[str, Exception]]) -> str:
    """``"FFmpeg: InvalidDataError; libsndfile: NotForSoundfile"``, for logs."""
    return "; ".join(f"{name}: {type(exc).__name__}" for name, exc in failures)


def _check_size(source: AudioSource, max_bytes: int) -> None:
    size = len(source) if isinstance(source, bytes) else os.path.getsize(source)
    if size > max_bytes:
        raise AudioTooLargeError(size, max_bytes)
    if size == 0:
        raise EmptyAudioError()


def _open(source: AudioSource) -> BinaryIO:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    return open(source, "rb")


def _decode(reader: _Reader, rate: int, window_s: float, max_windows: int | None) -> DecodedAudio:
    if reader.rate < MIN_RATE:  # 30 samples at 1 Hz would pass for a 30-s song
        raise CorruptAudioError(f"sample rate {reader.rate} Hz")
    whole_s = max_windows * window_s if max_windows is not None else MAX_WHOLE_S
    if reader.duration_s > whole_s:
        if max_windows is None:
            raise TooLongAudioError(reader.duration_s, MAX_WHOLE_S)
        windows = _read_windows(reader, rate, window_s, max_windows, reader.duration_s)
        if windows is not None:
            return windows
    return _read_whole(reader, rate, window_s, whole_s)


def _read_whole(reader: _Reader, rate: int, window_s: float, whole_s: float) -> DecodedAudio:
    """The input as one row; ``InflatedAudioError`` when it holds more than ``whole_s`` (and the
    slack), which its measured length said it could not."""
    limit = int(np.ceil((whole_s + _SLACK_S) * reader.rate))
    samples = reader.read_all(limit)
    if len(samples) > limit:
        raise InflatedAudioError(reader.duration_s, len(samples) / reader.rate)
    if samples.size == 0:
        raise EmptyAudioError()
    duration = len(samples) / reader.rate  # what was really there, whatever the header said
    if duration < MIN_DURATION_S:
        raise TooShortAudioError(duration, MIN_DURATION_S)
    clip = resample(without_dc(samples), reader.rate, rate)
    _check_finite(clip)
    size = int(round(window_s * rate))
    pieces = cut(clip, size) if len(clip) >= size else clip[None]
    if not has_content(pieces).any():
        raise SilentAudioError(len(pieces))
    return DecodedAudio(clip[None], (0.0,), duration, whole=True)


def _read_windows(
    reader: _Reader, rate: int, window_s: float, max_windows: int, duration: float
) -> DecodedAudio | None:
    """Windows spread over ``duration``, read by seeking; None when the audio really is short
    enough to read whole. A read that ends early means the file is shorter than its header said:
    the windows are placed again inside the audio that exists, never padded."""
    for _attempt in range(3):
        starts = window_starts(duration, window_s, max_windows)
        windows, real_end = _read_at(reader, rate, window_s, starts)
        if real_end is None:
            return _with_content(reader, rate, window_s, max_windows, duration, starts, windows)
        duration = real_end
        if duration <= window_s * max_windows:
            return None
    raise CorruptAudioError("length keeps changing")


def _read_at(reader: _Reader, rate: int, window_s: float, starts: np.ndarray) -> tuple[np.ndarray, float | None]:
    """The windows at ``starts`` resampled, ``[n, samples]``, and where the audio really ends if a
    read came back short (else None)."""
    size = int(round(window_s * rate))
    native = int(round(window_s * reader.rate))
    windows = []
    for start in starts:
        block = reader.read(float(start), window_s)
        if len(block) < native:
            return np.zeros((0, size), np.float32), float(start) + len(block) / reader.rate
        windows.append(resample(without_dc(block), reader.rate, rate)[:size])
    stacked = np.stack(windows) if windows else np.zeros((0, size), np.float32)
    if stacked.shape[1] != size:
        raise CorruptAudioError("resampled window too short")
    _check_finite(stacked)
    return stacked, None


def _with_content(
    reader: _Reader,
    rate: int,
    window_s: float,
    max_windows: int,
    duration: float,
    starts: np.ndarray,
    windows: np.ndarray,
) -> DecodedAudio:
    """Keep the windows with content; each one that landed in silence is replaced by the nearest
    window with content on a grid ``_SPARE_FACTOR`` times finer (each spare read at most once)."""
    chosen = dict(zip(starts.tolist(), windows))
    silent = [s for s, keep in zip(starts.tolist(), has_content(windows)) if not keep]
    if silent:
        floor = content_floor(float(ac_levels(windows).max()))
        spare = window_starts(duration, window_s, _SPARE_FACTOR * max_windows).tolist()
        for start in silent:
            del chosen[start]
            for candidate in sorted(spare, key=lambda c: abs(c - start)):
                if min((abs(candidate - s) for s in chosen), default=window_s) < window_s / 2:
                    continue
                spare.remove(candidate)
                window, _ = _read_at(reader, rate, window_s, np.array([candidate]))
                if len(window) and ac_levels(window)[0] >= floor:
                    chosen[candidate] = window[0]
                    break
    if not chosen:
        raise SilentAudioError(len(windows))
    starts = np.array(sorted(chosen))
    windows = np.stack([chosen[s] for s in starts.tolist()])
    content = has_content(windows)  # against the loudest of the final set
    if not content.any():
        raise SilentAudioError(len(windows))
    return DecodedAudio(windows[content], tuple(float(s) for s in starts[content]), duration, whole=False)


def _check_finite(samples: np.ndarray) -> None:
    if not np.isfinite(samples).all():
        raise CorruptAudioError("non-finite samples")
