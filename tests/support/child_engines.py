"""Engines for the child processes of bot.jobs.children: importable by name, so a child can build them."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from genre_engine import Prediction
from genre_engine.errors import CorruptAudioError, NoSoundTrackError
from tests.support.fake_engine import FakeEngine

ENDLESS, GREEDY = "endless", "greedy"  # names of audio that never finishes, or wants 4 GiB
VIDEO, UNREADABLE = "video", "unreadable"  # names of a video without sound, and of an answer no parent can read
HOARD, HUNGRY = "hoard", "hungry"  # names of audio that takes 400 MiB before it fails, or takes 500 MiB


class UnreadableError(Exception):
    """An error whose pickle cannot be loaded again (its constructor takes other arguments than
    ``args``), like any library's error might be."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} {second}")


class StubbornEngine(FakeEngine):
    """FakeEngine, except that audio named ``endless`` is analysed forever, audio named ``greedy``
    asks for 4 GiB of memory, ``video`` is a video without sound and ``unreadable`` raises an
    error the parent cannot unpickle; ``hoard`` holds 400 MiB when it turns out damaged, ``hungry``
    needs 500 MiB to succeed."""

    def classify(self, source: bytes | str | Path, *, name: str | None = None) -> Prediction:
        if name == ENDLESS:
            while True:
                time.sleep(0.01)
        if name == GREEDY:
            np.ones(2**30, np.float32)
        if name == VIDEO:
            raise NoSoundTrackError(["video"])
        if name == UNREADABLE:
            raise UnreadableError("cannot", "rebuild")
        if name in (HOARD, HUNGRY):
            decoded = np.empty(400 * 2**20 if name == HOARD else 500 * 2**20, np.uint8)
            if name == HOARD:
                raise CorruptAudioError(f"{decoded.size} bytes decoded")
        return super().classify(source, name=name)
