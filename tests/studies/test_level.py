"""The level study plays a clip as a file at another gain, and its page shows every gain and target."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from studies import level


def test_a_clip_is_played_as_a_16_bit_file_at_the_gain_and_clipped_at_full_scale() -> None:
    samples = np.array([0.5, -0.25, 0.0, 0.9], np.float32)
    quieter, rate = sf.read(io.BytesIO(level.at_gain(samples, 8000, -6.0)), dtype="float32")
    assert rate == 8000 and sf.info(io.BytesIO(level.at_gain(samples, 8000, 0.0))).subtype == "PCM_16"
    np.testing.assert_allclose(quieter, samples * 10 ** (-6 / 20), atol=2 / 32768)
    louder, _ = sf.read(io.BytesIO(level.at_gain(samples, 8000, 6.0)), dtype="float32")
    assert louder.max() <= 1.0 and louder[3] > 0.99  # clipped, as a file +6 dB louder would be


def row(accuracy: float) -> dict[str, float]:
    return {
        "shipped_same_top": 1.0,
        "shipped_delta_p_max": 0.004,
        "accuracy_mean": accuracy,
        "accuracy_std": 0.05,
        "confident": 0.9,
        "same_top": 1.0,
        "delta_p_mean": 0.001,
        "delta_p_max": 0.01,
        "delta_embedding_mean": 1e-5,
    }


def test_the_page_has_a_table_per_normalisation_and_the_choice_of_target() -> None:
    results = {
        "clips": 70,
        "folds": 5,
        "repeats": 2,
        "seed": 0,
        "shipped_target_lufs": -23.0,
        "gains_db": [0.0, -12.0],
        "by_target": {"None": {"0.0": row(0.9), "-12.0": row(0.6)}, "-23.0": {"0.0": row(0.91), "-12.0": row(0.91)}},
        "target_choice": {"None": row(0.9), "-23.0": row(0.91)},
    }
    page = level.render(results)
    assert "### No normalisation" in page and "### Normalised to -23 LUFS" in page and "### Choosing the target" in page
    assert "| -12 dB | 100% / 0.0040 | 60.0% ± 5.0% |" in page and "| normalised to -23 LUFS | 91.0% ± 5.0% |" in page
