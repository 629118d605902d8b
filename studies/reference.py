"""The reference set the tag thresholds, the ``confident`` rule and the few-shot figures are chosen
and measured on, analysed once by the engine and cached.

What it holds: the 70 shared GTZAN clips (labelled with their genre) and the 21 songs of the shared
pool: 8 rock and metal songs (``sectoid/``, ``muldjord/``: inside the ten genres, never seen in
training) and the 13 tracks of the Singularity game soundtrack (orchestral and electronic score:
outside the ten). Each item is analysed by ``GenreEngine.classify`` itself (same decoding, same
segments, same aggregation as the bot), keeping the genre distribution, the tag probabilities and
the embedding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.shared import CLIPS as GTZAN_CLIPS
from benchmarks.shared import POOL, SHARED
from genre_engine.checkpoint import DEFAULT_CHECKPOINT
from genre_engine.engine import GenreEngine
from genre_engine.files import atomic_write
from genre_engine.locations import DEFAULT_CACHE
from genre_engine.models.musicnn import default_weights_path, read_weights
from genre_engine.runners import load_runner
from genre_engine.tags import MSD_TAG_KINDS, Tag, TagVocabulary, tag_display_name

IN_VOCABULARY_POOL = ("sectoid", "muldjord")  # rock and metal: inside the ten
SOUNDTRACK = "singularity"  # game score: outside the ten
CACHE_DIR = DEFAULT_CACHE


@dataclass(frozen=True)
class Reference:
    """Row ``i`` is ``files[i]``; ``group[i]`` is its GTZAN genre, ``"pool"`` (rock/metal pool song)
    or ``"soundtrack"``. ``tags`` columns follow ``tag_names`` (the weights' raw names)."""

    files: tuple[str, ...]
    group: np.ndarray  # str [N]
    probabilities: np.ndarray  # float32 [N, 10]
    tags: np.ndarray  # float32 [N, 50]
    embeddings: np.ndarray  # float32 [N, D]
    labels: tuple[str, ...]
    tag_names: tuple[str, ...]

    def rows(self, *groups: str) -> np.ndarray:
        return np.isin(self.group, groups)

    @property
    def gtzan(self) -> np.ndarray:
        return ~self.rows("pool", "soundtrack")


def raw_tag_names(variant: str = "MSD_musicnn") -> tuple[str, ...]:
    """The tagger's tag names in output order, from the converted weights' ``tags``."""
    return tuple(read_weights(default_weights_path(variant))["tags"])


def provisional_vocabulary(variant: str = "MSD_musicnn") -> TagVocabulary:
    """Every tag at threshold 0.5, for reading raw tag probabilities before thresholds exist."""
    tags = tuple(
        Tag(tag_display_name(raw), MSD_TAG_KINDS[raw][0], 0.5, MSD_TAG_KINDS[raw][1]) for raw in raw_tag_names(variant)
    )
    return TagVocabulary(variant, tags, min_top_probability=0.0, min_outside_styles=None)


def reference_files() -> list[tuple[Path, str]]:
    files = [(path, path.parent.name) for path in sorted(GTZAN_CLIPS.glob("*/*.wav"))]
    for folder in IN_VOCABULARY_POOL:
        files += [(path, "pool") for path in sorted((POOL / folder).glob("*.ogg"))]
    files += [(path, "soundtrack") for path in sorted((POOL / SOUNDTRACK).glob("*.ogg"))]
    return files


ENGINE_SOURCES = Path(__file__).resolve().parents[1] / "genre_engine"


def _fingerprint(checkpoint: Path, files: list[tuple[Path, str]]) -> str:
    """What the cached analysis depends on: the model, the engine's code, the files."""
    digest = hashlib.sha256(checkpoint.read_bytes())
    for source in sorted(ENGINE_SOURCES.rglob("*.py")):
        digest.update(source.read_bytes())
    for path, group in files:
        digest.update(f"{path.relative_to(SHARED)}|{group}|{path.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def load_reference(checkpoint: Path = DEFAULT_CHECKPOINT, cache_dir: Path = CACHE_DIR) -> Reference:
    """The reference set analysed by the model in ``checkpoint`` (run as the bot runs it: through
    its ONNX export when one fits); cached in ``cache_dir`` by the fingerprint of the checkpoint,
    the engine's code and the files, so the three scripts that use it analyse it once."""
    files = reference_files()
    if not files:
        raise FileNotFoundError(f"no reference audio under {SHARED}")
    cache = cache_dir / f"reference-{_fingerprint(checkpoint, files)}.npz"
    if not cache.is_file():
        _analyse(checkpoint, files, cache)
    data = np.load(cache)
    return Reference(
        tuple(data["files"].tolist()),
        data["group"],
        data["probabilities"],
        data["tags"],
        data["embeddings"],
        tuple(data["labels"].tolist()),
        tuple(data["tag_names"].tolist()),
    )


def _analyse(checkpoint: Path, files: list[tuple[Path, str]], cache: Path) -> None:
    runner = load_runner(checkpoint)
    variant = runner.model_args.get("variant", "MSD_musicnn")
    engine = GenreEngine(runner, tags=provisional_vocabulary(variant))
    if engine.vocabulary is None:
        raise ValueError(
            f"{checkpoint} has no tagger (or its export predates tags: re-export it with `python -m training.export`)"
        )
    rows = [engine.classify(path) for path, _ in tqdm(files, desc="analysing the reference set", unit="file")]
    cache.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(cache) as tmp, open(tmp, "wb") as f:
        np.savez(
            f,
            files=np.array([str(path.relative_to(SHARED)) for path, _ in files]),
            group=np.array([group for _, group in files]),
            probabilities=np.stack([p.vector for p in rows]),
            tags=np.stack([p.tag_vector for p in rows]),
            embeddings=np.stack([p.embedding for p in rows]),
            labels=np.array(engine.labels),
            tag_names=np.array(raw_tag_names(variant)),
        )
