"""Tuning knobs of the recommender, with the defaults the sweep was run with.

A frozen dataclass and nothing else: the bot's config object reads environment and CLI and passes
values in, so the recommender never looks at the environment itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from storage.base import EventKind

DEFAULT_EVENT_WEIGHTS: Mapping[EventKind, float] = MappingProxyType(
    {
        EventKind.LIKED: 3.0,
        EventKind.LISTENED: 1.5,
        EventKind.SHARED: 1.0,
        EventKind.SKIPPED: -0.5,
        EventKind.DISLIKED: -2.0,
    }
)


@dataclass(frozen=True)
class RecommenderConfig:
    """All knobs; see each comment for what it trades.

    Raises ValueError on construction if a value makes no sense, so a bad environment variable fails
    at start-up rather than on someone's /playlist.
    """

    # taste profile: an event's weight halves every half_life_days
    half_life_days: float = 30.0
    # liked > listened > shared > 0 > skipped, disliked: negative weights push the taste away
    event_weights: Mapping[EventKind, float] = field(default_factory=lambda: DEFAULT_EVENT_WEIGHTS)
    # weight of a uniform pseudo-song mixed into every profile, so that a profile resting on one or
    # two songs is not absolute and one resting only on dislikes is still defined
    taste_prior: float = 0.5
    # Steck's lambda: 0 = pure relevance, 1 = pure calibration to the target genre mix
    calibration_weight: float = 0.9
    # Steck's alpha: the playlist mix is smoothed towards the target so KL stays finite
    kl_smoothing: float = 0.01
    # two songs whose embeddings' cosine similarity is above this are near-duplicates (the same
    # recording re-encoded or re-uploaded), never both in one playlist
    dedup_threshold: float = 0.98
    # half-width of the uniform random jitter on relevance: a fresh list every time, same taste
    exploration: float = 0.1
    # candidates for the greedy step: this many times n per genre, plus random_candidates times n
    # drawn uniformly from the pool (see recommender.calibrated for why)
    shortlist_per_genre: int = 4
    random_candidates: int = 2
    # playlists and "more like this" lists larger than these are refused
    max_playlist: int = 50
    max_similar: int = 25
    # "more like this" searches exactly below this many pool songs, through an HNSW index from it
    # on (recommender.ann; measured with python -m benchmarks.ann)
    ann_min_songs: int = 500_000

    def __post_init__(self) -> None:
        problems = []
        if not self.half_life_days > 0:
            problems.append("half_life_days must be positive")
        missing = set(EventKind) - set(self.event_weights)
        if missing:
            problems.append(f"event_weights lacks {sorted(missing)}")
        else:
            liked, listened, shared = (
                self.event_weights[kind] for kind in (EventKind.LIKED, EventKind.LISTENED, EventKind.SHARED)
            )
            if not liked > listened > shared > 0:
                problems.append("event weights must satisfy liked > listened > shared > 0")
            disliked, skipped = (self.event_weights[EventKind.DISLIKED], self.event_weights[EventKind.SKIPPED])
            if not (disliked < 0 and skipped < 0):  # also refuses NaN
                problems.append("disliked and skipped weights must be negative")
        if not self.taste_prior >= 0:
            problems.append("taste_prior must be >= 0")
        if not 0 <= self.calibration_weight <= 1:
            problems.append("calibration_weight must be in [0, 1]")
        if not 0 < self.kl_smoothing < 1:
            problems.append("kl_smoothing must be in (0, 1)")
        if not 0 < self.dedup_threshold <= 1:
            problems.append("dedup_threshold must be in (0, 1]")
        if not self.exploration >= 0:
            problems.append("exploration must be >= 0")
        if self.shortlist_per_genre < 1 or self.random_candidates < 0:
            problems.append("shortlist_per_genre must be >= 1 and random_candidates >= 0")
        if self.max_playlist < 1 or self.max_similar < 1:
            problems.append("max_playlist and max_similar must be >= 1")
        if self.ann_min_songs < 1:
            problems.append("ann_min_songs must be >= 1")
        if problems:
            raise ValueError("invalid recommender config: " + "; ".join(problems))
