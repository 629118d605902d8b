"""``GenreEngine``: audio in, genre distribution and a similarity embedding out."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from genre_engine.audio import MAX_BYTES, AudioSource, DecodedAudio, decode_windows
from genre_engine.runners import SegmentModel, load_runner
from genre_engine.errors import GenreEngineError
from genre_engine.features import split_segments

DEFAULT_MAX_SEGMENTS = 10
_MODEL_BATCH = 64  # segments per forward pass; bounds memory on hour-long input


@dataclass(frozen=True)
class Prediction:
    probabilities: dict[str, float]
    genre: str
    embedding: np.ndarray
    duration_s: float
    segments: int
    timings_ms: dict[str, float]
    content_hash: str
    name: str | None = None

    @property
    def vector(self) -> np.ndarray:
        return np.fromiter(self.probabilities.values(), dtype=np.float32, count=len(self.probabilities))


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
    def __init__(self, runner: SegmentModel, *, max_segments: int = DEFAULT_MAX_SEGMENTS,
                 max_bytes: int = MAX_BYTES) -> None:
        """``runner``: ``OnnxModel`` (ONNX Runtime, no torch) or ``TorchModel(bundle)`` (torch)."""
        self.runner = runner
        self.features = runner.features
        self.labels = runner.labels
        self.embedding_dim = runner.embedding_dim
        self.max_segments = max_segments
        self.max_bytes = max_bytes

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None, device: str = "cpu", *, runtime: str = "auto",
                        **options) -> "GenreEngine":
        """Load ``path`` (``.pt`` or ``.onnx``), or the shipped default model when ``path`` is None.

        ``runtime="auto"`` runs the checkpoint's ONNX export when one fits it, else torch; see
        ``genre_engine.runners.load_runner``.
        """
        return cls(load_runner(path, device, runtime), **options)

    def decode(self, source: AudioSource) -> tuple[np.ndarray, float]:
        """Fixed-length segments ``[n, samples]`` to analyse, and the input's full duration."""
        config = self.features
        decoded: DecodedAudio = decode_windows(source, config.sample_rate, config.segment_s,
                                               self.max_segments, max_bytes=self.max_bytes)
        if len(decoded.windows) == 1:
            return split_segments(decoded.windows[0], config, self.max_segments), decoded.duration_s
        return decoded.windows, decoded.duration_s

    def predict_segments(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-segment probabilities ``[n, classes]`` and embeddings ``[n, dim]``."""
        probs, embeddings = [], []
        for start in range(0, len(segments), _MODEL_BATCH):
            batch_probs, batch_embeddings = self.runner.predict(segments[start : start + _MODEL_BATCH])
            probs.append(batch_probs)
            embeddings.append(batch_embeddings)
        return np.concatenate(probs), np.concatenate(embeddings)

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
        probs, embeddings = self.predict_segments(segments)
        modelled = time.perf_counter()
        clip_probs = probs.mean(axis=0)
        clip_probs = clip_probs / clip_probs.sum()
        embedding = embeddings.mean(axis=0)
        embedding = (embedding / max(float(np.linalg.norm(embedding)), 1e-12)).astype(np.float32)
        digest = content_hash(source)
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
        )
