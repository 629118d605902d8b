"""storage and recommender must run where torch is absent (DEVELOPERS.md: no Discord, no torch)."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_storage_and_recommender_import_neither_torch_nor_discord() -> None:
    probe = ("import sys, storage, recommender.service, recommender.sweep, recommender.bench; "
             "print(sorted(m for m in ('torch', 'discord') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_taught_genres_are_fitted_without_torch() -> None:
    # The base install has scikit-learn but no torch: the bot fits a server's genres there.
    probe = ("import sys, numpy as np; sys.modules['torch'] = None; "
             "from recommender.taught import fit; rng = np.random.default_rng(0); "
             "e = rng.normal(size=(12, 4)); e[:6] += 3; "
             "c = fit(np.arange(1, 13), e, {'lo-fi': list(range(1, 7))}); "
             "print(c.labels, c.quality('lo-fi').cv_accuracy > 0.9)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "('lo-fi',) True"
