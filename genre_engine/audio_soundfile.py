"""libsndfile (via soundfile) backend: exact, fast reads of the containers whose length it counts, and a
second opinion on the rest (a free-format mp3 that FFmpeg can't decode).

Refused here with :class:`NotForSoundfile`, so that FFmpeg reads them: what libsndfile doesn't
open; a chained Ogg (libsndfile reads its first link only, and reports that link's length or
2**63 - 1 frames); more than two channels (they need a layout-aware downmix); a header that says 0
frames; a length it doesn't know or can't be right (a FLAC whose header leaves the length out
reports 2**63 - 1 frames: anything over ``PLAUSIBLE_S`` is taken as that). Its read errors (a
truncated FLAC "lost sync") are raised as they are: the caller treats them as a misreading and
asks the other backend.

libsndfile's mp3 decoder (mpg123) prints notes about damaged frames straight to the process's
stderr, where the console's user would read them: while it opens an input or decodes mpeg audio,
what it prints is held back, and only what others wrote meanwhile is passed on (:func:`_hushed`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, TypeVar

import numpy as np
import soundfile as sf

from genre_engine.audio_report import Meter
from genre_engine.ogg_chain import ogg_links
from genre_engine.samples import downmix

PLAUSIBLE_S = 24 * 3600.0  # no header of an input this engine reads (<= 200 MB) is longer, but silence
_LIBRARY_LINES = (b"Note: ", b"Warning: ", b"Error: ", b"[src/libmpg123/")
_STDERR = threading.Lock()
T = TypeVar("T")


@contextmanager
def _hushed() -> Iterator[None]:
    """Hold back what is written to file descriptor 2 meanwhile; then pass on every line but the
    decoding library's own (one thread at a time: the descriptor belongs to the process)."""
    with _STDERR, tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            others = [line for line in held.read().splitlines(keepends=True) if not line.startswith(_LIBRARY_LINES)]
            if others:
                os.write(2, b"".join(others))


def _quietly(call: Callable[[], T]) -> T:
    with _hushed():
        return call()


class NotForSoundfile(Exception):
    """libsndfile cannot read this input, or not believably; FFmpeg should."""


class _SeekWithinFile:
    """The input as libsndfile sees it, through soundfile's virtual I/O: a seek it asks for before
    the start (a truncated header's arithmetic) leaves the position where it was. Raised inside
    soundfile's callback, the error would tell libsndfile nothing and print a traceback on stderr;
    libsndfile then finds the header short and gives up, as it should."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        try:
            return self._handle.seek(offset, whence)
        except (OSError, ValueError):
            return self._handle.tell()

    def __getattr__(self, name: str) -> object:  # read, tell, name...: the handle's own
        return getattr(self._handle, name)


class SoundfileReader:
    """An open input: ``rate`` (Hz), ``duration_s`` (a hint from the header), mono float32 reads,
    each counted by ``meter``. ``track`` is always None: these formats hold one."""

    track = None

    def __init__(self, handle: BinaryIO, meter: Meter) -> None:
        if len(ogg_links(handle)) > 1:
            raise NotForSoundfile()
        try:
            self._file = _quietly(lambda: sf.SoundFile(_SeekWithinFile(handle)))
        except sf.LibsndfileError:
            raise NotForSoundfile() from None
        f = self._file
        self._mpeg = f.subtype.startswith("MPEG")
        if not 0 < f.channels <= 2 or f.frames <= 0 or f.samplerate <= 0 or f.frames / f.samplerate > PLAUSIBLE_S:
            f.close()
            raise NotForSoundfile()
        self._meter = meter
        self.rate: int = f.samplerate
        self.duration_s: float = f.frames / f.samplerate

    def read_all(self, max_samples: int) -> np.ndarray:
        """The audio from the start, mono ``[samples]`` at ``rate``: all there really is (fewer than
        the header said when the file was cut short), or ``max_samples + 1`` when there is more."""
        self._file.seek(0)
        return self._read(max_samples + 1)

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        """Up to ``length_s`` seconds from ``start_s``, mono; shorter where the audio really ends."""
        self._file.seek(min(int(start_s * self.rate), self._file.frames))
        return self._read(int(round(length_s * self.rate)))

    def _read(self, frames: int) -> np.ndarray:
        def read() -> np.ndarray:
            return self._file.read(frames, dtype="float32", always_2d=True)

        block = _quietly(read) if self._mpeg else read()
        self._meter.add(len(block), self.rate)
        return downmix(block.T)

    def close(self) -> None:
        self._file.close()
