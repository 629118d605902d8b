"""The genre labels, in the order of every probability vector the store and the recommender handle.

The engine's own list: ``genre_engine.labels`` loads without torch, which the recommender must run without.
"""

from genre_engine.labels import GENRES

__all__ = ["GENRES"]
