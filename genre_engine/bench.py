"""``python -m genre_engine.bench [FILES...] [--json]``: end-to-end speed of the engine on real audio.

Measures one-file-at-a-time latency (decode, resample, features, model) normalised per 30 s of
input audio, batch-indexing throughput through ``classify_many`` (files per second, and 30-s
stretches of input audio per second), and, in the same run, a naive
reference: ``librosa.load`` at the native rate, ``librosa.resample``, librosa features and the
model one segment at a time. The reference analyses the same segments as the engine, so the
speed-up measures engineering, not a smaller workload.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import torch

from genre_engine.audio import find_audio_files
from genre_engine.engine import GenreEngine
from genre_engine.features import FeatureConfig, split_segments

DEFAULT_POOL = Path(__file__).resolve().parent.parent.parent / "shared" / "pool"


def naive_features(segment: np.ndarray, config: FeatureConfig) -> np.ndarray:
    if config.kind == "stft":
        power = np.abs(librosa.stft(segment, n_fft=config.n_fft, hop_length=config.hop_length)) ** 2
        return librosa.power_to_db(power, top_db=None)
    mel = librosa.feature.melspectrogram(y=segment, sr=config.sample_rate, n_fft=config.n_fft,
                                         hop_length=config.hop_length, n_mels=config.n_mels)
    if config.kind == "musicnn":
        return np.log10(10000.0 * mel[:, : config.frames] + 1.0)
    return librosa.power_to_db(mel, top_db=None)


@torch.inference_mode()
def naive_classify(engine: GenreEngine, path: Path) -> np.ndarray:
    config = engine.bundle.features
    y, native_rate = librosa.load(path, sr=None, mono=True)
    y = librosa.resample(y, orig_sr=native_rate, target_sr=config.sample_rate)
    probs = []
    for segment in split_segments(y, config, engine.max_segments):
        features = torch.from_numpy(naive_features(segment, config)).float()[None, None]
        logits = engine.bundle.model(engine.bundle.normalize(features))
        probs.append(torch.softmax(logits, dim=1)[0].numpy())
    return np.mean(probs, axis=0)


def per_30s(ms: float, duration_s: float) -> float:
    return ms * 30.0 / duration_s


def measure(engine: GenreEngine, files: list[Path], repeats: int) -> dict:
    durations = {}
    engine.classify(files[0])  # warm-up: first-call allocations and lazy imports
    fast, naive = [], []
    for _ in range(repeats):
        for path in files:
            started = time.perf_counter()
            prediction = engine.classify(path)
            fast.append(per_30s((time.perf_counter() - started) * 1000, prediction.duration_s))
            durations[path] = prediction.duration_s
            started = time.perf_counter()
            naive_classify(engine, path)
            naive.append(per_30s((time.perf_counter() - started) * 1000, prediction.duration_s))
        print(f"  latency pass done ({len(fast)} files)", file=sys.stderr)
    batch_files = files * repeats
    started = time.perf_counter()
    for _source, result in engine.classify_many(batch_files):
        if isinstance(result, Exception):
            raise result
    batch_s = time.perf_counter() - started
    p50, p95 = np.percentile(fast, [50, 95])
    naive_p50 = float(np.percentile(naive, 50))
    return {
        "files": len(files),
        "audio_s": round(sum(durations.values()), 1),
        "analysed_s_per_file": engine.max_segments * engine.bundle.features.segment_s,
        "p50_ms_per_30s": round(float(p50), 2),
        "p95_ms_per_30s": round(float(p95), 2),
        "clips_per_s": round(len(batch_files) / batch_s, 2),
        # The same run counted in 30-s stretches of input audio: long songs are read in 10 windows.
        "audio_30s_per_s": round(sum(durations[p] for p in batch_files) / 30.0 / batch_s, 2),
        "naive_p50_ms_per_30s": round(naive_p50, 2),
        "speedup": round(naive_p50 / float(p50), 2),
        "torch_threads": torch.get_num_threads(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genre_engine.bench", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help=f"audio files or folders (default: {DEFAULT_POOL})")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    files = find_audio_files(args.files or [DEFAULT_POOL])
    if not files:
        parser.error("no audio files found")
    engine = GenreEngine.from_checkpoint(args.checkpoint)
    result = measure(engine, files, args.repeats)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
