"""``GenreEngine``: audio in, genre distribution and a similarity embedding out."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from genre_engine.audio import MAX_BYTES, AudioSource, DecodedAudio, decode_windows
from genre_engine.checkpoint import ModelBundle, load_checkpoint
from genre_engine.errors import GenreEngineError
from genre_engine.features import build_frontend, split_segments
from genre_engine.tags import DEFAULT_TAGS_FILE, TagVocabulary, load_vocabulary, report

DEFAULT_MAX_SEGMENTS = 10
_MODEL_BATCH = 64  # segments per forward pass; bounds memory on hour-long input


@dataclass(frozen=True)
class Prediction:
    """One song's analysis. ``tags``: every tag of the model's tagger (empty for a model without
    one) as a probability, the mean over the segments like the genres; ``styles``, ``moods``,
    ``eras``: the tags of each group that apply (``genre_engine.tags``), strongest first;
    ``outside``: the styles outside the ten genres that make a song "not one of my ten";
    ``confident``: whether ``genre`` is a verdict worth showing (see ``TagVocabulary.is_confident``)."""

    probabilities: dict[str, float]
    genre: str
    embedding: np.ndarray
    duration_s: float
    segments: int
    timings_ms: dict[str, float]
    content_hash: str
    name: str | None = None
    tags: dict[str, float] = field(default_factory=dict)
    styles: dict[str, float] = field(default_factory=dict)
    moods: dict[str, float] = field(default_factory=dict)
    eras: dict[str, float] = field(default_factory=dict)
    outside: dict[str, float] = field(default_factory=dict)
    confident: bool = True

    @property
    def vector(self) -> np.ndarray:
        return np.fromiter(self.probabilities.values(), dtype=np.float32, count=len(self.probabilities))

    @property
    def tag_vector(self) -> np.ndarray | None:
        """The tag probabilities as float32 in the tagger's order, or None for a model without tags."""
        if not self.tags:
            return None
        return np.fromiter(self.tags.values(), dtype=np.float32, count=len(self.tags))


