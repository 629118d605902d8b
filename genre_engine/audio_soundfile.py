"""libsndfile (via soundfile) backend: exact, fast reads of the containers whose length it counts.

Only formats where libsndfile knows the true frame count from the file itself (PCM wav/aiff/au/caf,
flac, ogg vorbis/opus) with one or two channels are read here; everything else (mp3, whose
length libsndfile estimates; more than two channels, which need a layout-aware downmix; a header
that says 0 frames) raises :class:`NotForSoundfile` and goes to FFmpeg.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
import soundfile as sf

from genre_engine.samples import downmix

EXACT_FORMATS = frozenset({"WAV", "WAVEX", "W64", "RF64", "AIFF", "AU", "CAF", "FLAC", "OGG"})


class NotForSoundfile(Exception):
    """libsndfile cannot read this input exactly; FFmpeg should."""


class SoundfileReader:
    """An open input: ``rate`` (Hz), ``duration_s`` (a hint from the header), mono float32 reads."""

    def __init__(self, handle: BinaryIO) -> None:
        try:
            self._file = sf.SoundFile(handle)
        except sf.LibsndfileError:
            raise NotForSoundfile() from None
        f = self._file
        if f.format not in EXACT_FORMATS or not 0 < f.channels <= 2 or f.frames <= 0 or f.samplerate <= 0:
            f.close()
            raise NotForSoundfile()
        self.rate: int = f.samplerate
        self.duration_s: float = f.frames / f.samplerate

    def read_all(self) -> np.ndarray:
        """Every sample there really is, mono ``[samples]`` at ``rate`` (fewer than the header said
        when the file was cut short)."""
        self._file.seek(0)
        return downmix(self._file.read(dtype="float32", always_2d=True).T)

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        """Up to ``length_s`` seconds from ``start_s``, mono; shorter where the audio really ends."""
        self._file.seek(min(int(start_s * self.rate), self._file.frames))
        return downmix(self._file.read(int(round(length_s * self.rate)), dtype="float32", always_2d=True).T)

    def close(self) -> None:
        self._file.close()
