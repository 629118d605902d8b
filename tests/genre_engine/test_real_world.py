"""Kinds of real-world trouble, made here so each is tested beyond the field examples: lengths that
headers misstate, segments without content, files judged by content, library failures."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre_engine import GenreEngine
from genre_engine.__main__ import main
from genre_engine.audio import Sniffed, decode_windows, sniff
from genre_engine.errors import CorruptAudioError, NotAudioError, SilentAudioError
from tests.conftest import tone
from tests.support import audio_files

SR = 8000


@pytest.fixture(scope="module")
def engine(tiny_checkpoint: Path) -> GenreEngine:
    return GenreEngine.from_checkpoint(tiny_checkpoint, max_segments=5)


def glide(seconds: float, sr: int = SR) -> np.ndarray:
    """A pitch rising 10 Hz per second from 200 Hz: where a window came from shows in its pitch."""
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * np.cumsum(200 + 10 * t) / sr)).astype(np.float32)


def encode(path: Path, samples: np.ndarray, container: str, codec: str, sr: int = SR) -> Path:
    path.write_bytes(audio_files.encode(samples, sr, container, codec))
    return path


def peak_hz(window: np.ndarray, sr: int = SR) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(window))) * sr / len(window))


def assert_windows_inside_real_audio(decoded, real_s: float) -> None:
    assert decoded.duration_s == pytest.approx(real_s, rel=0.01)
    for start, window in zip(decoded.starts_s, decoded.windows):
        assert start + 1.0 <= decoded.duration_s
        assert np.abs(window[-SR // 10 :]).max() > 0.05  # no zero padding at the end of any window
        assert peak_hz(window) == pytest.approx(200 + 10 * (start + 0.5), abs=15)


def test_a_truncated_mp3_with_a_xing_header_is_as_long_as_what_is_left(tmp_path: Path) -> None:
    full = encode(tmp_path / "full.mp3", glide(60.0), "mp3", "libmp3lame")
    data = full.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])  # an interrupted download: the Xing frame still says 60 s
    decoded = decode_windows(cut, SR, window_s=1.0, max_windows=5)
    assert_windows_inside_real_audio(decoded, 30.0)


def test_an_adts_aac_stream_is_measured(tmp_path: Path) -> None:
    path = encode(tmp_path / "stream.aac", glide(40.0), "adts", "aac")
    assert_windows_inside_real_audio(decode_windows(path, SR, window_s=1.0, max_windows=5), 40.0)


def test_a_wav_cut_short_is_as_long_as_its_samples(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    sf.write(path, glide(40.0), SR, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: 44 + 2 * SR * 25])  # header says 40 s, 25 s are there
    assert_windows_inside_real_audio(decode_windows(path, SR, window_s=1.0, max_windows=5), 25.0)


@pytest.mark.parametrize("seconds", [3.0, 12.0])
def test_a_wav_whose_header_says_zero_frames_is_read_by_ffmpeg(tmp_path: Path, seconds: float) -> None:
    path = tmp_path / "unfinished.wav"
    sf.write(path, glide(seconds), SR, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    data[4:8] = data[40:44] = b"\x00\x00\x00\x00"  # RIFF and data sizes never written
    path.write_bytes(bytes(data))
    decoded = decode_windows(path, SR, window_s=1.0, max_windows=5)
    assert decoded.duration_s == pytest.approx(seconds, rel=0.01)


def test_silent_intro_segments_are_left_out(engine: GenreEngine, tmp_path: Path) -> None:
    path = tmp_path / "intro.wav"
    sf.write(path, np.concatenate([np.zeros(3 * SR, np.float32), tone(seconds=2.0, sr=SR)]), SR)
    prediction = engine.classify(path)  # read whole: 5 s is not more than 5 segments
    assert prediction.segment_starts_s == (3.0, 4.0) and prediction.duration_s == pytest.approx(5.0)


def test_near_silence_relative_to_the_track_is_left_out(engine: GenreEngine, tmp_path: Path) -> None:
    hiss = np.random.default_rng(1).normal(0, 0.002, 3 * SR).astype(np.float32)  # -54 dBFS, 45 dB under the music
    path = tmp_path / "hiss.wav"
    sf.write(path, np.concatenate([tone(seconds=2.0, sr=SR, amplitude=0.5), hiss]), SR, subtype="FLOAT")
    assert engine.classify(path).segment_starts_s == (0.0, 1.0)


@pytest.mark.parametrize("level", [0.0, 0.25])
def test_silence_or_a_constant_level_is_no_music(engine: GenreEngine, tmp_path: Path, level: float) -> None:
    path = tmp_path / "flat.wav"
    sf.write(path, np.full(5 * SR, level, np.float32), SR, subtype="FLOAT")
    with pytest.raises(SilentAudioError):
        engine.classify(path)


def test_windows_of_a_long_file_move_out_of_silence(tmp_path: Path) -> None:
    music = glide(60.0)
    music[: 30 * SR] = 0.0  # the first half is silent
    path = tmp_path / "late.wav"
    sf.write(path, music, SR, subtype="FLOAT")
    decoded = decode_windows(path, SR, window_s=1.0, max_windows=5)
    assert len(decoded.windows) == 5 and min(decoded.starts_s) >= 29.0
    assert list(decoded.starts_s) == sorted(decoded.starts_s)
    assert_windows_inside_real_audio(decoded, 60.0)


def test_a_zip_named_mp3_is_not_audio(tmp_path: Path) -> None:
    song = encode(tmp_path / "song.mp3", glide(5.0), "mp3", "libmp3lame")
    archive = tmp_path / "album.mp3"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zipped:
        zipped.write(song, "song.mp3")
    with pytest.raises(NotAudioError) as caught:
        decode_windows(archive, SR, 1.0, 5)
    assert caught.value.kind == "zip archive" and str(caught.value).startswith("That file is a zip archive, not audio.")


def wav_36_bit(seconds: float = 2.0) -> bytes:
    """A PCM wav claiming 36 bits per sample (5-byte blocks): libsndfile refuses it and PyAV once
    raised AttributeError on it."""
    frames = int(seconds * SR)
    fmt = struct.pack("<HHIIHH", 1, 1, SR, SR * 5, 5, 36)
    data = bytes(range(256)) * (frames * 5 // 256 + 1)
    data = data[: frames * 5]
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_a_36_bit_wav_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises((CorruptAudioError, NotAudioError)):
        decode_windows(wav_36_bit(), SR, 1.0, 5)


def test_any_library_exception_becomes_an_audio_error(monkeypatch: pytest.MonkeyPatch, wav_file: Path) -> None:
    import genre_engine.audio_pyav as ffmpeg
    import genre_engine.audio_soundfile as libsndfile

    def explode(self, *args) -> None:
        raise AttributeError("'NoneType' object has no attribute 'name'")

    monkeypatch.setattr(libsndfile.SoundfileReader, "__init__", explode)
    monkeypatch.setattr(ffmpeg.PyavReader, "__init__", explode)
    with pytest.raises(CorruptAudioError) as caught:
        decode_windows(wav_file, SR, 1.0, 5)
    assert caught.value.cause == "libsndfile: AttributeError; FFmpeg: AttributeError"
    assert "NoneType" not in str(caught.value)


def test_cli_prints_one_line_per_bad_file_of_every_kind_and_classifies_the_good_one(
    tiny_checkpoint: Path, wav_file: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    bad = {  # file -> what it is told
        "36bit.wav": (wav_36_bit(), CorruptAudioError()),
        "garbage.mp3": (b"\xff\xfb" + bytes(range(256)) * 20, CorruptAudioError()),
        "notes.ogg": (b"just some notes\n" * 100, NotAudioError()),
        "page.m4a": (b"<!DOCTYPE html><html>nope</html>" * 20, NotAudioError(kind="web page")),
    }
    for name, (data, _) in bad.items():
        (tmp_path / name).write_bytes(data)
    paths = [tmp_path / name for name in bad]
    assert main([*map(str, paths), str(wav_file), "--checkpoint", str(tiny_checkpoint)]) == 1
    out, err = capfd.readouterr()  # the process's own stderr: no decoding library's notes either
    assert out.startswith(f"{wav_file}: ") and len(out.splitlines()) == 1
    assert err.splitlines() == [f"{tmp_path / name}: {told}" for name, (_, told) in bad.items()]


@pytest.mark.parametrize(
    ("head", "verdict"),
    [
        (b"PK\x03\x04rest", Sniffed.NOT_AUDIO),
        (b"%PDF-1.7", Sniffed.NOT_AUDIO),
        (b"<!doctype html>", Sniffed.NOT_AUDIO),
        (b"RIFF\x00\x00\x00\x00WAVE", Sniffed.AUDIO),
        (b"ID3\x04", Sniffed.AUDIO),
        (b"\xff\xfb\x90\x00", Sniffed.AUDIO),
        (b"\x00\x00\x00\x20ftypM4A ", Sniffed.AUDIO),
        (b"\x1a\x45\xdf\xa3", Sniffed.AUDIO),
        (b"hello", Sniffed.UNKNOWN),
    ],
)
def test_sniff_judges_by_content(head: bytes, verdict: Sniffed) -> None:
    assert sniff(head)[0] is verdict


def test_a_damaged_frame_mid_stream_is_skipped_not_fatal(tmp_path: Path) -> None:
    first = encode(tmp_path / "a.mp3", glide(20.0), "mp3", "libmp3lame").read_bytes()
    path = tmp_path / "joined.mp3"
    path.write_bytes(first + b"ID3\x04\x00\x00\x00\x00\x00\x10" + b"\x00" * 16 + first)  # two files joined
    decoded = decode_windows(path, SR, window_s=1.0, max_windows=5)
    assert decoded.duration_s == pytest.approx(40.0, rel=0.01) and len(decoded.windows) == 5
