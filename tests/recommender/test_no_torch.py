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
