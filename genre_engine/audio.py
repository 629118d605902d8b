"""Decode real-world audio into mono windows at the model's sample rate, measuring what it reads.

What counts as audio is defined here once, for the engine and every front end:
:data:`AUDIO_EXTENSIONS` / :func:`is_audio_name` say which names are worth offering to the
decoder (folder scans, upload checks), and :func:`sniff` judges a file by its first bytes, so a
zip archive named ``.mp3`` is "not audio" whatever its name.

Two backends, both private: libsndfile (``audio_soundfile``) for the formats whose length it
knows exactly, FFmpeg through PyAV (``audio_pyav``) for the rest, with the length measured by a
packet scan. Durations are measured, not trusted: a header's frame count or FFmpeg's estimate is
a hint, and when decoding ends earlier or later the real length wins. A long file is never
decoded whole: only the windows that will be analysed are read (seeking), so an hour-long mix
costs the same memory as a three-minute song.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from genre_engine.audio_pyav import PyavReader
from genre_engine.audio_soundfile import NotForSoundfile, SoundfileReader
from genre_engine.errors import (
    AudioError,
    AudioTooLargeError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    SilentAudioError,
    TooShortAudioError,
)
from genre_engine.samples import ac_levels, content_floor, cut, has_content, resample

AudioSource = str | Path | bytes

# File names worth offering to the decoder when scanning folders or vetting uploads: audio
# containers, voice messages (.ogg/.opus/.oga) and video containers, whose audio track is read.
AUDIO_EXTENSIONS = frozenset(
    {
        ".wav",
        ".wave",
        ".w64",
        ".rf64",
        ".au",
        ".snd",
        ".aif",
        ".aiff",
        ".aifc",
        ".caf",
        ".flac",
        ".mp3",
        ".mp2",
        ".ogg",
        ".oga",
        ".opus",
        ".spx",
        ".m4a",
        ".m4b",
        ".aac",
        ".adts",
        ".ac3",
        ".wma",
        ".mka",
        ".weba",
        ".amr",
        ".wv",
        ".webm",
        ".mp4",
        ".m4v",
        ".mov",
        ".mkv",
        ".avi",
        ".3gp",
    }
)

MAX_BYTES = 200_000_000
MIN_DURATION_S = 1.0
SNIFF_BYTES = 64
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
)
# Containers libsndfile may read exactly; anything else (mp3 above all, whose decoder inside
# libsndfile also prints to stderr) goes straight to FFmpeg.
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
    b"{": "JSON text",
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


def is_audio_name(name: str | Path) -> bool:
    """Whether a file name has an extension the engine decodes (hidden files excluded). A name is
    only a hint for choosing files: the content decides (see :func:`sniff`)."""
    name = Path(name).name
    return Path(name).suffix.lower() in AUDIO_EXTENSIONS and not name.startswith(".")


def is_audio_file(path: Path) -> bool:
    return is_audio_name(path) and path.is_file()


def find_audio_files(paths: list[Path]) -> list[Path]:
    """Files given as they are, folders searched recursively for audio, each folder in a stable order."""
    found: list[Path] = []
    for path in paths:
        found += sorted(p for p in path.rglob("*") if is_audio_file(p)) if path.is_dir() else [path]
    return found


@dataclass(frozen=True)
class DecodedAudio:
    """Audio ready to cut into segments.

    ``windows``: float32 ``[n, samples]``, mono at the requested rate. When ``whole`` is True it is
    one row holding the entire input (``starts_s == (0.0,)``); otherwise ``n`` windows of exactly
    ``window_s`` each, all inside the audio that exists and each holding content, starting at
    ``starts_s`` (seconds, ascending). ``duration_s``: the measured length of the whole input.
    """

    windows: np.ndarray
    starts_s: tuple[float, ...]
    duration_s: float
    whole: bool


class _Reader(Protocol):
    rate: int
    duration_s: float

    def read_all(self) -> np.ndarray: ...
    def read(self, start_s: float, length_s: float) -> np.ndarray: ...
    def close(self) -> None: ...


def window_starts(duration_s: float, window_s: float, max_windows: int) -> np.ndarray:
    """Evenly spread window start times (s) covering the whole of a long input."""
    last_start = max(duration_s - window_s, 0.0)
    return np.linspace(0.0, last_start, max_windows)


def is_long(duration_s: float, window_s: float, max_windows: int | None) -> bool:
    return max_windows is not None and duration_s > window_s * max_windows


def decode_windows(
    source: AudioSource,
    sample_rate: int,
    window_s: float,
    max_windows: int | None,
    *,
    max_bytes: int = MAX_BYTES,
) -> DecodedAudio:
    """Decode ``source`` (a path, or the file's bytes) into analysable mono windows.

    Inputs up to ``max_windows * window_s`` seconds (or any length when ``max_windows`` is None)
    come back whole, as one row; longer ones as ``max_windows`` windows of ``window_s`` seconds,
    read by seeking, evenly spread over the measured length and moved to where there is content
    when they land in silence. Multichannel audio is downmixed (see :mod:`genre_engine.samples`),
    then resampled to ``sample_rate`` Hz with soxr.

    Raises (all :class:`~genre_engine.errors.AudioError`): ``AudioTooLargeError`` (over
    ``max_bytes``, checked first), ``EmptyAudioError`` (no bytes, or no samples even for FFmpeg),
    ``NotAudioError`` (content is not audio, whatever the name), ``CorruptAudioError`` (starts like
    audio but does not decode; any library failure, expected or not, becomes one of these two),
    ``TooShortAudioError`` (under ``MIN_DURATION_S``), ``SilentAudioError`` (no content anywhere).
    """
    _check_size(source, max_bytes)
    with _open(source) as handle:
        head = handle.read(SNIFF_BYTES)
        handle.seek(0)
        verdict, kind = sniff(head)
        if verdict is Sniffed.NOT_AUDIO:
            raise NotAudioError(kind=kind)
        try:
            return _decode(handle, head.startswith(_SOUNDFILE_MAGIC), sample_rate, window_s, max_windows)
        except AudioError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure inside a decoding library is bad input
            cause = type(exc).__name__
            raise (CorruptAudioError(cause) if verdict is Sniffed.AUDIO else NotAudioError(cause=cause)) from None


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


def _open_reader(handle: BinaryIO, try_soundfile: bool) -> _Reader:
    if try_soundfile:
        try:
            return SoundfileReader(handle)
        except NotForSoundfile:
            handle.seek(0)
    return PyavReader(handle)


def _decode(handle: BinaryIO, try_soundfile: bool, rate: int, window_s: float, max_windows: int | None) -> DecodedAudio:
    reader = _open_reader(handle, try_soundfile)
    try:
        if is_long(reader.duration_s, window_s, max_windows):
            windows = _read_windows(reader, rate, window_s, max_windows, reader.duration_s)
            if windows is not None:
                return windows
        return _read_whole(reader, rate, window_s)
    finally:
        reader.close()


def _read_whole(reader: _Reader, rate: int, window_s: float) -> DecodedAudio:
    samples = reader.read_all()
    if samples.size == 0:
        raise EmptyAudioError()
    duration = len(samples) / reader.rate  # what was really there, whatever the header said
    if duration < MIN_DURATION_S:
        raise TooShortAudioError(duration, MIN_DURATION_S)
    clip = resample(samples, reader.rate, rate)
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
        if not is_long(duration, window_s, max_windows):
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
        windows.append(resample(block, reader.rate, rate)[:size])
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
