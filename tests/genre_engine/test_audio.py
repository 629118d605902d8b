from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre_engine.audio import decode_windows, window_starts
from genre_engine.errors import (
    AudioTooLargeError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    SilentAudioError,
    TooShortAudioError,
)
from tests.conftest import tone
from tests.support.audio_files import ALL_FORMATS, write_audio


@pytest.mark.parametrize("ext", ALL_FORMATS)
def test_every_promised_container_decodes_to_mono_at_the_model_rate(tmp_path: Path, ext: str) -> None:
    path = write_audio(tmp_path / f"song.{ext}", tone(440.0, seconds=3.0), 22050)
    decoded = decode_windows(path, 16000, window_s=1.0, max_windows=10)
    assert decoded.windows.dtype == np.float32 and decoded.windows.ndim == 2
    assert decoded.duration_s == pytest.approx(3.0, abs=0.1)
    # The 440 Hz tone survives encoding and resampling: it dominates the spectrum.
    spectrum = np.abs(np.fft.rfft(decoded.windows[0][:16000]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=3)


def test_bytes_and_path_decode_identically(wav_file: Path) -> None:
    from_path = decode_windows(wav_file, 8000, 1.0, 10)
    from_bytes = decode_windows(wav_file.read_bytes(), 8000, 1.0, 10)
    np.testing.assert_array_equal(from_path.windows, from_bytes.windows)


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    left = tone(440.0, 2.0)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, -left * 0 + left], axis=1), 22050)
    decoded = decode_windows(path, 22050, 1.0, 10)
    np.testing.assert_allclose(decoded.windows[0], left, atol=1e-4)


@pytest.mark.parametrize("ext", ["wav", "m4a"])
def test_long_input_is_read_as_evenly_spread_windows(tmp_path: Path, ext: str) -> None:
    sr = 8000
    minutes = 4 if ext == "wav" else 2
    # A pitch that rises through the file lets us check each window came from where it should.
    t = np.arange(minutes * 60 * sr) / sr
    freq = 200 + 10 * t
    samples = (0.3 * np.sin(2 * np.pi * np.cumsum(freq) / sr)).astype(np.float32)
    path = write_audio(tmp_path / f"long.{ext}", samples, sr)
    decoded = decode_windows(path, sr, window_s=1.0, max_windows=5)
    assert decoded.windows.shape == (5, sr)
    assert decoded.duration_s == pytest.approx(minutes * 60, abs=0.5)
    starts = window_starts(decoded.duration_s, 1.0, 5)
    for window, start in zip(decoded.windows, starts):
        peak = np.argmax(np.abs(np.fft.rfft(window)))
        assert peak == pytest.approx(200 + 10 * (start + 0.5), abs=15)


def test_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("these are my shopping notes, not a song\n" * 50)
    with pytest.raises(NotAudioError):
        decode_windows(path, 16000, 3.0, 10)


def test_image_is_not_audio(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    with pytest.raises(NotAudioError):
        decode_windows(png, 16000, 3.0, 10)


def test_truncated_audio_is_corrupt(wav_file: Path) -> None:
    data = wav_file.read_bytes()
    broken = data[:12] + b"\x00" * 4 + b"garbage!" * 100
    with pytest.raises(CorruptAudioError):
        decode_windows(broken, 16000, 3.0, 10)


def test_empty_file_and_header_only_wav(tmp_path: Path) -> None:
    with pytest.raises(EmptyAudioError):
        decode_windows(b"", 16000, 3.0, 10)
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 22050)
    with pytest.raises(EmptyAudioError):
        decode_windows(path, 16000, 3.0, 10)


def test_silence(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(22050 * 5, np.float32), 22050)
    with pytest.raises(SilentAudioError):
        decode_windows(path, 16000, 3.0, 10)


def test_too_short(tmp_path: Path) -> None:
    path = tmp_path / "blip.wav"
    sf.write(path, tone(seconds=0.3), 22050)
    with pytest.raises(TooShortAudioError, match="0.3 s"):
        decode_windows(path, 16000, 3.0, 10)


def test_huge_file_is_refused_before_decoding(wav_file: Path) -> None:
    with pytest.raises(AudioTooLargeError):
        decode_windows(wav_file, 16000, 3.0, 10, max_bytes=1000)


def test_error_messages_read_as_sentences_for_users(tmp_path: Path) -> None:
    with pytest.raises(NotAudioError) as info:
        decode_windows(b"hello world" * 100, 16000, 3.0, 10)
    message = str(info.value)
    assert message[0].isupper() and message.rstrip(")").endswith((".", "file")) and "Traceback" not in message
