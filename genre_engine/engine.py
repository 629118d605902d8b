"""``GenreEngine``: audio in, genre distribution and a similarity embedding out.

Usage::

    from genre_engine import GenreEngine

    engine = GenreEngine.from_checkpoint()          # the shipped data/model.pt; CheckpointError if unusable
    prediction = engine.classify("song.mp3")        # AudioError subclasses for unusable input
    prediction.genre                                # "metal"
    prediction.probabilities                        # {"blues": 0.01, ..., "rock": 0.02}, engine.labels order
    prediction.embedding.shape                      # (engine.embedding_dim,), unit length
    prediction.segment_starts_s                     # where the analysed 3-s segments start (s)
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from genre_engine.audio import MAX_BYTES, AudioSource, DecodedAudio, decode_windows
from genre_engine.errors import GenreEngineError, SilentAudioError
from genre_engine.features import split_segments
from genre_engine.runners import SegmentModel, load_runner
from genre_engine.samples import has_content
from genre_engine.tags import DEFAULT_TAGS_FILE, TagVocabulary, load_vocabulary, report

DEFAULT_MAX_SEGMENTS = 10
_MODEL_BATCH = 64  # segments per forward pass; bounds memory on hour-long input


@dataclass(frozen=True)
class Segments:
    """The segments the model will see: float32 ``[n, segment_samples]`` mono at the model's rate,
    each holding content, starting at ``starts_s`` (s, ascending); ``duration_s`` of the whole input."""

    samples: np.ndarray
    starts_s: tuple[float, ...]
    duration_s: float


@dataclass(frozen=True)
class Prediction:
    """One input's result.

    probabilities: genre -> probability, in the model's label order (``GenreEngine.labels``, the
        ten GTZAN genres for the shipped model), summing to 1: the mean of the per-segment softmax
        over the segments with content.
    genre: the most probable label.
    embedding: float32 ``[embedding_dim]`` (1756 for the shipped musicnn model), the mean of the
        segments' penultimate-layer features scaled to unit length, so cosine similarity between
        songs is a dot product.
    duration_s: the measured length of the whole input in seconds (not the header's claim).
    segments: how many segments were analysed (at most ``max_segments``).
    segment_starts_s: where each analysed segment starts, in seconds from the start of the input;
        segments without content (silence, a constant level, near-silence) are never among them.
    timings_ms: ``decode``, ``model`` and ``total`` wall time in milliseconds.
    content_hash: SHA-256 hex digest of the input bytes (duplicate detection).
    name: the file name given or found (for a path from a non-UTF-8 file system it may hold
        surrogate escapes: clean it with ``storage.validation.clean_title`` before storing or showing).
    tags: for a model that is also a tagger (the shipped one: musicnn's 50 MSD tags), every tag's
        probability, the mean over the segments with content like the genres; empty otherwise.
    styles, moods, eras: the tags of each group that apply (``genre_engine.tags``: each tag has its
        own threshold, ``data/tags.json``), strongest first.
    outside: the styles outside the ten genres that apply (what a song that is none of them sounds like).
    confident: whether ``genre`` is a verdict worth showing (``TagVocabulary.is_confident``: top
        probability and styles outside the ten); True for a model without a tagger.
    sounds_outside: enough of those styles apply to call the song none of the ten (when not
        confident otherwise, the answer was only weak).
    """

    probabilities: dict[str, float]
    genre: str
    embedding: np.ndarray
    duration_s: float
    segments: int
    timings_ms: dict[str, float]
    content_hash: str
    name: str | None = None
    segment_starts_s: tuple[float, ...] = ()
    tags: dict[str, float] = field(default_factory=dict)
    styles: dict[str, float] = field(default_factory=dict)
    moods: dict[str, float] = field(default_factory=dict)
    eras: dict[str, float] = field(default_factory=dict)
    outside: dict[str, float] = field(default_factory=dict)
    confident: bool = True
    sounds_outside: bool = False

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
    """A loaded genre model with the front end and decoding it was trained with.

    ``labels``: the model's genres in output order; ``embedding_dim``: the embedding size;
    ``max_segments``: at most this many segments (of the checkpoint's ``segment_s``, 2.99 s for
    musicnn) are analysed per input, spread over its length; ``max_bytes``: larger inputs are
    refused before decoding. ``vocabulary``: the tags of the model's tagger, with their thresholds
    (None: the model has no tagger, or ``tags`` does not describe it). :meth:`from_checkpoint`
    raises ``CheckpointError``; :meth:`classify` raises ``AudioError`` subclasses (see
    :func:`genre_engine.audio.decode_windows`).
    """

    def __init__(self, runner: SegmentModel, *, max_segments: int = DEFAULT_MAX_SEGMENTS,
                 max_bytes: int = MAX_BYTES, tags: Path | TagVocabulary | None = DEFAULT_TAGS_FILE) -> None:
        """``runner``: ``OnnxModel`` (ONNX Runtime, no torch) or ``TorchModel(bundle)`` (torch).
        ``tags``: the tag vocabulary, or the file it is in (default: the shipped ``data/tags.json``)."""
        self.runner = runner
        self.features = runner.features
        self.labels = runner.labels
        self.embedding_dim = runner.embedding_dim
        self.max_segments = max_segments
        self.max_bytes = max_bytes
        self.vocabulary = _vocabulary_for(runner, tags)

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None, device: str = "cpu", *, runtime: str = "auto",
                        **options) -> "GenreEngine":
        """Load ``path`` (``.pt`` or ``.onnx``), or the shipped default model when ``path`` is None.

        ``runtime="auto"`` runs the checkpoint's ONNX export when one fits it, else torch; see
        ``genre_engine.runners.load_runner``.
        """
        return cls(load_runner(path, device, runtime), **options)

    def decode(self, source: AudioSource) -> Segments:
        """The segments to analyse: only those with content, at most ``max_segments``, evenly
        spread over the input. Raises ``SilentAudioError`` when no segment has content."""
        config = self.features
        decoded: DecodedAudio = decode_windows(source, config.sample_rate, config.segment_s,
                                               self.max_segments, max_bytes=self.max_bytes)
        if not decoded.whole:
            return Segments(decoded.windows, decoded.starts_s, decoded.duration_s)
        segments = split_segments(decoded.windows[0], config, max_segments=None)
        content = np.flatnonzero(has_content(segments))
        if content.size == 0:
            raise SilentAudioError(len(segments))
        if self.max_segments is not None and content.size > self.max_segments:
            content = content[np.linspace(0, content.size - 1, self.max_segments).round().astype(int)]
        return Segments(segments[content], tuple(float(i * config.segment_s) for i in content), decoded.duration_s)

    def predict_segments(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-segment probabilities ``[n, classes]`` and embeddings ``[n, dim]``."""
        probs, embeddings, _ = self.predict_segments_with_tags(segments)
        return probs, embeddings

    def predict_segments_with_tags(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Per-segment probabilities ``[n, classes]``, embeddings ``[n, dim]`` and, for a model that
        is also a tagger, tag probabilities ``[n, tags]`` (else None)."""
        probs, embeddings, tags = [], [], []
        for start in range(0, len(segments), _MODEL_BATCH):
            batch_probs, batch_embeddings, batch_tags = self.runner.predict_tagged(segments[start : start + _MODEL_BATCH])
            probs.append(batch_probs)
            embeddings.append(batch_embeddings)
            if batch_tags is not None:
                tags.append(batch_tags)
        return np.concatenate(probs), np.concatenate(embeddings), np.concatenate(tags) if tags else None

    def classify(self, source: AudioSource, *, name: str | None = None) -> Prediction:
        """Classify one input. Raises ``AudioError`` subclasses for input that isn't usable audio."""
        started = time.perf_counter()
        segments = self.decode(source)
        decoded = time.perf_counter()
        return self._predict(source, name, segments, started, decoded)

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
            name = None if isinstance(source, bytes) else Path(source).name
            return source, self._predict(source, name, job.result(), started, time.perf_counter())
        except GenreEngineError as exc:
            return source, exc

    def _predict(self, source: AudioSource, name: str | None, segments: Segments,
                 started: float, decoded: float) -> Prediction:
        probs, embeddings, segment_tags = self.predict_segments_with_tags(segments.samples)
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
            duration_s=float(segments.duration_s),
            segments=len(segments.samples),
            timings_ms={
                "decode": (decoded - started) * 1000,
                "model": (modelled - decoded) * 1000,
                "total": (time.perf_counter() - started) * 1000,
            },
            content_hash=digest,
            name=name,
            segment_starts_s=segments.starts_s,
            **tagged,
        )


def _vocabulary_for(runner: SegmentModel, tags: Path | TagVocabulary | None) -> TagVocabulary | None:
    """The tag vocabulary given (or read from the file given) when it describes the runner's tagger
    (same musicnn variant, as many tags), else None: the model's tags are then left out of its
    predictions."""
    if tags is None or not runner.n_tags:
        return None
    if not isinstance(tags, TagVocabulary):
        if not Path(tags).is_file():
            return None
        tags = load_vocabulary(Path(tags))
    variant = runner.model_args.get("variant", "MSD_musicnn")
    return tags if tags.variant == variant and len(tags.tags) == runner.n_tags else None
