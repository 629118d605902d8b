"""The short human reason shown beside each song of a playlist ("62% jazz — your top genre")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.genres import GENRES

# a genre with at least this share of the taste counts among the user's favourites
_FAVOURITE_SHARE = 0.15
# a song whose top genre is below this share is described by its two leading genres
_MIXED_BELOW = 0.5


def genre_summary(probabilities: np.ndarray, labels: Sequence[str] = GENRES) -> str:
    """ "62% jazz", or "45% jazz, 30% blues" for a song that straddles two genres; ``labels`` name
    the vector's genres in order (the model's label list)."""
    shares = [float(share) for share in probabilities]  # ten floats: plain Python beats numpy calls
    first, second = sorted(range(len(shares)), key=lambda genre: -shares[genre])[:2]
    lead = f"{shares[first]:.0%} {labels[first]}"
    if shares[first] < _MIXED_BELOW and shares[second] >= 0.2:
        lead += f", {shares[second]:.0%} {labels[second]}"
    return lead


def reason(
    probabilities: np.ndarray,
    taste: np.ndarray,
    target: np.ndarray,
    *,
    cold_start: bool,
    labels: Sequence[str] = GENRES,
) -> str:
    """Why this song is in the playlist, in the user's terms.

    The song's leading genre is placed against the taste profile (your top genre, one of your
    favourites) or, when the taste does not explain it, against the variety target (new ground) or
    the sound the user likes (the selection also weighs embedding similarity).
    """
    summary = genre_summary(probabilities, labels)
    genre = int(np.argmax(probabilities))
    if cold_start:
        why = "typical of this server's pool"
    elif genre == int(np.argmax(taste)):
        why = "your top genre"
    elif taste[genre] >= _FAVOURITE_SHARE:
        why = "one of your favourite genres"
    elif target[genre] > taste[genre]:
        why = "something new, from your variety setting"
    else:
        why = "close to the sound you like"
    return f"{summary} — {why}"
