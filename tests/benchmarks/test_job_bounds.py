"""``python -m benchmarks.job_bounds``: one run measures isolation, the kill at the time limit, the
child that replaces it and the refusal of a job past the memory limit."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import job_bounds


def test_one_run_measures_every_bound_and_renders_them(exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "job_bounds.json"

    assert job_bounds.main(["--checkpoint", str(exported), "--seconds", "5", "--repeats", "1", "--out", str(out)]) == 0

    results = json.loads(out.read_text())["results"]
    assert results["overrun"]["outcome"].startswith("JobTimeoutError")
    assert results["replacement"]["outcome"] == "classified"
    assert results["greedy"]["outcome"].startswith("JobMemoryError")
    assert results["child"]["VmData"] < results["memory_limit_mib"]
    assert "| a 30-s job under a limit of 1 s: refused after |" in job_bounds.render(results)
