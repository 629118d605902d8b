"""storage and recommender must run where torch is absent (DEVELOPERS.md: no Discord, no torch)."""

import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.support.no_torch import run_without_torch


def test_storage_and_recommender_import_neither_torch_nor_discord() -> None:
    probe = (
        "import sys, storage, recommender.service, studies.sweep, benchmarks.playlist; "
        "print(sorted(m for m in ('torch', 'discord') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


FIT_TAUGHT_GENRES = """
import numpy as np
from recommender.taught import fit
embeddings = np.random.default_rng(0).normal(size=(12, 4))
embeddings[:6] += 3
classifier = fit(np.arange(1, 13), embeddings, {"lo-fi": list(range(1, 7))})
print(classifier.labels, classifier.quality("lo-fi").cv_accuracy > 0.9, "torch" in sys.modules)
"""


def test_taught_genres_are_fitted_without_torch() -> None:
    # The base install has scikit-learn but no torch: the bot fits a server's genres there.
    out = run_without_torch(FIT_TAUGHT_GENRES, check=True)
    assert out.stdout.strip() == "('lo-fi',) True False"
