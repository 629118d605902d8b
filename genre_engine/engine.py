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
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genre_engine.audio import MAX_BYTES, AudioSource, AudioTrack, DecodedAudio, decode_windows
from genre_engine.checkpoint import DEFAULT_CHECKPOINT, file_sha256
from genre_engine.errors import GenreEngineError, SilentAudioError
from genre_engine.features import split_segments
from genre_engine.loudness import normalise
from genre_engine.projection import Projection, projection_path
from genre_engine.runners import SegmentModel, load_runner
from genre_engine.samples import has_content
from genre_engine.segment_plan import (
    DEFAULT_MAX_SEGMENTS,
    DEFAULT_MIN_SEGMENTS,
    DEFAULT_STOP_MARGIN,
    predict_staged,
    spread,
)
from genre_engine.tags import DEFAULT_TAGS_FILE, TagVocabulary, load_vocabulary, report

logger = logging.getLogger(__name__)
_MODEL_BATCH = 64  # segments per forward pass; bounds memory on hour-long input


@dataclass(frozen=True)
class Segments:
    """The segments the model will see: float32 ``[n, segment_samples]`` mono at the model's rate,
    each holding content, starting at ``starts_s`` (s, ascending); ``duration_s`` of the whole input;
    ``track``: which audio track they come from, when the input holds several."""

    samples: np.ndarray
    starts_s: tuple[float, ...]
    duration_s: float
    track: AudioTrack | None = None


@dataclass(frozen=True)
class Prediction:
    """One input's result.

    probabilities: genre -> probability, in the model's label order (``GenreEngine.labels``, the
        ten GTZAN genres for the shipped model), summing to 1: the mean of the per-segment softmax
        over the segments with content.
    genre: the most probable label.
    embedding: float32 ``[embedding_dim]``, unit length, so cosine similarity between songs is a
        dot product: the mean of the segments' penultimate-layer features (1,756 for the shipped
        musicnn model) scaled to unit length, then, when the engine has a ``Projection``, projected
        to its compact size (256 for the shipped model) and scaled to unit length again.
    duration_s: the measured length of the whole input in seconds (not the header's claim).
    segments: how many segments were analysed (at most ``max_segments``; ``min_segments`` when
        the early stop decided).
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
    track: the audio track analysed when the input holds several (a video with a commentary
        track: the one marked default, see ``genre_engine.audio_pyav.pick_track``), else None.
    model_id: the model that made this analysis (``GenreEngine.model_id``, see :func:`model_id`).
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
    track: AudioTrack | None = None
    model_id: str = ""

    @property
    def vector(self) -> np.ndarray:
        return np.fromiter(self.probabilities.values(), dtype=np.float32, count=len(self.probabilities))

    @property
    def tag_vector(self) -> np.ndarray | None:
        """The tag probabilities as float32 in the tagger's order, or None for a model without tags."""
        if not self.tags:
            return None
        return np.fromiter(self.tags.values(), dtype=np.float32, count=len(self.tags))


MODEL_ID_CHARS = 16  # hex digits of a model id: 64 bits, no collision among the models one bot meets


def model_id(checkpoint_sha256: str | None, projection: Projection | None) -> str:
    """The stable name of what produced an analysis: the checkpoint (its sha256) and the compact
    projection its embeddings went through, as ``MODEL_ID_CHARS`` hex digits. Analyses with the same
    id are comparable: the same genres from the same network, embeddings in the same space. A model
    not saved to a file yet is ``"unsaved"``."""
    if checkpoint_sha256 is None:
        return "unsaved"
    if projection is None:
        return checkpoint_sha256[:MODEL_ID_CHARS]
    parts = (checkpoint_sha256, projection.components.tobytes(), projection.mean.tobytes())
    digest = hashlib.sha256(parts[0].encode())
    for part in parts[1:]:
        digest.update(part)
    return digest.hexdigest()[:MODEL_ID_CHARS]


def content_hash(source: AudioSource) -> str:
    """SHA-256 (hex) of the input's bytes: the key under which a song is stored once per server."""
    return hashlib.sha256(source).hexdigest() if isinstance(source, bytes) else file_sha256(source)


