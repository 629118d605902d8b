"""Python processes where torch cannot be imported, as on the runtime install (``scripts/run``).

torch, torchvision and librosa (training-only dependencies) are made unimportable by a finder ahead
of every other, not blocked with a ``None`` entry in ``sys.modules``, which SciPy's array-API helpers
(under pyloudnorm and scikit-learn) would mistake for an imported torch.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.conftest import REPO_ROOT

ABSENT = """
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "librosa"):
            raise ImportError(f"No module named {name!r}")
sys.meta_path.insert(0, Absent())
"""


def run_without_torch(code: str, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python -c code args`` from the repository root, torch absent; ``options`` go to
    ``subprocess.run`` (output is captured as text)."""
    return subprocess.run(
        [sys.executable, "-c", ABSENT + code, *args], cwd=REPO_ROOT, capture_output=True, text=True, **options
    )


def run_module_without_torch(module: str, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` from the repository root, torch absent (see :func:`run_without_torch`)."""
    code = (
        f"import runpy\nsys.argv = [{module!r}, *sys.argv[1:]]\n"
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"
    )
    return run_without_torch(code, *args, **options)
