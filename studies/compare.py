"""The model comparison's measurement page, from the file ``python -m training.compare`` wrote.

The comparison trains every configuration over the same cross-validation folds, on a GPU, and keeps
its figures in ``data/compare/results.json`` (``training.compare``), which stays their one source:
:func:`record` reads that file as a record (``benchmarks.record``'s shape) for ``benchmarks.report``,
with the command rebuilt from the run's ``protocol``, and :func:`render` writes the page's body with
``training.compare``'s own table. The run recorded no date, commit or machine load, so the page has none.
Not runnable: to measure again, run the command the page shows (a GPU helps).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from benchmarks.markdown import table
from benchmarks.shared import REPO_ROOT
from training.compare import markdown_table

RESULTS = REPO_ROOT / "data" / "compare" / "results.json"
TITLE = "Model comparison"


def command(results: dict[str, Any]) -> str:
    """The ``python -m training.compare`` command that ``results`` records (its ``protocol``), writing
    to where the file is kept."""
    protocol = results["protocol"]
    return shlex.join(
        [
            "python",
            "-m",
            "training.compare",
            "--data",
            protocol["data"],
            "--out",
            str(RESULTS.parent.relative_to(REPO_ROOT)),
        ]
        + ["--folds", str(protocol["folds"]), "--repeats", str(protocol["repeats"]), "--seed", str(protocol["seed"])]
        + ["--jobs", str(protocol["jobs"]), "--configs", ",".join(results["configs"]), *protocol["options"]]
    )


def record(path: Path = RESULTS) -> dict[str, Any]:
    """The comparison's results as a record: name, title, command and results (no date, commit,
    machine or load: the run did not keep them)."""
    results = json.loads(path.read_text())
    return {"name": "compare", "title": TITLE, "command": command(results), "results": results}


def render(results: dict[str, Any]) -> str:
    """The measurement page's body: where and how the comparison ran, its table, and each row's command."""
    protocol = results["protocol"]
    commands = table(
        ["config", "reproduce this row (same folds and seeds)"],
        ([f"`{name}`", f"`{config['command']}`"] for name, config in results["configs"].items()),
    )
    return "\n\n".join(
        [
            f"Trained on {', '.join(protocol['devices'])}, {protocol['jobs']} folds at once, with the command "
            f"above (its `protocol` in `{RESULTS.relative_to(REPO_ROOT)}`); that run kept no date, commit or "
            "machine load.",
            markdown_table(results),
            commands,
        ]
    )
