"""Errors the engine raises; ``str(error)`` is a sentence fit to show an end user as it is."""


class GenreEngineError(Exception):
    """Base of everything the engine raises on purpose."""


class AudioError(GenreEngineError):
    """The input could not be turned into analysable audio."""


class NotAudioError(AudioError):
    def __init__(self, detail: str = "") -> None:
        super().__init__("That file doesn't look like audio. Try an mp3, ogg, wav, flac, m4a or opus file."
                         + (f" ({detail})" if detail else ""))


class CorruptAudioError(AudioError):
    def __init__(self, detail: str = "") -> None:
        super().__init__("That audio file seems to be damaged and couldn't be decoded."
                         + (f" ({detail})" if detail else ""))


class EmptyAudioError(AudioError):
    def __init__(self) -> None:
        super().__init__("That audio file contains no sound data.")


class SilentAudioError(AudioError):
    def __init__(self) -> None:
        super().__init__("That recording is silent, so there is no music to classify.")


class TooShortAudioError(AudioError):
    def __init__(self, duration_s: float, minimum_s: float) -> None:
        super().__init__(f"That clip is only {duration_s:.1f} s long; I need at least {minimum_s:.0f} s of music.")


class AudioTooLargeError(AudioError):
    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(f"That file is {size_bytes / 1e6:.0f} MB; the limit is {limit_bytes / 1e6:.0f} MB.")


class CheckpointError(GenreEngineError):
    """A model checkpoint is missing or does not fit this version of the engine."""

    HINT = ("Omit --checkpoint to use the shipped data/model.pt (restore it with `git checkout data/model.pt`), "
            "or train one with `python -m training.train --data DIR --model NAME --out OUTDIR`.")

    def __init__(self, detail: str) -> None:
        super().__init__(f"{detail} {self.HINT}")
