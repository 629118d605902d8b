"""Audio in, genre probabilities and a similarity embedding out. No Discord in here."""

from genre_engine.engine import GenreEngine, Prediction
from genre_engine.labels import GENRES

__all__ = ["GENRES", "GenreEngine", "Prediction"]
