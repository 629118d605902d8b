"""A genre engine without a model, light to import (a child process of bot.jobs.children builds one)."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from genre_engine import GENRES, Prediction
from genre_engine.errors import GenreEngineError, NotAudioError
from genre_engine.tags import TagVocabulary, report

DEFAULT_MODEL = "fake-model"


class FakeEngine:
    """The genre engine's surface (``bot.classifier.Classifier``) without a model.

    Reads real WAV bytes (anything else is "not audio", as for the engine) and derives a stable
    genre mix and embedding from the audio's hash, so different audio gets different, repeatable
    results. ``labels`` are the model's genres (the GTZAN ten unless given). ``gate``, when set,
    holds every classification until released (to fill the pool). With a ``vocabulary`` it is a
    tagger too: ``tags[name]`` gives the tag probabilities of the song called ``name`` (zeros
    otherwise), and styles, moods and ``confident`` follow from them as in the real engine.
    ``model_id`` names the model; another fake model (``model_id`` other than the default) hears the
    same audio otherwise, as other weights would."""

    embedding_dim = 8

    def __init__(
        self, labels: Sequence[str] = GENRES, vocabulary: TagVocabulary | None = None, model_id: str = DEFAULT_MODEL
    ) -> None:
        self.model_id = model_id
        self.labels = tuple(labels)
        self.vocabulary = vocabulary
        self.tags: dict[str, list[float]] = {}
        self.gate: threading.Event | None = None
        self.started = threading.Semaphore(0)
        self.calls = 0

    def classify(self, source: bytes | str | Path, *, name: str | None = None) -> Prediction:
        self.calls += 1
        self.started.release()
        if self.gate is not None:
            self.gate.wait(10)
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        try:
            duration = sf.info(io.BytesIO(data)).duration
        except sf.LibsndfileError:
            raise NotAudioError() from None
        digest = hashlib.sha256(data).digest()
        if self.model_id != DEFAULT_MODEL:
            digest = hashlib.sha256(digest + self.model_id.encode()).digest()
        count = len(self.labels)
        probabilities = np.full(count, 0.3 / (count - 1))
        probabilities[digest[0] % count] = 0.7
        embedding = np.random.default_rng(list(digest[:8])).normal(size=self.embedding_dim).astype(np.float32)
        tagged = {}
        if self.vocabulary is not None:
            tag_probabilities = np.array(self.tags.get(name, [0.0] * len(self.vocabulary.tags)), np.float32)
            tagged = vars(report(self.vocabulary, probabilities, tag_probabilities))
        return Prediction(
            probabilities=dict(zip(self.labels, probabilities.tolist())),
            genre=self.labels[int(probabilities.argmax())],
            embedding=embedding / np.linalg.norm(embedding),
            duration_s=duration,
            segments=1,
            timings_ms={"total": 1.0},
            content_hash=hashlib.sha256(data).hexdigest(),
            name=name,
            model_id=self.model_id,
            **tagged,
        )

    def classify_many(
        self, sources: Iterable[bytes | str | Path], *, progress: Callable[[int], None] | None = None
    ) -> Iterator[tuple[bytes | str | Path, Prediction | GenreEngineError]]:
        for done, source in enumerate(sources, 1):
            try:
                yield source, self.classify(source)
            except GenreEngineError as error:
                yield source, error
            if progress:
                progress(done)
