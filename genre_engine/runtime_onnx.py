"""``OnnxModel``: the exported model run by ONNX Runtime, the engine's default; no torch needed.

``python -m training.export`` writes the ONNX file: the whole path from waveform segments to
probabilities and embedding (musicnn's mel front end, the input normalisation, the network, the
softmax) in one graph with a dynamic batch axis, and in its metadata the labels, the feature
config and the sha256 of the checkpoint it came from, so the engine can tell a stale export.

Thread policy, chosen by ``python -m benchmarks.engine`` on a 2-core machine shared with other
work (the docs' measurements/engine page): see ``DEFAULT_THREADS``, ``DEFAULT_SPINNING`` and ``DEFAULT_SESSIONS``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

from genre_engine.errors import CheckpointError
from genre_engine.features import FeatureConfig

EXPORT_FORMAT = "genrebot-onnx"
EXPORT_VERSION = 1
INPUT_NAME = "segments"  # float32 [n, samples]
OUTPUT_NAMES = ("probabilities", "embedding")  # float32 [n, classes], [n, dim]
TAGS_NAME = "tags"  # float32 [n, n_tags], the third output of a model that is also a tagger

# Intra-op threads per session, and whether idle pool threads spin: spinning burns a core another
# process wants and collapses under contention (measured: the docs' measurements/engine page).
DEFAULT_THREADS = 2
DEFAULT_SPINNING = False
SESSION_MODES = ("shared", "per_thread")
DEFAULT_SESSIONS = "shared"


def export_metadata(
    *,
    labels: tuple[str, ...],
    features: FeatureConfig,
    checkpoint_sha256: str,
    arch: str,
    model_args: dict[str, Any],
    embedding_dim: int,
    n_tags: int = 0,
    accuracy: dict[str, float] | None = None,
) -> dict[str, str]:
    """The ``metadata_props`` an export carries (all values are strings, JSON where structured);
    ``n_tags``: the width of the ``tags`` output, 0 when the graph has none; ``accuracy``: the clip
    accuracy training measured, by split (``held_out_accuracy``), so serving can tell it without torch."""
    return {
        "genrebot.format": EXPORT_FORMAT,
        "genrebot.version": str(EXPORT_VERSION),
        "genrebot.labels": json.dumps(list(labels)),
        "genrebot.features": json.dumps(features.to_dict()),
        "genrebot.checkpoint_sha256": checkpoint_sha256,
        "genrebot.arch": arch,
        "genrebot.model_args": json.dumps(model_args),
        "genrebot.embedding_dim": str(embedding_dim),
        "genrebot.n_tags": str(n_tags),
        "genrebot.accuracy": json.dumps(accuracy or {}),
    }


class OnnxModel:
    """Waveform segments in, ``(probabilities [n, classes], embeddings [n, dim])`` out, with ONNX Runtime.

    ``threads``: intra-op threads of a session; ``spinning``: whether idle threads busy-wait;
    ``sessions``: ``"shared"`` (one session for every calling thread; ``run`` is thread-safe) or
    ``"per_thread"`` (each calling thread, e.g. each bot worker, gets its own session).
    Raises ``CheckpointError`` when the file is not a readable genrebot export.
    """

    runtime = "onnx"

    def __init__(
        self,
        path: str | Path,
        *,
        threads: int = DEFAULT_THREADS,
        spinning: bool = DEFAULT_SPINNING,
        sessions: str = DEFAULT_SESSIONS,
    ) -> None:
        if sessions not in SESSION_MODES:
            raise ValueError(f"sessions must be one of {SESSION_MODES}, got {sessions!r}")
        self.path = Path(path)
        self.threads = threads
        self.spinning = spinning
        self.sessions = sessions
        self._local = threading.local()
        first = self._open()
        meta = first.get_modelmeta().custom_metadata_map
        if meta.get("genrebot.format") != EXPORT_FORMAT:
            raise CheckpointError(f"{self.path} is not a genrebot ONNX export.")
        if meta.get("genrebot.version") != str(EXPORT_VERSION):
            raise CheckpointError(
                f"{self.path} has export version {meta.get('genrebot.version')}; this engine reads {EXPORT_VERSION}."
            )
        self.labels: tuple[str, ...] = tuple(json.loads(meta["genrebot.labels"]))
        self.features = FeatureConfig.from_dict(json.loads(meta["genrebot.features"]))
        self.checkpoint_sha256: str = meta["genrebot.checkpoint_sha256"]
        self.arch: str = meta["genrebot.arch"]
        self.model_args: dict[str, Any] = json.loads(meta["genrebot.model_args"])
        self.embedding_dim = int(meta["genrebot.embedding_dim"])
        self.n_tags = int(meta.get("genrebot.n_tags", "0"))  # exports from before tags have none
        self.accuracy: dict[str, float] = json.loads(meta.get("genrebot.accuracy", "{}"))
        self._shared = first
        self._local.session = first

    def _open(self) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.spinning else "0")
        try:
            return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except (ort_errors.Fail, ort_errors.InvalidGraph, ort_errors.InvalidProtobuf, ort_errors.NoSuchFile) as exc:
            raise CheckpointError(f"{self.path} is not a readable ONNX model ({exc.__class__.__name__}).") from None

    def _session(self) -> ort.InferenceSession:
        if self.sessions == "shared":
            return self._shared
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._open()
        return session

    def predict(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``segments``: float32 ``[n, samples]`` at ``features.sample_rate``."""
        batch = np.ascontiguousarray(segments, dtype=np.float32)
        probs, embeddings = self._session().run(list(OUTPUT_NAMES), {INPUT_NAME: batch})
        return probs, embeddings

    def predict_tagged(self, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:meth:`predict` plus the graph's ``tags`` output (None when the export has none)."""
        if not self.n_tags:
            return (*self.predict(segments), None)
        batch = np.ascontiguousarray(segments, dtype=np.float32)
        probs, embeddings, tags = self._session().run([*OUTPUT_NAMES, TAGS_NAME], {INPUT_NAME: batch})
        return probs, embeddings, tags
