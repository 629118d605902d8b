"""Write synthetic audio in every container the engine promises to read."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf

# extension -> (soundfile format, subtype, sample rate); None means "encode with PyAV" below.
SOUNDFILE_FORMATS = {
    "wav": ("WAV", "PCM_16", 22050),
    "flac": ("FLAC", None, 22050),
    "ogg": ("OGG", "VORBIS", 44100),
    "opus": ("OGG", "OPUS", 48000),
    "mp3": ("MP3", None, 44100),
    "au": ("AU", "PCM_16", 22050),
}
PYAV_FORMATS = {"m4a": ("mp4", "aac", 44100), "webm": ("webm", "libopus", 48000)}
ALL_FORMATS = tuple(SOUNDFILE_FORMATS) + tuple(PYAV_FORMATS)


def resample_for(samples: np.ndarray, sr: int, target: int) -> np.ndarray:
    positions = np.arange(int(len(samples) * target / sr)) * sr / target
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def write_audio(path: Path, samples: np.ndarray, sr: int) -> Path:
    """Encode mono float samples at ``sr`` into ``path``, the container chosen by its extension."""
    ext = path.suffix.lstrip(".")
    if ext in SOUNDFILE_FORMATS:
        fmt, subtype, rate = SOUNDFILE_FORMATS[ext]
        sf.write(path, resample_for(samples, sr, rate), rate, format=fmt, subtype=subtype)
        return path
    container_format, codec, rate = PYAV_FORMATS[ext]
    data = resample_for(samples, sr, rate)
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        frame_size = stream.codec_context.frame_size or 1024
        for start in range(0, len(data), frame_size):
            chunk = data[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            frame.sample_rate = rate
            for frame_packet in stream.encode(frame):
                container.mux(frame_packet)
        for frame_packet in stream.encode(None):
            container.mux(frame_packet)
    return path
