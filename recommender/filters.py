"""Playlist filters: ``style:electronic``, ``mood:chill``, ``genre:<one of the ten or a taught label>``.

A filter picks the pool rows a playlist may draw from; the calibrated selection then runs within
them as usual. Styles and moods apply by the tagger's per-tag thresholds (``genre_engine.tags``);
a genre is one of the model's labels (the song's top genre) or a label the server teaches
(``recommender.taught``: taught songs plus the songs its classifier predicts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from genre_engine.tags import TagVocabulary, normalise
from recommender.errors import UnknownFilterError
from recommender.taught import TaughtClassifier, members
from storage.base import PoolMatrix

KINDS = ("style", "mood", "genre")


@dataclass(frozen=True)
class PoolFilter:
    """``kind``:``value`` as asked, and ``select`` giving the rows of a pool matrix that pass (bool [N])."""

    kind: str
    value: str
    select: Callable[[PoolMatrix], np.ndarray]


def tag_filter(kind: str, value: str, vocabulary: TagVocabulary | None) -> PoolFilter:
    """Songs on which the style or mood ``value`` applies. UnknownFilterError for another name."""
    group = {"style": "style", "mood": "mood"}[kind]
    known = vocabulary.group(group) if vocabulary else ()
    index = vocabulary.index(value) if vocabulary else None
    if index is None or vocabulary.tags[index].group != group:
        raise UnknownFilterError(kind, value, known)
    threshold = vocabulary.tags[index].threshold

    def select(matrix: PoolMatrix) -> np.ndarray:
        if matrix.tags is None or matrix.tags.shape[1] != len(vocabulary.tags):
            return np.zeros(len(matrix), bool)
        return np.nan_to_num(matrix.tags[:, index], nan=-1.0) >= threshold

    return PoolFilter(kind, vocabulary.tags[index].name, select)


def genre_filter(
    value: str, labels: Sequence[str], examples: Mapping[str, Sequence[int]], classifier: TaughtClassifier | None
) -> PoolFilter:
    """Songs of genre ``value``: whose top genre it is when it is one of the model's ``labels``,
    else the members of that taught label. UnknownFilterError for a genre neither knows."""
    wanted = normalise(value)
    model_genre = next((i for i, label in enumerate(labels) if normalise(label) == wanted), None)
    if model_genre is not None:
        return PoolFilter(
            "genre", labels[model_genre], lambda matrix: matrix.probabilities.argmax(axis=1) == model_genre
        )
    taught = next((label for label in examples if normalise(label) == wanted), None)
    if taught is None:
        raise UnknownFilterError("genre", value, (*labels, *sorted(examples)))
    return PoolFilter(
        "genre",
        taught,
        lambda matrix: members(classifier, taught, matrix.ids, matrix.embeddings, examples[taught], matrix.sounding()),
    )


def select_all(filters: Sequence[PoolFilter], matrix: PoolMatrix) -> np.ndarray:
    """Bool [N]: the rows every filter selects."""
    allowed = np.ones(len(matrix), bool)
    for only in filters:
        allowed &= only.select(matrix)
    return allowed