def content_hash(source: AudioSource) -> str:
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with open(source, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class GenreEngine:
    def __init__(self, bundle: ModelBundle, *, max_segments: int = DEFAULT_MAX_SEGMENTS,
                 max_bytes: int = MAX_BYTES, tags: Path | TagVocabulary | None = DEFAULT_TAGS_FILE) -> None:
        self.bundle = bundle
        self.labels = bundle.labels
        self.embedding_dim = bundle.model.embedding_dim
        self.max_segments = max_segments
        self.max_bytes = max_bytes
        self._device = bundle.mean.device
        self._frontend = build_frontend(bundle.features).to(self._device).eval()
        self.vocabulary = _vocabulary_for(bundle, tags)

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None, device: str = "cpu", **options) -> "GenreEngine":
        """Load ``path``, or the shipped default checkpoint when ``path`` is None."""
        return cls(load_checkpoint(path, device), **options)

    def decode(self, source: AudioSource) -> tuple[np.ndarray, float]:
        """Fixed-length segments ``[n, samples]`` to analyse, and the input's full duration."""
        config = self.bundle.features
        decoded: DecodedAudio = decode_windows(source, config.sample_rate, config.segment_s,
                                               self.max_segments, max_bytes=self.max_bytes)
        if len(decoded.windows) == 1:
            return split_segments(decoded.windows[0], config, self.max_segments), decoded.duration_s
        return decoded.windows, decoded.duration_s

    def predict_segments(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-segment probabilities ``[n, classes]`` and embeddings ``[n, dim]``."""
        probs, embeddings, _ = self.predict_segments_with_tags(segments)
        return probs, embeddings

    @torch.inference_mode()
    def predict_segments_with_tags(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Per-segment probabilities ``[n, classes]``, embeddings ``[n, dim]`` and, for a model that
        is also a tagger, tag probabilities ``[n, tags]`` (else None)."""
        probs, embeddings, tags = [], [], []
        for start in range(0, len(segments), _MODEL_BATCH):
            batch = torch.from_numpy(np.ascontiguousarray(segments[start : start + _MODEL_BATCH])).to(self._device)
            features = self.bundle.normalize(self._frontend(batch))
            embedding, tag_probs = self.bundle.model.forward_features_and_tags(features)
            probs.append(torch.softmax(self.bundle.model.forward_head(embedding).float(), dim=1).cpu().numpy())
            embeddings.append(embedding.float().cpu().numpy())
            if tag_probs is not None:
                tags.append(tag_probs.float().cpu().numpy())
        return np.concatenate(probs), np.concatenate(embeddings), np.concatenate(tags) if tags else None

    def classify(self, source: AudioSource, *, name: str | None = None) -> Prediction:
        """Classify one input. Raises ``AudioError`` subclasses for input that isn't usable audio."""
        started = time.perf_counter()
        segments, duration = self.decode(source)
        decoded = time.perf_counter()
        return self._predict(source, name, segments, duration, started, decoded)

    def classify_many(
        self,
        sources: Iterable[AudioSource],
        *,
        progress: Callable[[int], None] | None = None,
        prefetch: int = 2,
    ) -> Iterator[tuple[AudioSource, Prediction | GenreEngineError]]:
        """Classify many inputs, decoding the next files in threads while the model runs.

        Errors are yielded beside their source rather than raised, so one bad file in a folder
        never stops the indexing of the rest. ``progress`` is called with the count done so far.
        """
        with ThreadPoolExecutor(max_workers=prefetch) as pool:
            pending: deque[tuple[AudioSource, float, Future]] = deque()
            done = 0
            iterator = iter(sources)
            for source in iterator:
                pending.append((source, time.perf_counter(), pool.submit(self.decode, source)))
                if len(pending) > prefetch:
                    done += 1
                    yield self._finish(*pending.popleft())
                    if progress:
                        progress(done)
            while pending:
                done += 1
                yield self._finish(*pending.popleft())
                if progress:
                    progress(done)

    def _finish(self, source: AudioSource, started: float, job: Future) -> tuple[AudioSource, Prediction | GenreEngineError]:
        try:
            segments, duration = job.result()
            name = None if isinstance(source, bytes) else Path(source).name
            return source, self._predict(source, name, segments, duration, started, time.perf_counter())
        except GenreEngineError as exc:
            return source, exc

    def _predict(self, source: AudioSource, name: str | None, segments: np.ndarray, duration: float,
                 started: float, decoded: float) -> Prediction:
        probs, embeddings, segment_tags = self.predict_segments_with_tags(segments)
        modelled = time.perf_counter()
        clip_probs = probs.mean(axis=0)
        clip_probs = clip_probs / clip_probs.sum()
        embedding = embeddings.mean(axis=0)
        embedding = (embedding / max(float(np.linalg.norm(embedding)), 1e-12)).astype(np.float32)
        digest = content_hash(source)
        tagged = {}
        if segment_tags is not None and self.vocabulary is not None:
            tagged = vars(report(self.vocabulary, clip_probs, segment_tags.mean(axis=0)))
        return Prediction(
            probabilities={label: float(p) for label, p in zip(self.labels, clip_probs)},
            genre=self.labels[int(clip_probs.argmax())],
            embedding=embedding,
            duration_s=float(duration),
            segments=len(segments),
            timings_ms={
                "decode": (decoded - started) * 1000,
                "model": (modelled - decoded) * 1000,
                "total": (time.perf_counter() - started) * 1000,
            },
            content_hash=digest,
            name=name,
            **tagged,
        )


def _vocabulary_for(bundle: ModelBundle, tags: Path | TagVocabulary | None) -> TagVocabulary | None:
    """The tag vocabulary given (or read from the file given) when it describes this model's tagger
    (same musicnn variant, as many tags), else None: the model's tags are then left out of its
    predictions."""
    if tags is None or not bundle.model.n_tags:
        return None
    if not isinstance(tags, TagVocabulary):
        if not Path(tags).is_file():
            return None
        tags = load_vocabulary(Path(tags))
    vocabulary = tags
    variant = bundle.model_args.get("variant", "MSD_musicnn")
    fits = vocabulary.variant == variant and len(vocabulary.tags) == bundle.model.n_tags
    return vocabulary if fits else None
