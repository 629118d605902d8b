from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from genre_engine.features import FeatureConfig
from genre_engine.labels import GENRES
from tests.training.conftest import TINY_FEATURES, write_tones
from training import data as data_module
from training.data import (
    GTZAN_SPLIT_DIR,
    SegmentCache,
    choose_splits,
    discover,
    kfold_splits,
    load_segments,
    seeded_split,
    split_from_lists,
    split_list_coverage,
)
from training.errors import DatasetError


def touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def clip(path: Path) -> Path:
    """A file that is audio by its content (what discovery goes by, as every scan does): a wav's first
    bytes, whatever its name; nothing here decodes it."""
    return touch(path, b"RIFF\x24\x00\x00\x00WAVEfmt ")


def test_discovers_gtzan_layout_from_its_root_in_gtzan_order(tmp_path: Path) -> None:
    for genre in reversed(GENRES):
        clip(tmp_path / "genres" / genre / f"{genre}.00000.au")
    touch(tmp_path / "genres" / "bextract_single.mf")  # GTZAN's own non-audio files
    found = discover(tmp_path)
    assert found.root == tmp_path / "genres"
    assert found.labels == GENRES
    assert [c.key for c in found.clips][:2] == ["blues/blues.00000", "classical/classical.00000"]


def test_discovers_kaggle_layout_past_its_image_folders(tmp_path: Path) -> None:
    for genre in ("rock", "jazz"):
        clip(tmp_path / "Data" / "genres_original" / genre / f"{genre}.00001.wav")
        touch(tmp_path / "Data" / "images_original" / genre / f"{genre}00001.png")
    touch(tmp_path / "Data" / "features_30_sec.csv")
    found = discover(tmp_path)
    assert found.root == tmp_path / "Data" / "genres_original"
    assert found.labels == ("jazz", "rock")  # not the GTZAN set: sorted
    assert {c.label for c in found.clips} == {"jazz", "rock"}


def test_one_clip_in_two_formats_counts_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clip(tmp_path / "blues" / "blues.00000.au")
    clip(tmp_path / "blues" / "blues.00000.wav")
    clip(tmp_path / "rock" / "rock.00000.wav")
    touch(tmp_path / "blues" / "._blues.00001.wav")  # macOS resource fork, not audio
    with caplog.at_level(logging.WARNING):
        found = discover(tmp_path)
    assert [c.key for c in found.clips] == ["blues/blues.00000", "rock/rock.00000"]
    assert "same clip" in caplog.text


def test_needs_two_genres(tmp_path: Path) -> None:
    clip(tmp_path / "blues" / "blues.00000.wav")
    with pytest.raises(DatasetError, match="two genre folders"):
        discover(tmp_path)


def test_corrupt_file_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_tones(tmp_path, clips_per_class=1)
    (tmp_path / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40))
    with caplog.at_level(logging.WARNING):
        kept, segments = load_segments(discover(tmp_path), TINY_FEATURES, SegmentCache(None), progress=False)
    assert "jazz.00054" not in {c.path.stem for c in kept.clips}
    assert len(kept.clips) == len(segments) == 3
    assert "skipping" in caplog.text and "jazz.00054.wav" in caplog.text


def test_second_load_reads_the_cache_without_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tones(tmp_path / "data", clips_per_class=1)
    found = discover(tmp_path / "data")
    first_cache = SegmentCache(tmp_path / "cache")
    _, first = load_segments(found, TINY_FEATURES, first_cache, progress=False)
    assert first_cache.misses == 3 and first[0].shape == (3, 8000)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(data_module, "decode_clip", no_decoding)
    second_cache = SegmentCache(tmp_path / "cache")
    _, second = load_segments(found, TINY_FEATURES, second_cache, progress=False)
    assert second_cache.hits == 3 and second_cache.misses == 0
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    # Another segment length is another cache entry, not a wrong hit.
    other = SegmentCache(tmp_path / "cache")
    with pytest.raises(AssertionError, match="decoded although cached"):
        load_segments(found, FeatureConfig(kind="logmel", sample_rate=8000, segment_s=2.0), other, progress=False)


