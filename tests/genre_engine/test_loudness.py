"""Loudness normalisation (genre_engine.loudness): the model sees every input at one loudness, so the
answer does not depend on playback level; a quiet recording is music, not silence."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import soundfile as sf

from genre_engine import GenreEngine
from genre_engine.checkpoint import save_checkpoint
from genre_engine.errors import SilentAudioError
from genre_engine.features import TARGET_LUFS, FeatureConfig
from genre_engine.loudness import integrated_loudness, normalise
from genre_engine.runtime_torch import TorchModel
from tests.conftest import tiny_bundle, tone

RATE = 16000


def sine(amplitude: float, seconds: float = 4.0, freq: float = 997.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32).reshape(-1, RATE)


def test_a_full_scale_997_hz_sine_reads_minus_3_lufs_as_bs1770_defines() -> None:
    assert integrated_loudness(sine(1.0), RATE) == pytest.approx(-3.01, abs=0.1)
    assert integrated_loudness(sine(0.1), RATE) == pytest.approx(-23.01, abs=0.1)


@pytest.mark.parametrize("gain_db", [-30.0, -12.0, 0.0, 6.0])
def test_normalised_segments_are_the_same_whatever_the_gain(gain_db: float) -> None:
    music = tone(330, seconds=6, sr=RATE).reshape(-1, RATE) * np.linspace(0.2, 1.0, 6, dtype=np.float32)[:, None]
    reference = normalise(music, RATE, TARGET_LUFS)
    louder = normalise(music * np.float32(10 ** (gain_db / 20)), RATE, TARGET_LUFS)
    np.testing.assert_allclose(louder, reference, rtol=1e-4, atol=1e-6)
    assert integrated_loudness(reference, RATE) == pytest.approx(TARGET_LUFS, abs=0.05)
    # one gain for the whole input: the quiet first segment stays quieter than the loud last one
    assert np.std(reference[0]) < np.std(reference[-1]) / 3


def test_content_under_the_absolute_gate_is_still_brought_to_the_target() -> None:
    whisper = sine(10 ** (-75 / 20))  # about -78 LUFS: every block under BS.1770's -70 LUFS gate
    assert integrated_loudness(whisper, RATE) == pytest.approx(-78.0, abs=0.2)
    assert integrated_loudness(normalise(whisper, RATE, TARGET_LUFS), RATE) == pytest.approx(TARGET_LUFS, abs=0.05)


def test_no_target_or_no_content_leaves_the_segments_as_they_are() -> None:
    music = sine(0.3)
    assert normalise(music, RATE, None) is music
    silence = np.zeros((3, RATE), np.float32)
    assert normalise(silence, RATE, TARGET_LUFS) is silence
    assert integrated_loudness(silence, RATE) == -np.inf


def test_every_preset_normalises_and_old_checkpoints_do_not() -> None:
    assert {FeatureConfig.preset(kind).loudness_lufs for kind in ("logmel", "stft", "musicnn")} == {TARGET_LUFS}
    old = {field.name: getattr(FeatureConfig(), field.name) for field in dataclasses.fields(FeatureConfig)}
    del old["loudness_lufs"]  # a checkpoint written before the field existed
    assert FeatureConfig.from_dict(old).loudness_lufs is None


def wav(samples: np.ndarray, rate: int, gain_db: float) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples * 10 ** (gain_db / 20), rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


@pytest.fixture
def normalising_engine(tmp_path) -> GenreEngine:
    bundle = tiny_bundle()
    bundle.features = dataclasses.replace(bundle.features, loudness_lufs=TARGET_LUFS)
    return GenreEngine.from_checkpoint(save_checkpoint(tmp_path / "loud.pt", bundle), runtime="torch")


def test_the_engine_gives_the_same_answer_at_any_level(normalising_engine: GenreEngine) -> None:
    song = tone(220, seconds=8, sr=22050) + 0.5 * tone(550, seconds=8, sr=22050, seed=1)
    answers = [normalising_engine.classify(wav(song, 22050, gain)) for gain in (0.0, -20.0, -40.0)]
    for answer in answers[1:]:
        assert answer.probabilities == pytest.approx(answers[0].probabilities, abs=1e-5)
        assert float(answer.embedding @ answers[0].embedding) == pytest.approx(1.0, abs=1e-5)
    assert isinstance(normalising_engine.runner, TorchModel)


def test_a_quiet_recording_is_music_and_only_inaudible_noise_is_silence(normalising_engine: GenreEngine) -> None:
    orchestra = tone(220, seconds=6, sr=22050) / 0.31 * 10 ** (-50 / 20)  # peaks at about -50 dBFS
    assert normalising_engine.classify(wav(orchestra, 22050, 0.0)).segments > 0
    hiss = np.random.default_rng(0).normal(0, 10 ** (-95 / 20), 6 * 22050)  # far below anything audible
    with pytest.raises(SilentAudioError):
        normalising_engine.classify(wav(hiss, 22050, 0.0))
