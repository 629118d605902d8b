"""Synthetic pools and listeners for the sweep, the benchmark and the tests.

Shaped like a real server rather than like noise: genres are unevenly popular, a song leans on one
genre with a little of a second (as the genre engine's probability vectors do), embeddings cluster
by genre so "sounds like" agrees with genre, and listeners like a few genres, mostly play songs
from them, and dislike or skip songs from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from recommender.genres import GENRES
from storage.base import EventKind, NewSong

GENRE_COUNT = len(GENRES)
#: embedding size of the sweep's pools: the shipped model's compact embedding (its full one is 1756)
EMBEDDING_DIM = 256
#: tags per song of the shipped model's tagger (``data/tags.json``): they are stored with every song
TAG_COUNT = 50
_BLOCK = 65_536  # rows per step of make_pool's in-place arithmetic
_POSITIVE_KINDS = (EventKind.SHARED, EventKind.LISTENED, EventKind.LIKED)
_POSITIVE_ODDS = (0.35, 0.4, 0.25)


@dataclass(frozen=True, eq=False)
class SyntheticPool:
    probabilities: np.ndarray  # float32 [N, 10], rows sum to 1
    embeddings: np.ndarray  # float32 [N, D], unit rows


@dataclass(frozen=True, eq=False)
class SyntheticListener:
    taste: np.ndarray  # the latent genre preference the history was drawn from
    rows: np.ndarray  # pool rows of the history, one per event
    kinds: tuple[EventKind, ...]
    ages_days: np.ndarray


def make_pool(size: int, dim: int, rng: np.random.Generator) -> SyntheticPool:
    popularity = np.sort(rng.dirichlet(np.full(GENRE_COUNT, 2.0)))[::-1]
    main = rng.choice(GENRE_COUNT, size, p=popularity)
    second = rng.integers(0, GENRE_COUNT, size)
    alpha = np.full((size, GENRE_COUNT), 0.15)
    alpha[np.arange(size), main] += 4.0
    alpha[np.arange(size), second] += 0.8
    probabilities = rng.gamma(alpha)  # Dirichlet rows, drawn in one vectorised call
    probabilities = (probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)
    centroids = rng.standard_normal((GENRE_COUNT, dim), dtype=np.float32)
    # float32 throughout, and in place by blocks of rows: a 1M x 1756 pool is 7 GiB
    embeddings = rng.standard_normal((size, dim), dtype=np.float32)
    for start in range(0, size, _BLOCK):
        block = embeddings[start : start + _BLOCK]
        block *= np.float32(0.5)
        block += probabilities[start : start + _BLOCK] @ centroids
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    return SyntheticPool(probabilities, embeddings)


def make_listener(pool: SyntheticPool, events: int, rng: np.random.Generator) -> SyntheticListener:
    """A listener who likes one to three genres; positive events are drawn from songs that match
    their taste, negative ones (about one in ten) from songs that do not."""
    taste = rng.dirichlet(np.full(GENRE_COUNT, 0.25))
    match = pool.probabilities @ taste
    liked = match**4
    liked /= liked.sum()
    disliked = (1.0 - match) ** 4
    disliked /= disliked.sum()
    negative = rng.random(events) < 0.1
    size = len(pool.probabilities)
    rows = np.where(negative, rng.choice(size, events, p=disliked), rng.choice(size, events, p=liked))
    kinds = tuple(
        (EventKind.DISLIKED if rng.random() < 0.4 else EventKind.SKIPPED)
        if is_negative
        else _POSITIVE_KINDS[rng.choice(3, p=_POSITIVE_ODDS)]
        for is_negative in negative
    )
    return SyntheticListener(taste, rows, kinds, rng.uniform(0.0, 180.0, events))


def new_songs(
    guild_id: int, pool: SyntheticPool, rng: np.random.Generator, *, first: int = 0, contributors: int = 50
) -> Iterator[NewSong]:
    """The pool's songs as the bot stores them in server ``guild_id``: tag probabilities of the shipped
    model's width, a sharer among ``contributors``, titles and hashes numbered from ``first``."""
    for index, (probabilities, embedding) in enumerate(zip(pool.probabilities, pool.embeddings), first):
        yield NewSong(
            guild_id=guild_id,
            title=f"Synthetic song {index}",
            content_hash=f"{guild_id:016x}{index:048x}",
            probabilities=probabilities,
            embedding=embedding,
            added_by=1_000 + index % contributors,
            duration_s=180.0,
            tags=rng.random(TAG_COUNT, dtype=np.float32),
            confident=True,
        )
