from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from genre_engine.features import FEATURE_KINDS, FeatureConfig, split_segments
from genre_engine.frontends import build_frontend
from tests.conftest import tone


@pytest.mark.parametrize("kind", FEATURE_KINDS)
def test_frontend_output_matches_declared_shape(kind: str) -> None:
    config = FeatureConfig.preset(kind)
    out = build_frontend(config)(torch.randn(3, config.segment_samples))
    assert out.shape == (3, 1, *config.shape)
    assert torch.isfinite(out).all()


def test_logmel_agrees_with_librosa() -> None:
    config = FeatureConfig.preset("logmel")
    y = tone(330.0, seconds=config.segment_s + 0.1)[: config.segment_samples]
    ours = build_frontend(config)(torch.from_numpy(y)[None])[0, 0].numpy()
    mel = librosa.feature.melspectrogram(
        y=y,
        sr=config.sample_rate,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        n_mels=config.n_mels,
        pad_mode="constant",
    )
    reference = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
    np.testing.assert_allclose(ours, reference, atol=1e-2)


def test_config_round_trips_through_a_dict_and_ignores_unknown_keys() -> None:
    config = FeatureConfig.preset("musicnn")
    assert FeatureConfig.from_dict({**config.to_dict(), "added_in_future": 1}) == config
    with pytest.raises(ValueError, match="unknown feature kind"):
        FeatureConfig(kind="mfcc")


def test_segments_cover_a_clip_without_overlap() -> None:
    config = FeatureConfig(sample_rate=100, segment_s=1.0)
    segments = split_segments(np.arange(450, dtype=np.float32), config, max_segments=None)
    assert segments.shape == (4, 100)
    np.testing.assert_array_equal(segments[:, 0], [0, 100, 200, 300])


def test_long_clips_keep_evenly_spread_segments() -> None:
    config = FeatureConfig(sample_rate=100, segment_s=1.0)
    segments = split_segments(np.arange(10_000, dtype=np.float32), config, max_segments=3)
    np.testing.assert_array_equal(segments[:, 0], [0, 5000, 9900])


def test_short_clip_is_tiled_to_one_segment() -> None:
    config = FeatureConfig(sample_rate=100, segment_s=1.0)
    segments = split_segments(np.arange(40, dtype=np.float32), config, max_segments=10)
    assert segments.shape == (1, 100)
    assert segments[0, 40] == 0 and segments[0, 99] == 19
