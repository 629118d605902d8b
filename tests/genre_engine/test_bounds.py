"""Every decode is bounded by samples, whatever the container says (issue 23): decompression bombs are
refused after a little decoding, an honest file of the same audio costs its windows, and streams
measured by decoding stop at a limit. Counts come from the decoder itself (``decoded_s``), memory
from tracemalloc (numpy's arrays: the samples); never a time.

The bombs are made by ``benchmarks.decode_bounds``: FLAC frames of 65,535 constant samples (15
bytes each) in an MP4 whose timestamps claim less than that.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from benchmarks.decode_bounds import BLOCK, RATE, craft, flac_frames, mux
from genre_engine import audio
from genre_engine.audio import decode_windows
from genre_engine.audio_pyav import PyavReader
from genre_engine.errors import InflatedAudioError, TooLongAudioError
from tests.genre_engine.test_real_world import SR, assert_windows_inside_real_audio, glide
from tests.support.audio_files import encode, ogg_vorbis

FRAME_S = BLOCK / RATE  # 1.365 s of audio in each frame
MODEL = {"sample_rate": 16000, "window_s": 2.992, "max_windows": 10}  # the shipped model's decoding
WHOLE_S = MODEL["window_s"] * MODEL["max_windows"]


def decode_traced(data: bytes) -> tuple[object, float]:
    """What ``decode_windows`` returns or raises for ``data``, and the peak of traced memory (MiB)."""
    tracemalloc.start()
    try:
        outcome: object = decode_windows(data, **MODEL)
    except InflatedAudioError as error:
        outcome = error
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return outcome, peak


def test_a_bomb_that_claims_to_be_short_is_refused_after_its_first_frames() -> None:
    bomb = craft(10, RATE // 12_000)  # 10 min in 5 KB, each frame claiming 1/12,000 s: "0.037 s" in all
    refused, peak_mib = decode_traced(bomb)
    assert isinstance(refused, InflatedAudioError) and refused.claimed_s < 0.05
    assert refused.decoded_s <= 2 * FRAME_S  # the second frame already starts too late
    assert peak_mib < 5  # decoded whole, 10 min would be 110 MB of float samples
    assert "says it lasts 0.0 s but holds much more sound" in str(refused)


def test_a_bomb_that_claims_to_be_long_is_refused_in_its_first_window() -> None:
    bomb = craft(10, BLOCK // 10)  # each frame claims a tenth of its length: 60 s, read as windows
    refused, peak_mib = decode_traced(bomb)
    assert isinstance(refused, InflatedAudioError) and refused.claimed_s == pytest.approx(60.1, abs=0.1)
    assert refused.decoded_s <= 2 * FRAME_S and peak_mib < 5


def test_a_file_holding_a_little_more_than_it_says_is_refused_at_the_whole_reads_limit() -> None:
    # 26 frames (35.5 s) that claim 1/1.4 of their length (25.4 s): within what the timestamps may
    # lag by, so it is the whole read's limit (the windows' span and a second) that stops it
    mild = mux(flac_frames(26), "mp4", int(BLOCK / 1.4))
    refused, _ = decode_traced(mild)
    assert isinstance(refused, InflatedAudioError) and refused.claimed_s == pytest.approx(25.4, abs=0.1)
    assert WHOLE_S < refused.decoded_s <= WHOLE_S + 1.0 + 1 / RATE


def test_a_bomb_whose_frames_claim_no_time_is_read_forward_keeping_only_its_windows() -> None:
    # no timeline to believe or to seek by: counted by decoding, then read forward, window by window;
    # what lies between two windows is dropped as it goes (kept, those 2 min would be 23 MB of floats,
    # and 3 h of 192 kHz audio a gigabyte)
    decoded, peak_mib = decode_traced(craft(20, 0))
    assert decoded.duration_s == pytest.approx(1201.0, abs=1.5) and len(decoded.windows) == 10
    assert peak_mib < 16


def test_the_same_audio_honestly_stored_costs_only_its_windows() -> None:
    decoded, peak_mib = decode_traced(craft(10, None))
    assert decoded.duration_s == pytest.approx(600.7, abs=0.1) and len(decoded.windows) == 10
    assert decoded.decoded_s < 10 * (MODEL["window_s"] + 2 * FRAME_S)  # each window, its frames' overhang
    assert peak_mib < 16  # its windows at 48 kHz; decoded whole, 10 min would be 110 MB


def test_a_stream_measured_by_decoding_stops_at_the_count_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = ogg_vorbis(glide(20.0), SR) + ogg_vorbis(glide(40.0), SR)  # untimed: counted by decoding
    monkeypatch.setattr(audio, "MAX_COUNT_S", 30.0)
    with pytest.raises(TooLongAudioError) as caught:
        decode_windows(chain, SR, 1.0, 5)
    assert caught.value.limit_s == 30.0 and 30.0 < caught.value.duration_s < 31.0
    assert str(caught.value) == "That recording lasts over 0.5 min, more than I can read."


def test_a_stream_above_48_khz_is_counted_for_less_time_in_proportion(monkeypatch: pytest.MonkeyPatch) -> None:
    # counting costs samples: 60 s at 48 kHz is 30 s at 96 kHz
    monkeypatch.setattr(audio, "MAX_COUNT_S", 60.0)
    rate = 96_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(20 * rate) / rate)).astype(np.float32)
    chain = ogg_vorbis(tone, rate) + ogg_vorbis(tone, rate)  # 40 s, untimed (a chain): counted by decoding
    with pytest.raises(TooLongAudioError) as caught:
        decode_windows(chain, SR, 1.0, 5)
    assert caught.value.limit_s == 30.0 and 30.0 < caught.value.duration_s < 31.0


def test_reading_whole_stops_at_its_limit_when_every_length_is_read_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(audio, "MAX_WHOLE_S", 5.0)
    with pytest.raises(TooLongAudioError) as caught:
        decode_windows(ogg_vorbis(glide(8.0), SR), SR, 1.0, None)
    assert caught.value.duration_s == pytest.approx(8.0, abs=0.05) and caught.value.limit_s == 5.0
    assert decode_windows(ogg_vorbis(glide(4.0), SR), SR, 1.0, None).whole


def test_where_ffmpeg_seeks_nowhere_the_windows_are_read_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PyavReader, "_seek", lambda self, target_s: False)
    mp3 = encode(glide(60.0), SR, "mp3", "libmp3lame")
    decoded = decode_windows(mp3, SR, window_s=1.0, max_windows=5)
    assert_windows_inside_real_audio(decoded, 60.0)
    # one pass, the windows taken on the way, and one more: the last window ends a little short (the
    # mp3's padding), so they are placed again inside the real end, behind where the pass had got to
    assert decoded.decoded_s <= 2 * 60.1


def test_an_honest_file_read_whole_is_decoded_once() -> None:
    decoded = decode_windows(ogg_vorbis(glide(20.0), SR), SR, window_s=1.0, max_windows=30)
    assert decoded.whole and decoded.decoded_s == pytest.approx(20.0, abs=0.05)
