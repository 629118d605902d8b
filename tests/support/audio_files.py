"""Write synthetic audio in every container the engine promises to read, and the kinds of file that
trip decoders (chained Oggs, free-format mp3s, DSD, several audio tracks, video without sound)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from av.stream import Disposition

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
    path.write_bytes(encode(resample_for(samples, sr, rate), rate, container_format, codec))
    return path


def mux_samples(output: av.container.OutputContainer, stream: av.AudioStream, samples: np.ndarray) -> None:
    """Encode mono float ``samples`` at the stream's rate into ``stream`` of ``output``, to the end."""
    step = stream.codec_context.frame_size or 1024
    for start in range(0, len(samples), step):
        frame = av.AudioFrame.from_ndarray(samples[None, start : start + step], format="fltp", layout="mono")
        frame.sample_rate = stream.codec_context.sample_rate
        frame.pts = start
        output.mux(stream.encode(frame))
    output.mux(stream.encode(None))


# -- the kinds of file issue 20 is about ---------------------------------------------------------------


def encode(samples: np.ndarray, rate: int, container: str, codec: str, **options: str) -> bytes:
    """Mono float ``samples`` at ``rate`` encoded by FFmpeg (``codec`` in ``container``), as bytes."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        mux_samples(output, output.add_stream(codec, rate=rate, layout="mono", options=options), samples)
    return buffer.getvalue()


def ogg_vorbis(samples: np.ndarray, rate: int) -> bytes:
    """One complete Ogg Vorbis stream; two of them one after the other are a chained Ogg."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="OGG", subtype="VORBIS")
    return buffer.getvalue()


def ogg_opus(samples: np.ndarray, rate: int) -> bytes:
    """An Ogg Opus stream, as Discord's voice messages are (the file often has no extension)."""
    buffer = io.BytesIO()
    sf.write(buffer, resample_for(samples, rate, 48000), 48000, format="OGG", subtype="OPUS")
    return buffer.getvalue()


def free_format_mp3(samples: np.ndarray, rate: int = 48000) -> bytes:
    """A valid free-format mp3 (every frame header's bitrate index 0, "free"), which FFmpeg's decoder
    refuses and libsndfile's (mpg123) plays: a 320-kbit/s stream whose frame headers are rewritten,
    the frames keeping their constant length (144 * 320000 / rate bytes, plus padding)."""
    data = bytearray(encode(samples, rate, "mp3", "libmp3lame", b="320k"))
    position = 10 + int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big") if data.startswith(b"ID3") else 0
    while position + 4 <= len(data) and data[position] == 0xFF:
        padding = (data[position + 2] >> 1) & 1
        data[position + 2] &= 0x0F  # bitrate index 0: free format
        position += 144 * 320_000 // rate + padding
    return bytes(data)


DSD_RATE = 2_822_400  # DSD64: 1-bit samples at 64 x 44.1 kHz


def dsf(seconds: float, freq: int = 1050, amplitude: float = 0.5) -> bytes:
    """A mono DSD stream file (.dsf; Sony's format, FFmpeg reads it, nothing here writes it) holding a
    tone, from a second-order sigma-delta modulator. ``freq`` must divide the DSD rate into a whole
    number of bytes per period: one period is modulated (after a few to settle) and repeated."""
    period = DSD_RATE // freq
    assert period * freq == DSD_RATE and period % 8 == 0
    x = amplitude * np.sin(2 * np.pi * freq * np.arange(20 * period) / DSD_RATE)
    first = second = 0.0
    out = 1.0
    bits = np.empty(len(x), np.uint8)
    for k, value in enumerate(x.tolist()):
        first += value - out
        second += first - out
        out = 1.0 if second >= 0 else -1.0
        bits[k] = out > 0
    samples = int(seconds * DSD_RATE)
    data = np.packbits(np.resize(bits[-period:], samples), bitorder="little").tobytes()
    block = 4096
    data += b"\x69" * (-len(data) % block)  # a block is always whole; 0x69 is DSD silence
    fmt = struct.pack("<4sQIIIIIIQII", b"fmt ", 52, 1, 0, 1, 1, DSD_RATE, 1, samples, block, 0)
    body = fmt + struct.pack("<4sQ", b"data", 12 + len(data)) + data
    return struct.pack("<4sQQQ", b"DSD ", 28, 28 + len(body), 0) + body


def two_tracks(first: np.ndarray, second: np.ndarray, rate: int, dispositions: tuple[str, str]) -> bytes:
    """A Matroska file with two AAC audio tracks, each with its title and disposition flags
    (``"default"``, ``"comment"``, ``"default+comment"``, or ``""`` for none)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as output:
        streams = []
        for title, disposition in zip(("Commentary", "Music"), dispositions):
            stream = output.add_stream("aac", rate=rate, layout="mono")
            stream.metadata["title"] = title
            stream.disposition = sum((getattr(Disposition, flag) for flag in disposition.split("+") if flag), 0)
            streams.append(stream)
        for stream, samples in zip(streams, (first, second)):
            mux_samples(output, stream, samples)
    return buffer.getvalue()


def silent_video(seconds: float = 2.0) -> bytes:
    """An MP4 with one video track and no audio track at all (a screen recording)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream = output.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(int(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), index * 10, np.uint8), format="rgb24")
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()
