"""What a server did lately: the genre mix of what was shared and played, what is rising, who was
most active. Pure functions over events and their songs' genre vectors; the service reads them.

- **The week's mix** is the mean genre vector of the songs behind the week's shares, listens and
  likes (one event, one song's vector), in the order of the events.
- **Rising** are the genres that mix holds a larger share of than the whole pool does (the all-time
  mix, ``PoolStats.genre_mix``), by at least five percentage points, largest rise first.
- **The most active** are the members with the most events of any kind in the week.

Members who asked to be forgotten have no events left, so they are in none of these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from storage.base import EventKind, ListenEvent

#: the events that say what a server shares and plays
ACTIVITY = (EventKind.SHARED, EventKind.LISTENED, EventKind.LIKED)
RISING_BY = 0.05  # five percentage points above the all-time share
MOST_ACTIVE = 5


@dataclass(frozen=True, eq=False)
class Trends:
    """``events``: the period's events of every kind; ``played``: its shares, listens and likes
    (what ``mix`` rests on). ``mix``: float64 ``[K]`` summing to 1 (zeros without activity).
    ``rising``: (genre index, rise in share) pairs. ``active``: (user id, events) pairs, most first."""

    days: int
    events: int
    played: int
    mix: np.ndarray
    rising: tuple[tuple[int, float], ...]
    active: tuple[tuple[int, int], ...]


def trends(events: Sequence[ListenEvent], probabilities: np.ndarray, all_time_mix: np.ndarray, *, days: int) -> Trends:
    """The trends of ``events`` (one genre vector per event, rows of ``probabilities`` ``[n, K]``),
    against the pool's ``all_time_mix`` ``[K]``, over a period of ``days``."""
    genre_count = len(all_time_mix)
    played = np.array([event.kind in ACTIVITY for event in events], dtype=bool)
    mix = np.zeros(genre_count)
    if played.any():
        mix = np.asarray(probabilities, np.float64)[played].mean(axis=0)
        mix = mix / mix.sum()
    rise = mix - np.asarray(all_time_mix, np.float64) if played.any() else np.zeros(genre_count)
    rising = tuple(
        (int(genre), float(rise[genre])) for genre in np.argsort(-rise, kind="stable") if rise[genre] >= RISING_BY
    )
    counts = Counter(event.user_id for event in events)
    active = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MOST_ACTIVE])
    return Trends(days, len(events), int(played.sum()), mix, rising, active)
