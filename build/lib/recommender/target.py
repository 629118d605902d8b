"""The genre mix a playlist aims for, from the user's variety knob."""

from __future__ import annotations

import numpy as np


def target_mix(taste: np.ndarray, pool_mix: np.ndarray, variety: float) -> np.ndarray:
    """Blend the taste profile towards the server pool's genre mix.

    ``variety`` 0 gives exactly the taste, 1 the pool's mix (which is uniform when the pool is
    balanced over genres), linearly in between. The pool's own mix rather than a uniform one is the
    far end so that a high variety explores what this server actually shares: a uniform target on a
    pool without classical would ask for classical songs that are not there.
    """
    taste = np.asarray(taste, dtype=np.float64)
    pool_mix = np.asarray(pool_mix, dtype=np.float64)
    if not 0.0 <= variety <= 1.0:
        raise ValueError(f"variety must be in [0, 1], got {variety}")
    blend = (1.0 - variety) * taste + variety * pool_mix
    return blend / blend.sum()
