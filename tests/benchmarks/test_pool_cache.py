"""The pool cache benchmark on a small configuration: its record and its page."""

from __future__ import annotations

from pathlib import Path

from benchmarks import pool_cache as bench
from benchmarks.record import read


def test_a_small_run_records_memory_and_appends(tmp_path: Path) -> None:
    argv = ["--servers", "6", "--songs", "50", "--budget-mb", "0.2", "--append-songs", "300", "--appends", "5"]
    assert bench.main([*argv, "--record", str(tmp_path / "pool_cache.json")]) == 0
    results = read(tmp_path / "pool_cache.json")["results"]
    (row,) = results["backends"]
    bounded, unbounded = row["memory"]
    assert bounded["budget_mb"] == 0.2 and bounded["bytes"] <= 0.2 * 2**20 and bounded["evictions"] > 0
    assert unbounded["budget_mb"] is None and unbounded["pools"] == 7 and unbounded["evictions"] == 0  # 6 + 1st
    assert set(row["appends"]) == {
        f"{path}_{load}" for path in ("in_place", "copying", "speed_up") for load in ("idle", "busy")
    }
    page = bench.render(results)
    assert "| sqlite | no limit |" in page and "| sqlite | idle |" in page


def test_the_copying_path_is_only_swapped_in_while_asked() -> None:
    kept = bench.CachedPool.with_song
    with bench.copying_appends():
        assert bench.CachedPool.with_song is bench.copying_with_song
    assert bench.CachedPool.with_song is kept
