"""Which segments run: the even spread and the early stop, alone and inside the engine."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from genre_engine import GenreEngine
from genre_engine.features import FeatureConfig
from genre_engine.segment_plan import margin, predict_staged, spread
from tests.conftest import tone


def test_spread_takes_first_last_and_evenly_between() -> None:
    assert spread(10, 3).tolist() == [0, 4, 9]
    assert spread(10, 2).tolist() == [0, 9]
    assert spread(4, 10).tolist() == [0, 1, 2, 3]
    assert spread(4, None).tolist() == [0, 1, 2, 3]
    assert spread(7, 1).tolist() == [0]


def test_margin_is_top1_minus_top2() -> None:
    assert margin(np.array([0.1, 0.6, 0.3])) == pytest.approx(0.3)


def _recorder(probs: np.ndarray):
    calls: list[list[int]] = []

    def predict(rows: np.ndarray):
        calls.append(rows.tolist())
        return probs[rows], np.arange(len(probs), dtype=float)[rows, None]

    return predict, calls


def test_decided_answer_stops_after_min_segments() -> None:
    probs = np.tile([0.9, 0.05, 0.05], (10, 1))
    predict, calls = _recorder(probs)
    used, p, e = predict_staged(predict, 10, min_segments=3, stop_margin=0.5)
    assert calls == [spread(10, 3).tolist()] and used.tolist() == spread(10, 3).tolist()
    assert e[:, 0].tolist() == used.tolist()


def test_undecided_answer_runs_the_rest_and_keeps_segment_order() -> None:
    probs = np.tile([0.5, 0.4, 0.1], (10, 1))
    predict, calls = _recorder(probs)
    used, p, e = predict_staged(predict, 10, min_segments=3, stop_margin=0.5)
    assert len(calls) == 2 and sorted(calls[0] + calls[1]) == list(range(10))
    assert used.tolist() == list(range(10)) and e[:, 0].tolist() == list(range(10))


def test_no_margin_runs_everything_at_once() -> None:
    predict, calls = _recorder(np.tile([0.9, 0.1], (5, 1)))
    used, _, _ = predict_staged(predict, 5, min_segments=3, stop_margin=None)
    assert calls == [[0, 1, 2, 3, 4]] and len(used) == 5


class _Runner:
    """Decided (all mass on one genre) or undecided (two genres tied) on every segment."""

    runtime = "fake"
    labels = ("a", "b", "c")
    embedding_dim = 2
    n_tags = 0  # not a tagger
    model_args: dict = {}

    def __init__(self, decided: bool) -> None:
        self.features = FeatureConfig.preset("logmel")
        self.row = np.array([0.9, 0.05, 0.05] if decided else [0.45, 0.45, 0.1], dtype=np.float32)
        self.segments_run = 0

    def predict(self, segments: np.ndarray):
        self.segments_run += len(segments)
        return np.tile(self.row, (len(segments), 1)), np.ones((len(segments), 2), dtype=np.float32)

    def predict_tagged(self, segments: np.ndarray):
        return (*self.predict(segments), None)


@pytest.mark.parametrize("decided, expected", [(True, 3), (False, 10)])
def test_engine_stops_early_only_when_decided(decided: bool, expected: int) -> None:
    runner = _Runner(decided)
    engine = GenreEngine(runner, max_segments=10, min_segments=3, stop_margin=0.5)
    rate = runner.features.sample_rate
    audio = tone(seconds=runner.features.segment_s * 12, sr=rate)
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV")
    prediction = engine.classify(buffer.getvalue())
    assert prediction.segments == expected == runner.segments_run
    assert len(prediction.segment_starts_s) == expected
