"""What decoding reports beside the samples: which track of a container was analysed, and how much
audio the decoders produced to get there (the figure every decoding bound is checked against)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AudioTrack:
    """The audio track analysed in a container holding several: ``number`` (1-based, in the
    file's order of audio tracks) of ``count``, its ``title`` and ``language`` when tagged, and why
    it was ``chosen``: ``"default"`` (marked as the default track) or ``"first"`` (none marked: the
    first not marked as commentary or description)."""

    number: int
    count: int
    title: str | None
    language: str | None
    chosen: str


class Meter:
    """Seconds of audio decoded, counted at each frame's own rate, across every read of every backend
    tried (measuring scans and skipped audio included: whatever a decoder produced)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def add(self, samples: int, rate: int) -> None:
        self.seconds += samples / rate
