"""Where the data beside the repository lives, found in this one place for every benchmark, study and
test: ``../shared`` next to the repository root, or the folder ``GENREBOT_SHARED`` names.

Read-only input (labelled GTZAN clips, real songs for a pool, real-world problem files); nothing in
it is ever copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GENREBOT_SHARED") or REPO_ROOT.parent / "shared")
CLIPS = SHARED / "gtzan" / "clips"  # <genre>/<genre>.0000N.wav, 7 per genre
POOL = SHARED / "pool"  # full-length songs in Ogg Vorbis
FIELD = SHARED / "field"  # real-world files genrebot got wrong, with what is right
FIELD2 = SHARED / "field2"
