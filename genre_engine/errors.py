"""Errors the engine raises.

Each error keeps the facts it is about as attributes (for logs and tests) and builds its text in
``__str__``: a friendly sentence fit to show an end user as it is, in every front end (CLI,
console, Discord). No library's internal error text (FFmpeg, libsndfile) ever appears in it;
where a library failure is the cause, its exception class name is kept in ``cause`` for logs.
"""

from __future__ import annotations

from typing import TypeVar

AUDIO_KINDS_HINT = "mp3, ogg, opus, wav, flac, m4a, aiff or webm"
E = TypeVar("E", bound=BaseException)


def rebuilt_error(cls: type[E], args: tuple, facts: dict) -> E:
    """An error of class ``cls`` with these ``args`` and attributes (its facts), made without calling
    its constructor: how an error that crossed a process boundary is made again."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(facts)
    return error


class PortableError(Exception):
    """An error that crosses process boundaries intact: pickled by its facts (its attributes), not by
    calling its constructor again, whose parameters need not match ``args``. Engine errors are raised
    in the child processes that classify (``bot.jobs.children``), and the parent must get them back
    as they were. Every package's error base derives from it."""

    def __reduce__(self) -> tuple:
        return rebuilt_error, (type(self), self.args, self.__dict__)


class GenreEngineError(PortableError):
    """Base of everything the engine raises on purpose."""


class AudioError(GenreEngineError):
    """The input could not be turned into analysable audio."""


class NotAudioError(AudioError):
    """The content is not audio (whatever its name says).

    ``kind``: what the content was recognised as by its first bytes (``"zip archive"``), or None
    when it is simply nothing a decoder understands. ``cause``: the library exceptions that gave
    up, if any (``"FFmpeg: InvalidDataError; libsndfile: LibsndfileError"``), for logs.
    """

    def __init__(self, kind: str | None = None, cause: str | None = None) -> None:
        self.kind = kind
        self.cause = cause
        super().__init__(kind, cause)

    def __str__(self) -> str:
        what = f"That file is a {self.kind}, not audio." if self.kind else "That file doesn't look like audio."
        return f"{what} Try an {AUDIO_KINDS_HINT} file."


class NoSoundTrackError(NotAudioError):
    """A container (a video, most often) that holds no audio track at all.

    ``streams``: the kinds of track it does hold (``["video"]``; empty when it holds none)."""

    def __init__(self, streams: list[str]) -> None:
        self.streams = streams
        super().__init__(kind="video without sound" if "video" in streams else "file without sound")

    def __str__(self) -> str:
        what = "That video has" if "video" in self.streams else "That file has"
        return f"{what} no sound track, so there is no music in it to classify."


class CorruptAudioError(AudioError):
    """The content starts like audio but could not be decoded (damaged or truncated).

    ``cause``: the name of the library exception, or a short fact (``"non-finite samples"``)."""

    def __init__(self, cause: str | None = None) -> None:
        self.cause = cause
        super().__init__(cause)

    def __str__(self) -> str:
        return "That audio file seems to be damaged and couldn't be decoded."


class InflatedAudioError(AudioError):
    """The file holds far more audio than its own timing says: the mark of a decompression bomb
    (a few kilobytes that decode to hours) or of a damaged index. Decoding stops there.

    ``claimed_s``: the length its timestamps or header give; ``decoded_s``: how much audio had been
    decoded when it was stopped (more than the claim allows: see ``genre_engine.audio``)."""

    def __init__(self, claimed_s: float, decoded_s: float) -> None:
        self.claimed_s = claimed_s
        self.decoded_s = decoded_s
        super().__init__(claimed_s, decoded_s)

    def __str__(self) -> str:
        return (
            f"That file says it lasts {self.claimed_s:.1f} s but holds much more sound than that, so I "
            "stopped decoding it: it is damaged, or made to overload decoders."
        )


class TooLongAudioError(AudioError):
    """More audio than the engine reads in one piece, or measures by decoding.

    ``duration_s``: the length found (a lower bound when counting stopped at the limit);
    ``limit_s``: the most the engine reads that way (``genre_engine.audio.MAX_WHOLE_S``, ``MAX_COUNT_S``,
    less for a stream above 48 kHz: ``genre_engine.audio_pyav.COUNT_RATE``)."""

    def __init__(self, duration_s: float, limit_s: float) -> None:
        self.duration_s = duration_s
        self.limit_s = limit_s
        super().__init__(duration_s, limit_s)

    def __str__(self) -> str:
        return f"That recording lasts over {_minutes(self.limit_s)}, more than I can read."


def _minutes(seconds: float) -> str:
    return f"{seconds / 3600:.3g} h" if seconds >= 3600 else f"{seconds / 60:.3g} min"


class EmptyAudioError(AudioError):
    """The file is empty, or the decoder (FFmpeg included) found no samples in it."""

    def __str__(self) -> str:
        return "That file contains no sound data."


class SilentAudioError(AudioError):
    """No segment holds music: digital silence, a constant (DC) level, or only near-silence.

    ``segments``: how many segments were checked and found without content."""

    def __init__(self, segments: int = 0) -> None:
        self.segments = segments
        super().__init__(segments)

    def __str__(self) -> str:
        return (
            "I can't hear any music in that file (it is silent or only a constant level), "
            "so there is nothing to classify."
        )


class TooShortAudioError(AudioError):
    """Less audio than the engine needs. ``duration_s`` is the measured length."""

    def __init__(self, duration_s: float, minimum_s: float) -> None:
        self.duration_s = duration_s
        self.minimum_s = minimum_s
        super().__init__(duration_s, minimum_s)

    def __str__(self) -> str:
        return f"That clip is only {self.duration_s:.1f} s long; I need at least {self.minimum_s:.0f} s of music."


class AudioTooLargeError(AudioError):
    """The input is larger than the engine reads (checked before any decoding)."""

    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        super().__init__(size_bytes, limit_bytes)

    def __str__(self) -> str:
        return f"That file is {self.size_bytes / 1e6:.0f} MB; the limit is {self.limit_bytes / 1e6:.0f} MB."


class CheckpointError(GenreEngineError):
    """A model checkpoint is missing or does not fit this version of the engine.

    ``detail``: what is wrong with which file; the text adds how to get a working checkpoint."""

    HINT = (
        "Omit --checkpoint to use the shipped data/model.pt (restore it with `git checkout data/model.pt`), "
        "or train one with `python -m training.train --data DIR --model NAME --out OUTDIR`."
    )

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)

    def __str__(self) -> str:
        return f"{self.detail} {self.HINT}"
