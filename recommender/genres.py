"""The genre labels, in the order of every probability vector the store and the recommender handle.

Mirrors ``genre_engine.GENRES`` (the GTZAN order) as a plain constant: importing the engine would pull
in torch, which the recommender must run without.
"""

GENRES: tuple[str, ...] = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)
