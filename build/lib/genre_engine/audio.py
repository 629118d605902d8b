"""Decode real-world audio into mono, fixed-length windows at the model's sample rate.

libsndfile (via soundfile) reads wav, flac, ogg/vorbis, opus, mp3 and au with exact seeking; PyAV
(FFmpeg) covers what it cannot, such as m4a/aac and webm. A long file is never decoded whole: only
the evenly spread windows that will be analysed are read, so an hour-long mix costs the same memory
as a three-minute song.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr

from genre_engine.errors import (
    AudioTooLargeError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    SilentAudioError,
    TooShortAudioError,
)

AudioSource = str | Path | bytes

# File names worth offering to the decoder when scanning folders or vetting uploads.
AUDIO_EXTENSIONS = frozenset({".wav", ".au", ".snd", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac",
                              ".webm", ".mka", ".mp4", ".aif", ".aiff", ".wma"})

MAX_BYTES = 200_000_000
MIN_DURATION_S = 1.0
SILENCE_RMS = 10 ** (-60 / 20)  # -60 dBFS

# Leading bytes of the containers we accept: a file that starts like audio but fails to decode is
# damaged, anything else is not audio at all. The two deserve different messages.
_AUDIO_MAGIC = (b"RIFF", b"OggS", b"fLaC", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2",
                b"\xff\xf1", b"\xff\xf9", b".snd", b"FORM", b"\x1a\x45\xdf\xa3", b"caff")


@dataclass(frozen=True)
class DecodedAudio:
    windows: np.ndarray  # float32 [n, window_samples], mono, at the requested rate
    duration_s: float  # of the whole input, not just the windows


def is_audio_file(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS and not path.name.startswith(".") and path.is_file()


def find_audio_files(paths: list[Path]) -> list[Path]:
    """Files given as they are, folders searched recursively for audio, each folder in a stable order."""
    found: list[Path] = []
    for path in paths:
        found += sorted(p for p in path.rglob("*") if is_audio_file(p)) if path.is_dir() else [path]
    return found


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
    """Decode ``source`` into analysable windows.

    Short inputs come back as one window holding all samples (the caller cuts segments); inputs
    longer than ``max_windows * window_s`` come back as ``max_windows`` separate windows read by
    seeking.
    """
    _check_size(source, max_bytes)
    with _open(source) as handle:
        try:
            decoded = _decode_soundfile(handle, sample_rate, window_s, max_windows)
        except sf.LibsndfileError:
            handle.seek(0)
            from genre_engine.audio_pyav import decode_pyav  # FFmpeg loads only for what libsndfile can't read

            decoded = decode_pyav(handle, sample_rate, window_s, max_windows)
    _check_content(decoded)
    return decoded


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


def is_long(duration_s: float, window_s: float, max_windows: int | None) -> bool:
    return max_windows is not None and duration_s > window_s * max_windows


def _to_mono(block: np.ndarray) -> np.ndarray:
    return block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block.astype(np.float32)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return np.ascontiguousarray(samples, dtype=np.float32)
    return soxr.resample(samples, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


def fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))


def _decode_soundfile(handle: BinaryIO, rate: int, window_s: float, max_windows: int | None) -> DecodedAudio:
    with sf.SoundFile(handle) as f:
        native = f.samplerate
        frames = f.frames
        duration = frames / native if native else 0.0
        if frames <= 0:
            raise EmptyAudioError()
        if not is_long(duration, window_s, max_windows):
            return DecodedAudio(resample(_to_mono(f.read(dtype="float32", always_2d=True)), native, rate)[None],
                                duration)
        native_window = int(round(window_s * native))
        windows = []
        for start in window_starts(duration, window_s, max_windows):
            f.seek(int(start * native))
            block = _to_mono(f.read(native_window, dtype="float32", always_2d=True))
            windows.append(fit_length(resample(block, native, rate), int(round(window_s * rate))))
        return DecodedAudio(np.stack(windows), duration)


def undecodable(handle: BinaryIO) -> Exception:
    handle.seek(0)
    head = handle.read(12)
    looks_like_audio = head.startswith(_AUDIO_MAGIC) or head[4:8] == b"ftyp"
    return CorruptAudioError() if looks_like_audio else NotAudioError()


def _check_content(decoded: DecodedAudio) -> None:
    if decoded.duration_s < MIN_DURATION_S:
        raise TooShortAudioError(decoded.duration_s, MIN_DURATION_S)
    if not np.isfinite(decoded.windows).all():
        raise CorruptAudioError("non-finite samples")
    if np.sqrt(np.mean(np.square(decoded.windows, dtype=np.float64))) < SILENCE_RMS:
        raise SilentAudioError()
