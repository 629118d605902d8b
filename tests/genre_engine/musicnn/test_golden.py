"""The port reproduces TensorFlow musicnn's tag probabilities, without TensorFlow.

``golden_tags.json`` holds the reference network's output for ``synthetic_signals()``, written once
by ``python -m studies.musicnn_port --write-golden`` in the conversion environment. The
signals go through the project's own ``MusicnnMel`` front end here, so this also guards it against
the reference (librosa's mel spectrogram, log-compressed in float32).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from genre_engine.frontends import MusicnnMel
from studies.musicnn_port import synthetic_signals
from tests.genre_engine.musicnn.conftest import CONFIG

GOLDEN = json.loads((Path(__file__).with_name("golden_tags.json")).read_text())


@pytest.mark.parametrize("variant", sorted(GOLDEN))
def test_tag_probabilities_match_tensorflow(make_model, variant):
    signals = synthetic_signals()
    assert sorted(signals) == sorted(GOLDEN[variant])
    waveforms = torch.from_numpy(np.stack(list(signals.values())))
    with torch.inference_mode():
        tags = make_model(variant=variant).tag_probabilities(MusicnnMel(CONFIG)(waveforms)).numpy()
    expected = np.array([GOLDEN[variant][name] for name in signals])
    np.testing.assert_allclose(tags, expected, rtol=0, atol=1e-4)
    assert np.abs(expected - expected.mean(axis=0)).max() > 0.05, "signals must tell the tags apart"
