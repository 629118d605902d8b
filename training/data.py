"""Labelled audio for training: discovery, decoding through the engine, a disk cache, and splits.

Clips are decoded by the engine's own ``decode_windows`` and cut by its ``split_segments``, so the
network trains on exactly the segments it will be shown at inference. Every split is made over
clips, never segments, so no clip can leak a segment from one side of a split to the other.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold
from tqdm import tqdm

from genre_engine.audio import decode_windows, is_audio_file
from genre_engine.errors import AudioError
from genre_engine.features import FeatureConfig, split_segments
from genre_engine.files import atomic_write
from genre_engine.labels import GENRES
from genre_engine.loudness import normalise
from training.errors import DatasetError

logger = logging.getLogger(__name__)

GTZAN_SPLIT_DIR = Path(__file__).resolve().parent / "splits" / "gtzan"
SPLIT_NAMES = ("train", "valid", "test")
_CACHE_VERSION = 1


@dataclass(frozen=True)
class Clip:
    path: Path
    key: str  # "<genre>/<name without extension>", the way split lists name a clip
    label: str


@dataclass(frozen=True)
class LabelledAudio:
    root: Path
    labels: tuple[str, ...]
    clips: tuple[Clip, ...]

    @property
    def targets(self) -> np.ndarray:
        index = {label: i for i, label in enumerate(self.labels)}
        return np.array([index[clip.label] for clip in self.clips], dtype=np.int64)

    def subset(self, keep: Iterable[int]) -> LabelledAudio:
        return LabelledAudio(self.root, self.labels, tuple(self.clips[i] for i in keep))


# --- discovery -------------------------------------------------------------------------------


def _has_audio(directory: Path) -> bool:
    return any(is_audio_file(p) for p in directory.rglob("*"))


def _label_root(root: Path) -> Path:
    """Walk down single-child wrappers such as ``genres/`` or Kaggle's ``Data/genres_original/``.

    The label root is the first folder with several sub-folders holding audio (one per genre);
    folders without audio, such as Kaggle's ``images_original/``, don't count.
    """
    current = root
    while True:
        if any(is_audio_file(p) for p in current.iterdir()):
            return current
        children = [d for d in sorted(current.iterdir()) if d.is_dir() and not d.name.startswith(".") and _has_audio(d)]
        if len(children) != 1:
            return current
        current = children[0]


def order_labels(found: Iterable[str]) -> tuple[str, ...]:
    """GTZAN's order when the folders are the GTZAN genres (so checkpoints line up), else sorted."""
    found = set(found)
    return GENRES if found == set(GENRES) else tuple(sorted(found))


def discover(root: str | Path) -> LabelledAudio:
    """Find audio laid out as ``<root>/<genre>/<file>`` (files may sit deeper inside a genre folder)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder of labelled audio.")
    label_root = _label_root(root)
    clips: dict[str, Clip] = {}
    for path in sorted(label_root.rglob("*")):
        if not is_audio_file(path):
            continue
        relative = path.relative_to(label_root)
        if len(relative.parts) < 2:
            logger.warning("skipping %s: it is not inside a genre folder", path)
            continue
        key = relative.with_suffix("").as_posix()
        if key in clips:
            # blues.00000.au beside a converted blues.00000.wav is one clip, not two: counting it
            # twice could put the same music on both sides of a split.
            logger.warning("skipping %s: same clip as %s", path, clips[key].path)
            continue
        clips[key] = Clip(path, key, relative.parts[0])
    labels = order_labels(clip.label for clip in clips.values())
    if len(labels) < 2:
        raise DatasetError(
            f"{root} needs at least two genre folders with audio in them "
            f"(laid out as {root}/<genre>/<file>); found {len(labels)}."
        )
    return LabelledAudio(label_root, labels, tuple(clips.values()))


# --- decoding and the cache ------------------------------------------------------------------


def decode_clip(path: Path, features: FeatureConfig) -> np.ndarray:
    """All fixed-length segments ``[n, samples]`` of a clip, through the engine's own decoder, at the
    model's loudness as the engine would bring them to it (``genre_engine.loudness.normalise``)."""
    decoded = decode_windows(path, features.sample_rate, features.segment_s, max_windows=None)
    segments = split_segments(decoded.windows[0], features, max_segments=None)
    return normalise(segments, features.sample_rate, features.loudness_lufs)