class GenreEngine:
    """A loaded genre model with the front end and decoding it was trained with.

    ``labels``: the model's genres in output order; ``embedding_dim``: the embedding size;
    ``model_id``: what names its analyses (:func:`model_id`: the checkpoint and the projection);
    ``max_segments``: at most this many segments (of the checkpoint's ``segment_s``, 2.99 s for
    musicnn) are decoded per input, spread over its length; ``min_segments`` and ``stop_margin``:
    the network first analyses ``min_segments`` of them, spread out, and stops there when the top
    genre's mean probability leads the second's by more than ``stop_margin`` (None: always all;
    see ``genre_engine.segment_plan`` and ``python -m studies.segments`` for the defaults);
    ``max_bytes``: larger inputs are refused before decoding; ``projection``: maps the model's
    embedding to the compact one the engine hands out (``embedding_dim`` is then its size).
    :meth:`from_checkpoint` raises ``CheckpointError``; :meth:`classify`
    raises ``AudioError`` subclasses (see :func:`genre_engine.audio.decode_windows`).
    ``vocabulary``: the tags of the model's tagger, with their thresholds (None: the model has no
    tagger, or ``tags`` does not describe it).
    """

    def __init__(
        self,
        runner: SegmentModel,
        *,
        max_segments: int | None = DEFAULT_MAX_SEGMENTS,
        min_segments: int = DEFAULT_MIN_SEGMENTS,
        stop_margin: float | None = DEFAULT_STOP_MARGIN,
        max_bytes: int = MAX_BYTES,
        projection: Projection | None = None,
        tags: Path | TagVocabulary | None = DEFAULT_TAGS_FILE,
    ) -> None:
        """``runner``: ``OnnxModel`` (ONNX Runtime, no torch) or ``TorchModel(bundle)`` (torch).
        ``tags``: the tag vocabulary, or the file it is in (default: the shipped ``data/tags.json``)."""
        if min_segments < 1:
            raise ValueError(f"min_segments must be at least 1, got {min_segments}")
        self.runner = runner
        self.features = runner.features
        self.labels = runner.labels
        if projection is not None and projection.input_dim != runner.embedding_dim:
            raise ValueError(
                f"the projection takes {projection.input_dim} values; the model's embedding has {runner.embedding_dim}"
            )
        self.projection = projection
        self.embedding_dim = runner.embedding_dim if projection is None else projection.output_dim
        self.model_id = model_id(getattr(runner, "checkpoint_sha256", None), projection)
        self.max_segments = max_segments
        self.min_segments = min_segments
        self.stop_margin = stop_margin
        self.max_bytes = max_bytes
        self.vocabulary = _vocabulary_for(runner, tags)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path | None = None,
        device: str = "cpu",
        *,
        runtime: str = "auto",
        compact: bool = True,
        onnx_options: dict | None = None,
        **options,
    ) -> GenreEngine:
        """Load ``path`` (``.pt`` or ``.onnx``), or the shipped default model when ``path`` is None.

        ``runtime="auto"`` runs the checkpoint's ONNX export when one fits it, else torch; see
        ``genre_engine.runners.load_runner``. With ``compact`` the checkpoint's projection
        (``<stem>.projection.npz`` beside it, fitted on that very checkpoint) compacts the
        embeddings; without one, or with ``compact=False``, they keep the model's size.
        ``onnx_options`` go to the ONNX runner (e.g. ``threads``; see ``load_runner``).
        """
        runner = load_runner(path, device, runtime, **(onnx_options or {}))
        projection = (
            _fitting_projection(Path(path) if path is not None else DEFAULT_CHECKPOINT, runner) if compact else None
        )
        return cls(runner, projection=projection, **options)

    def decode(self, source: AudioSource) -> Segments:
        """The segments to analyse: only those with content, at most ``max_segments``, evenly
        spread over the input, brought together to the model's loudness (``features.loudness_lufs``,
        :mod:`genre_engine.loudness`). Raises ``SilentAudioError`` when no segment has content."""
        config = self.features
        decoded: DecodedAudio = decode_windows(
            source, config.sample_rate, config.segment_s, self.max_segments, max_bytes=self.max_bytes
        )
        if not decoded.whole:
            samples = normalise(decoded.windows, config.sample_rate, config.loudness_lufs)
            return Segments(samples, decoded.starts_s, decoded.duration_s, decoded.track)
        segments = split_segments(decoded.windows[0], config, max_segments=None)
        content = np.flatnonzero(has_content(segments))
        if content.size == 0:
            raise SilentAudioError(len(segments))
        content = content[spread(content.size, self.max_segments)]
        starts = tuple(float(i * config.segment_s) for i in content)
        samples = normalise(segments[content], config.sample_rate, config.loudness_lufs)
        return Segments(samples, starts, decoded.duration_s, decoded.track)

    def predict_segments(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-segment probabilities ``[n, classes]`` and embeddings ``[n, dim]``."""
        probs, embeddings, _ = self.predict_segments_with_tags(segments)
        return probs, embeddings

    def predict_segments_with_tags(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Per-segment probabilities ``[n, classes]``, embeddings ``[n, dim]`` and, for a model that
        is also a tagger, tag probabilities ``[n, tags]`` (else None)."""
        probs, embeddings, tags = [], [], []
        for start in range(0, len(segments), _MODEL_BATCH):
            batch_probs, batch_embeddings, batch_tags = self.runner.predict_tagged(
                segments[start : start + _MODEL_BATCH]
            )
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

    def _finish(
        self, source: AudioSource, started: float, job: Future
    ) -> tuple[AudioSource, Prediction | GenreEngineError]:
        try:
            name = None if isinstance(source, bytes) else Path(source).name
            return source, self._predict(source, name, job.result(), started, time.perf_counter())
        except GenreEngineError as exc:
            return source, exc

    def _predict(
        self, source: AudioSource, name: str | None, segments: Segments, started: float, decoded: float
    ) -> Prediction:
        tag_rows: dict[int, np.ndarray] = {}

        def run(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            probs, embeddings, tags = self.predict_segments_with_tags(segments.samples[rows])
            if tags is not None:
                tag_rows.update(zip(rows.tolist(), tags))
            return probs, embeddings

        used, probs, embeddings = predict_staged(
            run, len(segments.samples), min_segments=self.min_segments, stop_margin=self.stop_margin
        )
        segment_tags = np.stack([tag_rows[i] for i in used.tolist()]) if tag_rows else None
        modelled = time.perf_counter()
        clip_probs = probs.mean(axis=0)
        clip_probs = clip_probs / clip_probs.sum()
        embedding = embeddings.mean(axis=0)
        embedding = (embedding / max(float(np.linalg.norm(embedding)), 1e-12)).astype(np.float32)
        if self.projection is not None:
            embedding = self.projection.apply(embedding)
        digest = content_hash(source)
        tagged = {}
        if segment_tags is not None and self.vocabulary is not None:
            tagged = vars(report(self.vocabulary, clip_probs, segment_tags.mean(axis=0)))
        return Prediction(
            probabilities={label: float(p) for label, p in zip(self.labels, clip_probs)},
            genre=self.labels[int(clip_probs.argmax())],
            embedding=embedding,
            duration_s=float(segments.duration_s),
            segments=len(used),
            timings_ms={
                "decode": (decoded - started) * 1000,
                "model": (modelled - decoded) * 1000,
                "total": (time.perf_counter() - started) * 1000,
            },
            content_hash=digest,
            name=name,
            segment_starts_s=tuple(segments.starts_s[i] for i in used),
            track=segments.track,
            model_id=self.model_id,
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


def _fitting_projection(checkpoint: Path, runner: SegmentModel) -> Projection | None:
    """The projection beside ``checkpoint`` when it was fitted on that model, else None."""
    path = projection_path(checkpoint)
    if not path.is_file():
        return None
    projection = Projection.load(path)
    sha = getattr(runner, "checkpoint_sha256", None)
    if sha is None and checkpoint.suffix != ".onnx" and checkpoint.is_file():
        sha = file_sha256(checkpoint)
    if projection.checkpoint_sha256 != sha or projection.input_dim != runner.embedding_dim:
        logger.warning(
            "%s was fitted on another model; embeddings keep the model's %d values "
            "(regenerate it with `python -m studies.projection %s --ship N`)",
            path,
            runner.embedding_dim,
            checkpoint,
        )
        return None
    return projection
