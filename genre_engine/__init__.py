"""Audio in, genre probabilities and a similarity embedding out. No Discord in here.

``GENRES`` loads without the engine's dependencies, so the recommender shares this one label list;
``GenreEngine`` and ``Prediction`` load on first use. Serving needs no torch: the engine runs the
shipped model's ONNX export through ONNX Runtime and imports torch only for a torch checkpoint.
"""

from typing import Any

from genre_engine.labels import GENRES

__all__ = ["GENRES", "GenreEngine", "Prediction"]


def __getattr__(name: str) -> Any:
    if name in ("GenreEngine", "Prediction"):
        from genre_engine import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'genre_engine' has no attribute {name!r}")