class SegmentCache:
    """Decoded (and augmented) segments as ``.npy`` files, so a second run skips decoding.

    An entry is keyed by the file's identity (resolved path, size, modification time), the
    decoding parameters of the feature config (sample rate, segment length) and any variant such
    as an augmented copy; a changed file or config simply misses. ``directory=None`` disables it.
    """

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory else None
        self.hits = 0
        self.misses = 0

    def entry(self, clip: Clip, features: FeatureConfig, variant: dict[str, Any] | None = None) -> Path | None:
        if self.directory is None:
            return None
        stat = clip.path.stat()
        identity = {
            "version": _CACHE_VERSION,
            "file": str(clip.path.resolve()),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sample_rate": features.sample_rate,
            "segment_s": features.segment_s,
            "loudness_lufs": features.loudness_lufs,
            "variant": variant,
        }
        digest = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]
        return self.directory / f"{clip.key.replace('/', '_')}-{digest}.npy"

    def load(self, entry: Path | None) -> np.ndarray | None:
        if entry is None or not entry.is_file():
            return None
        try:
            # Memory-mapped: a large data set stays on disk until its features are computed.
            segments = np.load(entry, mmap_mode="r")
        except (OSError, ValueError):
            return None  # a damaged entry is recomputed
        self.hits += 1
        return segments

    def store(self, entry: Path | None, segments: np.ndarray) -> None:
        self.misses += 1
        if entry is None:
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(entry) as tmp, open(tmp, "wb") as f:
            np.save(f, segments)

    def get(
        self,
        clip: Clip,
        features: FeatureConfig,
        compute: Callable[[], np.ndarray],
        variant: dict[str, Any] | None = None,
    ) -> np.ndarray:
        entry = self.entry(clip, features, variant)
        segments = self.load(entry)
        if segments is None:
            segments = compute()
            self.store(entry, segments)
        return segments


def load_segments(
    data: LabelledAudio, features: FeatureConfig, cache: SegmentCache, progress: bool = True
) -> tuple[LabelledAudio, list[np.ndarray]]:
    """Decode every clip (or read it from the cache); unreadable files are skipped with a warning."""
    kept: list[int] = []
    segments: list[np.ndarray] = []
    for i, clip in enumerate(tqdm(data.clips, desc="decoding", unit="clip", disable=not progress)):
        try:
            segments.append(cache.get(clip, features, partial(decode_clip, clip.path, features)))
        except (AudioError, OSError) as exc:
            logger.warning("skipping %s: %s", clip.path, exc)
            continue
        kept.append(i)
    if not kept:
        raise DatasetError(f"none of the {len(data.clips)} audio files under {data.root} could be decoded.")
    return data.subset(kept), segments


# --- splits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Clip indices of each side; ``valid`` or ``test`` may be empty (``--full``, no early stopping)."""

    name: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def read_split_list(path: str | Path) -> list[str]:
    """Clip keys of a split list (``blues/blues.00012.wav`` -> ``blues/blues.00012``)."""
    lines = Path(path).read_text().splitlines()
    return [
        Path(line.strip()).with_suffix("").as_posix() for line in lines if line.strip() and not line.startswith("#")
    ]


def split_list_coverage(data: LabelledAudio, split_dir: str | Path) -> float:
    """Share of the clips named in a split folder's lists that exist in ``data``."""
    keys = {clip.key for clip in data.clips}
    listed = [key for name in SPLIT_NAMES for key in _read_optional(Path(split_dir), name)]
    return sum(key in keys for key in listed) / max(len(listed), 1)


def _read_optional(split_dir: Path, name: str) -> list[str]:
    path = split_dir / f"{name}_filtered.txt"
    return read_split_list(path) if path.is_file() else []


