from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import tone
from tests.training.conftest import TINY_FEATURES, write_tones
from training.augment import (
    SpecAugment,
    WaveAugment,
    augment_waveform,
    mixup,
    precompute_copies,
    spec_augment,
)
from training.data import SegmentCache, discover, load_segments

CLIP = tone(440.0, seconds=2.0, sr=8000)


@pytest.mark.parametrize("effect", ["time_stretch", "pitch_shift", "hpss_remix", "noise"])
def test_each_effect_alone_changes_the_clip_reproducibly(effect: str) -> None:
    strengths = {effect: {"time_stretch": 0.2, "pitch_shift": 3.0, "hpss_remix": 0.8, "noise": 0.3}[effect]}
    first = augment_waveform(CLIP, 8000, strengths, np.random.default_rng(1))
    again = augment_waveform(CLIP, 8000, strengths, np.random.default_rng(1))
    assert np.array_equal(first, again)
    assert np.isfinite(first).all() and first.dtype == np.float32
    assert len(first) != len(CLIP) or not np.allclose(first, CLIP, atol=1e-3)


def test_zero_strength_turns_an_effect_off() -> None:
    assert WaveAugment(copies=2, time_stretch=0, pitch_shift=0, hpss_remix=0, noise=0.1).effects() == {"noise": 0.1}
    assert not WaveAugment(copies=0).enabled
    assert not WaveAugment(copies=3, time_stretch=0, pitch_shift=0, hpss_remix=0, noise=0).enabled


def test_copies_are_made_once_then_read_from_the_cache(tmp_path: Path) -> None:
    found, segments = load_segments(
        discover(write_tones(tmp_path / "data", clips_per_class=1)), TINY_FEATURES, SegmentCache(None), progress=False
    )
    augment = WaveAugment(copies=2, time_stretch=0.1, pitch_shift=0, hpss_remix=0, noise=0.05)
    cache = SegmentCache(tmp_path / "cache")
    copies = precompute_copies(found, segments, np.array([0, 2]), TINY_FEATURES, augment, cache, seed=0, progress=False)
    assert sorted(copies) == [0, 2] and cache.misses == 4
    assert copies[0][0].shape[1] == TINY_FEATURES.segment_samples
    assert not np.array_equal(copies[0][0][:1], copies[0][1][:1])  # two different copies
    reread = SegmentCache(tmp_path / "cache")
    again = precompute_copies(found, segments, np.array([0, 2]), TINY_FEATURES, augment, reread, seed=0, progress=False)
    assert reread.hits == 4 and reread.misses == 0
    assert np.array_equal(again[2][1], copies[2][1])


def test_spec_augment_zeroes_bands_no_wider_than_asked() -> None:
    x = torch.ones(16, 1, 32, 40)
    out = spec_augment(x, SpecAugment(freq_mask=0.25, time_mask=0.0, masks=1), torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    masked_bins = (out[:, 0, :, 0] == 0).sum(dim=1)
    assert masked_bins.max() <= 8 and masked_bins.sum() > 0
    assert torch.equal(out[:, :, :, 0:1].expand_as(out), out)  # frequency masks span every frame


def test_mixup_blends_pairs_with_one_weight() -> None:
    x = torch.arange(8.0).view(8, 1, 1, 1)
    y = torch.arange(8)
    mixed, partner, lam = mixup(x, y, 0.4, np.random.default_rng(0), torch.Generator().manual_seed(0))
    assert 0.0 <= lam <= 1.0
    assert torch.allclose(mixed.view(8), lam * x.view(8) + (1 - lam) * partner.float())
