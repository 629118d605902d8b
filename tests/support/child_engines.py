"""Engines for the child processes of bot.jobs.children: importable by name, so a child can build them."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from genre_engine import Prediction
from tests.support.fake_engine import FakeEngine

ENDLESS, GREEDY = "endless", "greedy"  # names of audio that never finishes, or wants 4 GiB


class StubbornEngine(FakeEngine):
    """FakeEngine, except that audio named ``endless`` is analysed forever and audio named ``greedy``
    asks for 4 GiB of memory."""

    def classify(self, source: bytes | str | Path, *, name: str | None = None) -> Prediction:
        if name == ENDLESS:
            while True:
                time.sleep(0.01)
        if name == GREEDY:
            np.ones(2**30, np.float32)
        return super().classify(source, name=name)
