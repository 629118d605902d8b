"""The radio's audio path: loudness, the packet stream, and discord.py's AudioPlayer reading it."""

from __future__ import annotations

import asyncio
import math
import threading
from pathlib import Path

import av
import numpy as np
import pytest
from discord.player import AudioPlayer

from bot.radio.loudness import TARGET_LUFS, gain_db, measure, measure_segments
from bot.radio.stream import FRAME_S, FRAME_SAMPLES, PacketStream, Track, decode_48k
from cogs.radio_source import RadioAudioSource
from tests.support.radio_audio import decode_packets, noise_song

OPUS_SILENCE = b"\xf8\xff\xfe"


def sine_frames(amplitude: float, seconds: float) -> list[av.AudioFrame]:
    t = np.arange(int(seconds * 48_000)) / 48_000
    wave = (amplitude * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
    frame.sample_rate = 48_000
    return [frame]


def test_a_997_hz_sine_measures_as_bs1770_says() -> None:
    # BS.1770: a 997-Hz sine at 0 dBFS in both channels reads 0 LUFS; at -20 dBFS, -20 LUFS
    loudness = measure(sine_frames(0.1, 5.0))
    assert loudness.integrated_lufs == pytest.approx(-20.0, abs=0.1)
    assert loudness.true_peak_dbtp == pytest.approx(-20.0, abs=0.2)


def test_silence_measures_at_the_gate_and_gets_no_gain() -> None:
    loudness = measure(sine_frames(0.0, 2.0))
    assert loudness.integrated_lufs == -70.0 and loudness.true_peak_dbtp == -math.inf
    assert gain_db(loudness.integrated_lufs) == 0.0
    assert gain_db(None) == 0.0
    assert gain_db(-20.0) == pytest.approx(6.0)
    assert gain_db(-60.0) == 20.0  # capped: never +46 dB of noise floor


def tracks_for(paths: list[Path]) -> list[Track]:
    return [
        Track(index + 1, path.stem, open(path, "rb"), gain_db(measure(decode_48k(path)).integrated_lufs))
        for index, path in enumerate(paths)
    ]


def test_songs_at_different_levels_come_out_at_minus_14_lufs(tmp_path: Path) -> None:
    quiet = noise_song(tmp_path / "quiet.wav", 10.0, -32.0, sr=22_050, channels=1, seed=1)  # mono, 22 kHz
    loud = noise_song(tmp_path / "loud.flac", 10.0, -9.0, sr=48_000, seed=2)
    tracks = tracks_for([quiet, loud])
    pending = list(tracks)
    ended = []
    packets = list(PacketStream(lambda: pending.pop(0) if pending else None, on_track_end=ended.append))

    assert ended == tracks and [track.error for track in tracks] == [None, None]
    assert [track.frames for track in tracks] == [500, 500]  # 10 s each: 500 frames of 20 ms
    assert len(packets) == 1001  # + the encoder's look-ahead, flushed when the radio stops
    assert [packet.at_s for packet in packets[:3]] == pytest.approx([0.0, FRAME_S, 2 * FRAME_S])
    assert {packet.track.song_id for packet in packets[:500]} == {1}
    assert {packet.track.song_id for packet in packets[500:]} == {2}

    frames = decode_packets(packet.data for packet in packets)
    assert sum(frame.samples for frame in frames) == 1001 * FRAME_SAMPLES
    for loudness in measure_segments(frames, [0.0, 10.0]):
        assert loudness.integrated_lufs == pytest.approx(TARGET_LUFS, abs=1.0)
        assert loudness.true_peak_dbtp < 0.0


def test_a_broken_file_ends_its_song_and_the_stream_goes_on(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"OggS" + bytes(5000))
    good = noise_song(tmp_path / "good.wav", 1.0, -20.0)
    pending = [Track(1, "broken", open(broken, "rb"), 0.0), Track(2, "good", open(good, "rb"), 0.0)]
    tracks = list(pending)
    packets = list(PacketStream(lambda: pending.pop(0) if pending else None))
    assert tracks[0].error is not None and tracks[0].frames == 0
    assert tracks[1].error is None and tracks[1].frames == 50
    assert len(packets) == 51


def test_skip_ends_the_song_at_the_next_packet(tmp_path: Path) -> None:
    song = noise_song(tmp_path / "a.wav", 5.0, -20.0)
    pending = [Track(1, "a", open(song, "rb"), 0.0), Track(2, "b", open(song, "rb"), 0.0)]
    tracks = list(pending)
    stream = PacketStream(lambda: pending.pop(0) if pending else None)
    sent = []
    for packet in stream:
        sent.append(packet)
        if len(sent) == 10:
            stream.skip()
    assert tracks[0].skipped and tracks[0].frames == 10 and tracks[0].played_s == pytest.approx(0.2)
    assert not tracks[1].skipped and tracks[1].frames == 250


class FakeVoiceClient:
    """What discord.py's AudioPlayer touches on a VoiceClient: it records every packet sent."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.client = self
        self.loop = loop
        self.ws = self
        self.timeout = 1.0
        self.sent: list[tuple[bytes, bool]] = []

    async def speak(self, state) -> None:
        pass

    def is_connected(self) -> bool:
        return True

    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None:
        self.sent.append((data, encode))


async def test_discords_audio_player_sends_the_radio_as_20_ms_opus_packets(tmp_path: Path) -> None:
    songs = [noise_song(tmp_path / f"{index}.wav", 0.5, -20.0, seed=index) for index in range(2)]
    pending = tracks_for(songs)
    client = FakeVoiceClient(asyncio.get_running_loop())
    done = threading.Event()
    source = RadioAudioSource(PacketStream(lambda: pending.pop(0) if pending else None))
    player = AudioPlayer(source, client, after=lambda error: done.set())
    player.start()
    assert await asyncio.to_thread(done.wait, 10.0)

    assert all(encode is False for _, encode in client.sent)  # is_opus(): sent as they are
    radio = [data for data, _ in client.sent if data != OPUS_SILENCE]
    assert len(radio) == 51  # two 0.5-s songs: 25 frames each, and the encoder's look-ahead
    assert client.sent[len(radio) :] == [(OPUS_SILENCE, False)] * 5  # discord.py's end of speech
    # each packet is one 20-ms Opus frame: TOC byte (RFC 6716, 3.1) code 0 = one frame, of a
    # CELT configuration whose frame size is 20 ms; and it decodes to 960 samples
    assert {data[0] & 0b11 for data in radio} == {0}
    assert {(data[0] >> 3) >= 16 and (data[0] >> 3) & 0b11 == 3 for data in radio} == {True}
    assert [frame.samples for frame in decode_packets(radio)] == [FRAME_SAMPLES] * 51
