"""Issue 20's kinds, made here so each is tested beyond the field2 examples: structures one decoder
misreads and the other reads, the track of a container that is the music, and content, not names.

Each file holds a glide (a pitch rising 10 Hz per second), so where a window came from shows in
its pitch: a part read at the wrong speed or from the wrong place fails the check.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from genre_engine.audio import AudioTrack, content_verdict, decode_windows, scan_folder
from genre_engine.errors import CorruptAudioError, NoSoundTrackError, NotAudioError
from tests.genre_engine.test_real_world import SR, assert_windows_inside_real_audio, glide, peak_hz
from tests.support.audio_files import (
    dsf,
    encode,
    free_format_mp3,
    ogg_opus,
    ogg_vorbis,
    silent_video,
    two_tracks,
)


def rising_from(start_s: float, seconds: float, rate: int) -> np.ndarray:
    """The glide as it is ``start_s`` seconds in: a second file joined after a first continues it."""
    t = start_s + np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * np.cumsum(200 + 10 * t) / rate)).astype(np.float32)


@pytest.mark.parametrize(
    "rates", [(44100, 44100), (8000, 8000), (44100, 48000)], ids=["same rate", "low rate", "rate changes"]
)
def test_a_chained_ogg_is_decoded_link_after_link(rates: tuple[int, int]) -> None:
    chain = ogg_vorbis(rising_from(0, 20, rates[0]), rates[0]) + ogg_vorbis(rising_from(20, 40, rates[1]), rates[1])
    # what libsndfile makes of it: no length (2**63 - 1 frames) or the first link's
    assert sf.info(io.BytesIO(chain)).frames in (2**63 - 1, 20 * rates[0])
    assert_windows_inside_real_audio(decode_windows(chain, SR, window_s=1.0, max_windows=5), 60.0)


def test_two_mp3s_of_different_rates_joined_play_at_their_own_speeds() -> None:
    joined = encode(rising_from(0, 20, 44100), 44100, "mp3", "libmp3lame") + encode(
        rising_from(20, 20, 22050), 22050, "mp3", "libmp3lame"
    )
    decoded = decode_windows(joined, SR, window_s=1.0, max_windows=5)
    assert_windows_inside_real_audio(decoded, 40.0)  # the second half at 44.1 kHz would be 10 s, an octave up


def test_a_short_join_read_whole_keeps_both_rates() -> None:
    joined = encode(rising_from(0, 2, 44100), 44100, "mp3", "libmp3lame") + encode(
        rising_from(2, 2, 22050), 22050, "mp3", "libmp3lame"
    )
    decoded = decode_windows(joined, SR, window_s=1.0, max_windows=5)
    assert decoded.whole and decoded.duration_s == pytest.approx(4.0, abs=0.1)
    assert peak_hz(decoded.windows[0][int(2.5 * SR) : int(3.5 * SR)]) == pytest.approx(230, abs=15)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24"])
def test_a_truncated_flac_is_read_by_ffmpeg_when_libsndfile_loses_sync(tmp_path: Path, subtype: str) -> None:
    path = tmp_path / "download.flac"
    sf.write(path, glide(60.0), SR, subtype=subtype)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # the header still promises 60 s
    with sf.SoundFile(path) as libsndfile, pytest.raises(sf.LibsndfileError):
        libsndfile.read()
    decoded = decode_windows(path, SR, window_s=1.0, max_windows=5)
    assert_windows_inside_real_audio(decoded, decoded.duration_s)
    assert 35.0 < decoded.duration_s < 41.0


def test_a_free_format_mp3_ffmpeg_cannot_decode_is_read_by_libsndfile(capfd: pytest.CaptureFixture[str]) -> None:
    data = free_format_mp3(glide(5.0, 48000))
    with pytest.raises(av.error.InvalidDataError):
        list(av.open(io.BytesIO(data)).decode(audio=0))
    decoded = decode_windows(data, SR, window_s=1.0, max_windows=10)
    assert decoded.duration_s == pytest.approx(5.0, abs=0.1)
    assert peak_hz(decoded.windows[0][2 * SR : 3 * SR]) == pytest.approx(225, abs=15)
    assert capfd.readouterr().err == ""  # and libsndfile's mp3 decoder printed nothing a user would see


def test_a_damaged_mp3_says_damaged_without_the_libraries_notes(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CorruptAudioError) as caught:
        decode_windows(b"\xff\xfb" + bytes(range(256)) * 20, SR, 1.0, 5)
    assert caught.value.cause == "FFmpeg: InvalidDataError; libsndfile: NotForSoundfile"
    assert capfd.readouterr().err == ""


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # what stderr would show
@pytest.mark.parametrize("as_file", [False, True], ids=["upload", "file"])
def test_a_header_cut_short_says_damaged_and_nothing_on_stderr(
    as_file: bool, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    whole = io.BytesIO()
    sf.write(whole, glide(1.0), SR, format="AIFF")
    cut = whole.getvalue()[:22]  # the COMM chunk's header: libsndfile seeks before the start to read it
    path = tmp_path / "cut.aiff"
    path.write_bytes(cut)
    with pytest.raises(CorruptAudioError):
        decode_windows(path if as_file else cut, SR, 1.0, 5)
    assert capfd.readouterr().err == ""  # no traceback from soundfile's seek callback


@pytest.mark.parametrize("channels", [9, 64])
def test_channels_of_no_known_order_are_mixed_to_one(channels: int) -> None:
    # FFmpeg's resampler has no downmix matrix for 9 or 64 channels without a layout: mixed here
    mono = glide(2.0)
    wav = io.BytesIO()
    sf.write(wav, np.repeat(mono[:, None], channels, axis=1), SR, format="WAV", subtype="PCM_16")
    decoded = decode_windows(wav.getvalue(), SR, 1.0, None)
    assert decoded.whole and decoded.duration_s == pytest.approx(2.0)
    assert np.allclose(decoded.windows[0], mono, atol=1e-3)  # the mean of equal channels is the channel


def test_a_sample_rate_too_low_for_music_is_damaged() -> None:
    wav = io.BytesIO()
    sf.write(wav, np.random.default_rng(0).uniform(-0.5, 0.5, 30).astype(np.float32), 1, format="WAV")
    with pytest.raises(CorruptAudioError):  # 30 samples at 1 Hz: not a 30-s song
        decode_windows(wav.getvalue(), SR, 1.0, 5)


def test_dsd_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "tone.dsf"
    path.write_bytes(dsf(3.0))
    decoded = decode_windows(path, SR, window_s=1.0, max_windows=5)
    assert decoded.duration_s == pytest.approx(3.0, abs=0.01) and peak_hz(decoded.windows[0][:SR]) == 1050


def test_an_ogg_voice_note_without_an_extension_is_audio(tmp_path: Path) -> None:
    path = tmp_path / "voice-message"
    path.write_bytes(ogg_opus(glide(4.0), SR))
    assert content_verdict(path) is None
    assert decode_windows(path, SR, 1.0, 5).duration_s == pytest.approx(4.0, abs=0.05)


@pytest.mark.parametrize(
    ("dispositions", "number", "chosen"),
    [
        (("", "default"), 2, "default"),  # the field2 case: commentary first, music marked default
        (("comment", ""), 2, "first"),  # nothing marked default: the first that isn't commentary
        (("default+comment", "default"), 2, "default"),  # a commentary marked default too stays aside
        (("", ""), 1, "first"),  # nothing to go by: the first, as players do
    ],
)
def test_the_music_track_is_the_one_a_player_would_pick(
    dispositions: tuple[str, str], number: int, chosen: str
) -> None:
    speech, music = glide(5.0), (0.3 * np.sin(2 * np.pi * 1000 * np.arange(5 * SR) / SR)).astype(np.float32)
    decoded = decode_windows(two_tracks(speech, music, SR, dispositions), SR, window_s=1.0, max_windows=10)
    assert decoded.track == AudioTrack(number, 2, ("Commentary", "Music")[number - 1], None, chosen)
    assert (peak_hz(decoded.windows[0][SR : 2 * SR]) == 1000) == (number == 2)


def test_a_video_without_a_sound_track_is_not_audio_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "screen.mp4"
    path.write_bytes(silent_video())
    with pytest.raises(NoSoundTrackError) as caught:
        decode_windows(path, SR, 1.0, 5)
    assert isinstance(caught.value, NotAudioError) and caught.value.streams == ["video"]


def test_a_playlist_naming_other_files_opens_none_of_them(tmp_path: Path) -> None:
    song = tmp_path / "song.mp3"
    song.write_bytes(encode(glide(5.0), SR, "mp3", "libmp3lame"))
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:5.0,\nfile://{song}\n#EXT-X-ENDLIST\n")
    with pytest.raises(NotAudioError):
        decode_windows(playlist, SR, 1.0, 5)  # FFmpeg alone would play song.mp3 (or fetch a URL) from it
    assert isinstance(content_verdict(playlist), NotAudioError)


def test_a_folder_is_sorted_by_content_and_what_is_skipped_says_why(tmp_path: Path) -> None:
    music = tmp_path / "music"
    (music / ".hidden").mkdir(parents=True)
    (music / "voice-message").write_bytes(ogg_opus(glide(2.0), SR))
    (music / "tone.dsf").write_bytes(dsf(1.5))
    (music / "cover.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    (music / "notes.txt").write_text("track list\n")
    (music / "screen.mp4").write_bytes(silent_video())
    (music / "._tone.dsf").write_bytes(b"\x00\x05\x16\x07")  # macOS's resource fork beside a copied file
    (music / ".hidden" / "song.ogg").write_bytes(ogg_opus(glide(2.0), SR))

    scan = scan_folder(music)

    # screen.mp4 starts like a container, so it is the decoder's to judge: "no sound track" (test above)
    assert scan.audio == [music / "screen.mp4", music / "tone.dsf", music / "voice-message"]
    assert [(path.name, reason.kind) for path, reason in scan.skipped] == [
        ("cover.jpg", "JPEG image"),
        ("notes.txt", None),
    ]
    assert str(scan.skipped[0][1]).startswith("That file is a JPEG image, not audio.")