def _targets(per_class: int, classes: int = 10) -> np.ndarray:
    return np.repeat(np.arange(classes), per_class)


def _assert_disjoint(split) -> None:
    sides = [set(split.train.tolist()), set(split.valid.tolist()), set(split.test.tolist())]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])


def test_seeded_split_is_stratified_disjoint_and_seeded() -> None:
    targets = _targets(7)
    split = seeded_split(targets, 0.15, 0.15, seed=3)
    _assert_disjoint(split)
    assert len(split.train) + len(split.valid) + len(split.test) == 70
    assert np.bincount(targets[split.test], minlength=10).tolist() == [1] * 10
    assert np.bincount(targets[split.valid], minlength=10).tolist() == [1] * 10
    again = seeded_split(targets, 0.15, 0.15, seed=3)
    assert np.array_equal(split.test, again.test)
    assert not np.array_equal(split.test, seeded_split(targets, 0.15, 0.15, seed=4).test)


def test_kfold_tests_every_clip_once_per_repeat_with_valid_from_the_training_side() -> None:
    targets = _targets(7)
    splits = kfold_splits(targets, folds=5, repeats=2, valid_fraction=0.15, seed=0)
    assert [s.name for s in splits[:2]] == ["r1-f1", "r1-f2"] and len(splits) == 10
    for repeat in (splits[:5], splits[5:]):
        tested = np.concatenate([s.test for s in repeat])
        assert sorted(tested.tolist()) == list(range(70))
    for split in splits:
        _assert_disjoint(split)
        assert len(split.train) + len(split.valid) + len(split.test) == 70
        counts = np.bincount(targets[split.test], minlength=10)
        assert counts.max() - counts.min() <= 1  # stratified
    assert not np.array_equal(splits[0].test, splits[5].test)  # the repeat reshuffles


def test_kfold_refuses_genres_smaller_than_the_fold_count() -> None:
    with pytest.raises(DatasetError, match="at least 5 clips of every genre"):
        kfold_splits(_targets(3), folds=5, repeats=1, valid_fraction=0.15, seed=0)


def test_split_lists_match_clips_whatever_their_extension(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "train_filtered.txt").write_text("blues/blues.00001.wav\nrock/rock.00001.wav\n")
    (lists / "valid_filtered.txt").write_text("blues/blues.00002.wav\nrock/rock.00099.wav\n")  # 00099 is absent
    for name in ("blues/blues.00001", "blues/blues.00002", "rock/rock.00001", "rock/rock.00003"):
        clip(tmp_path / "data" / f"{name}.au")
    found = discover(tmp_path / "data")
    split = split_from_lists(found, lists)
    keys = lambda side: [found.clips[i].key for i in side]  # noqa: E731
    assert keys(split.train) == ["blues/blues.00001", "rock/rock.00001"]
    assert keys(split.valid) == ["blues/blues.00002"] and len(split.test) == 0
    assert split_list_coverage(found, lists) == pytest.approx(3 / 4)


def test_full_gtzan_defaults_to_the_shipped_filtered_split(tmp_path: Path) -> None:
    for name in ("train", "valid", "test"):
        for line in (GTZAN_SPLIT_DIR / f"{name}_filtered.txt").read_text().split():
            clip(tmp_path / "genres" / line.replace(".wav", ".au"))
    found = discover(tmp_path)
    (split,) = choose_splits(
        found, split_dir=None, folds=1, repeats=1, full=False, valid_fraction=0.15, test_fraction=0.15, seed=0
    )
    assert split.name == "lists-gtzan"
    assert (len(split.train), len(split.valid), len(split.test)) == (443, 197, 290)


def test_shared_clips_default_to_a_seeded_split(shared_dir: Path) -> None:
    found = discover(shared_dir / "gtzan" / "clips")
    assert found.labels == GENRES and len(found.clips) == 70
    assert split_list_coverage(found, GTZAN_SPLIT_DIR) < 0.1
    (split,) = choose_splits(
        found, split_dir=None, folds=1, repeats=1, full=False, valid_fraction=0.15, test_fraction=0.15, seed=0
    )
    assert split.name == "seeded"
