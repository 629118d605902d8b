"""Audio in, genre probabilities and a similarity embedding out. No Discord in here.

``GENRES`` loads without torch, so torch-free packages (the recommender) share this one label list;
``GenreEngine`` and ``Prediction`` import torch on first use.
"""

from typing import Any

from genre_engine.labels import GENRES

__all__ = ["GENRES", "GenreEngine", "Prediction"]


def __getattr__(name: str) -> Any:
    if name in ("GenreEngine", "Prediction"):
        from genre_engine import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'genre_engine' has no attribute {name!r}")
