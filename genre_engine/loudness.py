"""Loudness normalisation of what the model sees, so that its answer does not depend on playback level.

The front ends are level-dependent (musicnn's ``log10(10000·mel + 1)`` compresses quiet and loud
bins differently), so the same song 12 dB quieter could get another genre. A model whose
``FeatureConfig.loudness_lufs`` is set therefore sees every input at that integrated loudness: the
segments the engine analyses (or a training clip's segments) are scaled by one gain that brings the
integrated loudness of their content (ITU-R BS.1770-4 / EBU R128: K-weighting, 400-ms blocks,
absolute and relative gating; measured with pyloudnorm, Steinmetz & Reiss 2021) to the target. One
gain for the whole input keeps its dynamics: a quiet intro stays quieter than the chorus.

Gain is applied in float, so a boosted quiet master may exceed full scale; nothing is clipped
(the front end takes any level). Segments without content (``genre_engine.samples.has_content``)
take no part in the measurement.
"""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm

from genre_engine.samples import has_content

_QUIET_BOOST_DB = 60.0  # content entirely under BS.1770's -70 LUFS absolute gate is measured this much louder
_QUIET_BOOST = 10 ** (_QUIET_BOOST_DB / 20)


def integrated_loudness(segments: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of ``segments`` (float ``[n, samples]``, mono, ``rate`` Hz) taken
    one after the other, over the rows with content; ``-inf`` when none has any.

    BS.1770-4 gating (pyloudnorm's ``Meter``). Input quieter than the -70 LUFS absolute gate
    everywhere (still content by :func:`~genre_engine.samples.has_content`, e.g. a recording at -75
    LUFS) is measured 60 dB louder and the 60 dB taken off again, so it can still be brought to the target.
    """
    content = np.asarray(segments, dtype=np.float64)[has_content(segments)]
    if content.size == 0:
        return -math.inf
    meter = pyloudnorm.Meter(rate)
    samples = content.reshape(-1)
    if len(samples) < meter.block_size * rate:  # shorter than one 400-ms block: repeat it
        samples = np.tile(samples, math.ceil(meter.block_size * rate / len(samples)))
    loudness = meter.integrated_loudness(samples)
    if not math.isfinite(loudness):  # every block under the absolute gate: measure it raised, then lower it
        loudness = meter.integrated_loudness(samples * _QUIET_BOOST) - _QUIET_BOOST_DB
    return float(loudness)


def normalise(segments: np.ndarray, rate: int, target_lufs: float | None) -> np.ndarray:
    """``segments`` (float32 ``[n, samples]``) scaled by the one gain that brings their content's
    integrated loudness to ``target_lufs``; unchanged when ``target_lufs`` is None (a model trained
    without normalisation) or nothing has content."""
    if target_lufs is None:
        return segments
    loudness = integrated_loudness(segments, rate)
    if not math.isfinite(loudness):
        return segments
    gain = np.float32(10 ** ((target_lufs - loudness) / 20))
    return (np.asarray(segments, dtype=np.float32) * gain).astype(np.float32, copy=False)
