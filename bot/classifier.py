"""What the services need from a genre model: the surface of ``genre_engine.GenreEngine``.

Services depend on this Protocol, not on the engine class, so tests hand them a fake engine (checked
against it) and a model with other labels works without code changes: the labels it reports name
every probability vector the store, the recommender and the front ends handle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from genre_engine import Prediction
from genre_engine.errors import GenreEngineError
from genre_engine.tags import TagVocabulary

AudioSource = bytes | str | Path


@runtime_checkable
class Classifier(Protocol):
    """A genre model ready to classify.

    ``labels``: the genre names, in the order of ``Prediction.vector`` (at least two).
    ``embedding_dim``: the length of ``Prediction.embedding``.
    ``vocabulary``: the tags of its tagger, naming ``Prediction.tags`` (None: it has none).
    ``model_id``: names the model every analysis it makes is stored with (``genre_engine.engine.model_id``):
    analyses of two models are never compared by sound.
    """

    model_id: str
    labels: Sequence[str]
    embedding_dim: int
    vocabulary: TagVocabulary | None

    def classify(self, source: AudioSource, *, name: str | None = None) -> Prediction:
        """One input (bytes or a path); raises GenreEngineError subclasses for unusable audio."""
        ...

    def classify_many(
        self, sources: Iterable[AudioSource], *, progress: Callable[[int], None] | None = None
    ) -> Iterator[tuple[AudioSource, Prediction | GenreEngineError]]:
        """Each source with its prediction, or the error that made it unusable, in input order;
        ``progress`` is called with the count done so far."""
        ...
