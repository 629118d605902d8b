"""Where genrebot's files are, named once: the shipped model files (``data/``, read-only, in the
repository and the Docker image) and the default folder of runtime state (``state/``: databases,
audio copies, caches), which ``GENREBOT_HOME`` moves (``bot.config``)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"  # the shipped model, its export, projection, tag thresholds, musicnn weights
DEFAULT_HOME = REPO_ROOT / "state"  # runtime state unless GENREBOT_HOME says otherwise
DEFAULT_CACHE = DEFAULT_HOME / "cache"  # decoded-audio and reference caches of training and the studies
