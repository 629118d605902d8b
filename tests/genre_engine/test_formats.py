"""Every sample format and channel layout decodes to the right waveform, not merely without error.

Each case encodes the same known signal (a chord with a gliding tone, no DC) in one container,
sample format and channel layout, decodes it with ``decode_windows`` and compares the waveform
with the source: correlation above 0.99 at the best small lag (codecs add a few ms of delay) and
no DC offset. Writers: PyAV (FFmpeg's muxers and encoders) and soundfile for vorbis and flac.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import correlate

from genre_engine.audio import decode_windows
from genre_engine.samples import resample

RATE = 48000
SECONDS = 2.5
CHECK_RATE = 16000

PCM = {
    "u8": "pcm_u8",
    "s16": "pcm_s16le",
    "s24": "pcm_s24le",
    "s32": "pcm_s32le",
    "f32": "pcm_f32le",
    "f64": "pcm_f64le",
}
BIG_ENDIAN = {"s16": "pcm_s16be", "s24": "pcm_s24be", "s32": "pcm_s32be", "f32": "pcm_f32be", "f64": "pcm_f64be"}
LAYOUTS = {"mono": 1, "stereo": 2, "5.1": 6}
SOUNDFILE_SUBTYPES = {
    "u8": "PCM_U8",
    "s8": "PCM_S8",
    "s16": "PCM_16",
    "s24": "PCM_24",
    "s32": "PCM_32",
    "f32": "FLOAT",
    "f64": "DOUBLE",
}


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for layout in LAYOUTS:
        cases += [("wav", fmt, layout) for fmt in PCM]  # u8 ... f64, all in wav
        cases += [("mka", fmt, layout) for fmt in PCM]  # Matroska PCM, FFmpeg only (the field's u8 file)
        cases += [("mov", fmt, layout) for fmt in ("s16", "s24", "s32", "f32", "f64")]
        cases += [("caf", fmt, layout) for fmt in ("s16", "s24", "s32", "f32", "f64")]
        cases += [("aiff", fmt, layout) for fmt in ("s16", "s24", "s32")]
        cases += [("aifc", fmt, layout) for fmt in ("f32", "f64")]  # float AIFF is AIFF-C
        cases += [("flac", fmt, layout) for fmt in ("s8", "s16", "s24")]
        # lossy codecs take the encoder's own format (float, or s16 for mp3's input)
        cases += [("ogg", "f32", layout), ("opus", "f32", layout), ("m4a", "f32", layout), ("webm", "f32", layout)]
        if layout != "5.1":  # mp3 carries at most two channels
            cases += [("mp3", "s16", layout)]
    return cases


def known_signal(seconds: float = SECONDS, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    glide = np.sin(2 * np.pi * (300 * t + 100 * t**2))
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    return (0.15 * glide + 0.12 * chord).astype(np.float32)


def channels_for(signal: np.ndarray, layout: str) -> np.ndarray:
    """``[channels, samples]``: the signal at different levels per channel, LFE left empty."""
    if layout == "mono":
        return signal[None]
    if layout == "stereo":
        return np.stack([signal, 0.6 * signal])
    # 5.1 in FFmpeg's order FL FR FC LFE BL BR
    return np.stack([signal, 0.8 * signal, 0.7 * signal, 0 * signal, 0.5 * signal, 0.5 * signal])


def write_pyav(path: Path, container: str, codec: str, layout: str, data: np.ndarray) -> None:
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=RATE, layout=layout)
        frame_size = stream.codec_context.frame_size or 1024
        for start in range(0, data.shape[1], frame_size):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(data[:, start : start + frame_size]), format="fltp", layout=layout
            )
            frame.sample_rate = RATE
            frame.pts = start
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def write_case(path: Path, container: str, fmt: str, layout: str, data: np.ndarray) -> None:
    if container in ("ogg", "flac"):
        subtype = "VORBIS" if container == "ogg" else SOUNDFILE_SUBTYPES[fmt]
        sf.write(path, data.T, RATE, format=container.upper(), subtype=subtype)
        return
    codec = {"wav": PCM, "mka": PCM, "mov": PCM, "caf": PCM, "aiff": BIG_ENDIAN, "aifc": BIG_ENDIAN}.get(container)
    if codec is not None:
        write_pyav(path, {"mka": "matroska", "aifc": "aiff"}.get(container, container), codec[fmt], layout, data)
        return
    lossy = {
        "opus": ("ogg", "libopus"),
        "webm": ("webm", "libopus"),
        "m4a": ("mp4", "aac"),
        "mp3": ("mp3", "libmp3lame"),
    }
    write_pyav(path, *lossy[container][:1], lossy[container][1], layout, data)


def best_correlation(decoded: np.ndarray, reference: np.ndarray, max_lag: int) -> tuple[float, int]:
    """Pearson correlation of ``decoded`` with ``reference`` at the lag (within ``max_lag``
    samples) where they match best, and that lag."""
    n = min(len(decoded), len(reference)) - 2 * max_lag
    ref = reference[max_lag : max_lag + n]
    cross = correlate(decoded[: n + 2 * max_lag], ref, mode="valid", method="fft")
    lag = int(np.argmax(np.abs(cross))) - max_lag
    return float(np.corrcoef(decoded[max_lag + lag : max_lag + lag + n], ref)[0, 1]), lag


@pytest.mark.parametrize(("container", "fmt", "layout"), _cases(), ids=lambda v: str(v))
def test_format_matrix_decodes_to_the_source_waveform(tmp_path: Path, container: str, fmt: str, layout: str) -> None:
    signal = known_signal()
    path = tmp_path / f"signal.{container}"
    write_case(path, container, fmt, layout, channels_for(signal, layout))
    decoded = decode_windows(path, CHECK_RATE, window_s=1.0, max_windows=None)
    samples = decoded.windows[0]
    assert decoded.duration_s == pytest.approx(SECONDS, abs=0.05)
    reference = resample(signal, RATE, CHECK_RATE)
    correlation, lag = best_correlation(samples, reference, max_lag=CHECK_RATE * 60 // 1000)
    assert correlation > 0.99, (correlation, lag)
    assert abs(float(samples.mean())) < 0.005  # no DC offset (unsigned 8-bit left at +0.5 had one)
    # neither half scale nor amplified (5.1 is louder: FFmpeg's matrix adds centre and surrounds)
    assert 0.3 < float(samples.std()) / float(reference.std()) < (2.5 if layout == "5.1" else 1.5)


@pytest.mark.parametrize("container", ["wav", "mka"])
def test_float_samples_beyond_full_scale_are_not_clipped(tmp_path: Path, container: str) -> None:
    signal = known_signal() * 6.0  # peaks near 2.0
    path = tmp_path / f"hot.{container}"
    write_case(path, container, "f32", "mono", signal[None])
    decoded = decode_windows(path, CHECK_RATE, window_s=1.0, max_windows=None).windows[0]
    reference = resample(signal, RATE, CHECK_RATE)
    assert float(np.abs(decoded).max()) > 1.5
    assert best_correlation(decoded, reference, max_lag=10)[0] > 0.999


@pytest.mark.parametrize("container", ["wav", "mka"])
def test_out_of_phase_stereo_falls_back_to_one_channel(tmp_path: Path, container: str) -> None:
    signal = known_signal()
    path = tmp_path / f"phase.{container}"
    write_case(path, container, "s16", "stereo", np.stack([signal, -signal]))
    decoded = decode_windows(path, CHECK_RATE, window_s=1.0, max_windows=None).windows[0]
    reference = resample(signal, RATE, CHECK_RATE)
    assert float(decoded.std()) == pytest.approx(float(reference.std()), rel=0.05)
    assert abs(best_correlation(decoded, reference, max_lag=10)[0]) > 0.99
