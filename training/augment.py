"""Data augmentation, each kind switched and sized by its own flag so it can be ablated.

Waveform effects (time stretch, pitch shift, harmonic/percussive remix, noise: the seed paper's
future-work list) are slow librosa calls, so ``copies`` augmented versions of each training clip
are made once, in worker processes, and kept in the segment cache. SpecAugment masks and mixup
act on feature batches on the training device, fresh every step.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import librosa
import numpy as np
import torch
from tqdm import tqdm

from genre_engine.features import FeatureConfig, split_segments
from training.data import LabelledAudio, SegmentCache


@dataclass(frozen=True)
class WaveAugment:
    """Offline waveform effects; a strength of 0 turns that effect off, ``copies=0`` all of them."""

    copies: int = 0
    time_stretch: float = 0.1  # largest relative tempo change either way
    pitch_shift: float = 2.0  # largest shift in semitones either way
    hpss_remix: float = 0.5  # largest gain change of the harmonic and the percussive part
    noise: float = 0.05  # largest white-noise RMS relative to the clip's RMS

    def effects(self) -> dict[str, float]:
        strengths = asdict(self)
        del strengths["copies"]
        return {name: float(value) for name, value in strengths.items() if value > 0}

    @property
    def enabled(self) -> bool:
        return self.copies > 0 and bool(self.effects())


@dataclass(frozen=True)
class SpecAugment:
    """SpecAugment masks on normalised features; a width of 0 turns that kind of mask off."""

    freq_mask: float = 0.0  # largest masked share of the frequency bins, per mask
    time_mask: float = 0.0  # largest masked share of the frames, per mask
    masks: int = 2  # masks of each kind per example

    @property
    def enabled(self) -> bool:
        return self.masks > 0 and (self.freq_mask > 0 or self.time_mask > 0)


def augment_waveform(
    samples: np.ndarray, sample_rate: int, effects: dict[str, float], rng: np.random.Generator
) -> np.ndarray:
    """One random variant of a clip with every enabled effect at a random strength."""
    y = np.asarray(samples, dtype=np.float32)
    if "hpss_remix" in effects:
        harmonic, percussive = librosa.effects.hpss(y)
        gains = 1.0 + rng.uniform(-effects["hpss_remix"], effects["hpss_remix"], size=2)
        y = gains[0] * harmonic + gains[1] * percussive
    if "time_stretch" in effects:
        y = librosa.effects.time_stretch(y, rate=1.0 + rng.uniform(-effects["time_stretch"], effects["time_stretch"]))
    if "pitch_shift" in effects:
        y = librosa.effects.pitch_shift(
            y, sr=sample_rate, res_type="soxr_hq", n_steps=rng.uniform(-effects["pitch_shift"], effects["pitch_shift"])
        )
    if "noise" in effects:
        level = rng.uniform(0.0, effects["noise"]) * np.sqrt(np.mean(np.square(y)))
        y = y + level * rng.standard_normal(len(y))
    return y.astype(np.float32)


def _clip_number(key: str) -> int:
    """A stable integer per clip, so its copies don't depend on which other clips are present."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)


def _make_copy(samples: np.ndarray, features: FeatureConfig, effects: dict[str, float], seed: list[int]) -> np.ndarray:
    augmented = augment_waveform(samples, features.sample_rate, effects, np.random.default_rng(seed))
    return split_segments(augmented, features, max_segments=None)


def precompute_copies(
    data: LabelledAudio,
    segments: list[np.ndarray],
    indices: np.ndarray,
    features: FeatureConfig,
    augment: WaveAugment,
    cache: SegmentCache,
    seed: int,
    workers: int = 1,
    progress: bool = True,
) -> dict[int, list[np.ndarray]]:
    """``augment.copies`` augmented segment arrays for each clip in ``indices`` (cached)."""
    if not augment.enabled:
        return {}
    effects = augment.effects()
    copies: dict[int, list[np.ndarray | None]] = {int(i): [None] * augment.copies for i in indices}
    missing = []
    for i in copies:
        for k in range(augment.copies):
            entry = cache.entry(data.clips[i], features, {"augment": effects, "copy": k, "seed": seed})
            copies[i][k] = cache.load(entry)
            if copies[i][k] is None:
                missing.append((i, k, entry))
    bar = tqdm(total=len(missing), desc="augmenting", unit="copy", disable=not progress or not missing)
    jobs = [
        (segments[i].reshape(-1), features, effects, [seed, _clip_number(data.clips[i].key), k]) for i, k, _ in missing
    ]
    if workers > 1 and len(jobs) > 1:
        # spawn, not fork: the parent may already hold CUDA or OpenMP state that forked children can't use.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = pool.map(_make_copy, *zip(*jobs), chunksize=1)
            _store_all(missing, results, copies, cache, bar)
    else:
        _store_all(missing, (_make_copy(*job) for job in jobs), copies, cache, bar)
    bar.close()
    return copies  # type: ignore[return-value]


def _store_all(
    missing: list[tuple[int, int, Path | None]],
    results: Iterable[np.ndarray],
    copies: dict[int, list[np.ndarray | None]],
    cache: SegmentCache,
    bar: tqdm,
) -> None:
    for (i, k, entry), result in zip(missing, results):
        cache.store(entry, result)
        copies[i][k] = result
        bar.update()


def spec_augment(x: torch.Tensor, config: SpecAugment, generator: torch.Generator) -> torch.Tensor:
    """Zero random frequency bands and time spans of ``[batch, 1, freq, frames]`` (0 is the mean)."""
    batch, _, n_freq, n_time = x.shape
    mask = torch.zeros(batch, 1, n_freq, n_time, dtype=torch.bool, device=x.device)
    for share, size, shape in (
        (config.freq_mask, n_freq, (batch, 1, n_freq, 1)),
        (config.time_mask, n_time, (batch, 1, 1, n_time)),
    ):
        if share <= 0:
            continue
        positions = torch.arange(size, device=x.device)
        for _ in range(config.masks):
            width = (torch.rand(batch, generator=generator, device=x.device) * share * size).long()
            start = (torch.rand(batch, generator=generator, device=x.device) * (size - width + 1)).long()
            band = (positions >= start[:, None]) & (positions < (start + width)[:, None])
            mask |= band.view(shape)
    return x.masked_fill(mask, 0.0)


def mixup(
    x: torch.Tensor, y: torch.Tensor, alpha: float, rng: np.random.Generator, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Blend each example with a random partner; returns the mix, partner labels and the weight.

    The weight is drawn on the host from a seeded generator, so mixing never waits on the device.
    """
    lam = float(rng.beta(alpha, alpha))
    partner = torch.randperm(len(x), generator=generator, device=x.device)
    return lam * x + (1.0 - lam) * x[partner], y[partner], lam