def split_from_lists(data: LabelledAudio, split_dir: str | Path) -> Split:
    """The split named by ``train_filtered.txt``/``valid_filtered.txt``/``test_filtered.txt``."""
    split_dir = Path(split_dir)
    index = {clip.key: i for i, clip in enumerate(data.clips)}
    sides = {
        name: np.array(sorted(index[k] for k in _read_optional(split_dir, name) if k in index), dtype=np.int64)
        for name in SPLIT_NAMES
    }
    if len(sides["train"]) == 0:
        raise DatasetError(f"no clip of {split_dir / 'train_filtered.txt'} exists under {data.root}.")
    return Split(f"lists-{split_dir.name}", sides["train"], sides["valid"], sides["test"])


def _take_stratified(
    indices: np.ndarray, targets: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Move ``fraction`` of each class (at least one clip, never its last) out of ``indices``."""
    taken: list[int] = []
    for label in np.unique(targets[indices]):
        members = rng.permutation(indices[targets[indices] == label])
        count = min(max(int(round(fraction * len(members))), 1), len(members) - 1) if fraction > 0 else 0
        taken.extend(members[:count].tolist())
    taken_set = set(taken)
    rest = np.array([i for i in indices if i not in taken_set], dtype=np.int64)
    return rest, np.array(sorted(taken), dtype=np.int64)


def seeded_split(targets: np.ndarray, valid_fraction: float, test_fraction: float, seed: int) -> Split:
    """A stratified train/valid/test split of clips, the same for the same seed."""
    rng = np.random.default_rng(seed)
    rest, test = _take_stratified(np.arange(len(targets)), targets, test_fraction, rng)
    train, valid = _take_stratified(rest, targets, valid_fraction, rng)
    return Split("seeded", np.sort(train), valid, test)


def kfold_splits(targets: np.ndarray, folds: int, repeats: int, valid_fraction: float, seed: int) -> list[Split]:
    """Repeated stratified k-fold: each fold is the test set once; valid comes out of the rest.

    Taking validation clips out of the training folds, rather than early-stopping on the test
    fold, keeps the test figure an honest estimate.
    """
    counts = np.bincount(targets)
    if counts[counts > 0].min() < folds:
        raise DatasetError(
            f"{folds}-fold cross-validation needs at least {folds} clips of every genre; "
            f"the smallest genre has {counts[counts > 0].min()}."
        )
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    splits = []
    for i, (rest, test) in enumerate(splitter.split(np.zeros(len(targets)), targets)):
        repeat, fold = divmod(i, folds)
        rng = np.random.default_rng([seed, i])
        train, valid = _take_stratified(rest, targets, valid_fraction, rng)
        splits.append(Split(f"r{repeat + 1}-f{fold + 1}", np.sort(train), valid, np.sort(test)))
    return splits


def full_split(n_clips: int) -> Split:
    empty = np.zeros(0, dtype=np.int64)
    return Split("full", np.arange(n_clips), empty, empty)


def choose_splits(
    data: LabelledAudio,
    *,
    split_dir: str | Path | None,
    folds: int,
    repeats: int,
    full: bool,
    valid_fraction: float,
    test_fraction: float,
    seed: int,
) -> list[Split]:
    """The splits a training command asked for, or the default for the data it was given.

    The default is the fault-filtered GTZAN split when most clips it lists are present (the
    full GTZAN), and a seeded stratified split otherwise.
    """
    targets = data.targets
    if full:
        return [full_split(len(targets))]
    if folds > 1:
        return kfold_splits(targets, folds, repeats, valid_fraction, seed)
    if split_dir is not None:
        return [split_from_lists(data, split_dir)]
    if split_list_coverage(data, GTZAN_SPLIT_DIR) > 0.5:
        return [split_from_lists(data, GTZAN_SPLIT_DIR)]
    return [seeded_split(targets, valid_fraction, test_fraction, seed)]


def describe(split: Split, targets: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """Clip counts per side, for metrics and logs."""
    return {
        "name": split.name,
        **{side: int(len(getattr(split, side))) for side in SPLIT_NAMES},
        "n_clips": int(len(targets)),
    }
