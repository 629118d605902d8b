"""The /playlist bench on PostgreSQL beside SQLite (needs the test server of scripts/test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import playlist as bench
from tests.support.stores import NO_SERVER, TEST_DATABASE_URL


@pytest.mark.skipif(not TEST_DATABASE_URL, reason=NO_SERVER)
def test_bench_measures_both_backends_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--sizes", "60", "--dims", "16", "--database-url", TEST_DATABASE_URL, "--json"]
    assert bench.main([*args, "--record", str(tmp_path / "playlist.json")]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(row["backend"], row["songs"]) for row in rows] == [("sqlite", 60), ("postgresql", 60)]
    assert all(0 < row["p50_ms"] <= row["p95_ms"] for row in rows)


def test_bench_refuses_a_url_that_is_not_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "60", "--database-url", "data/x.db"])
    assert "postgresql://" in capsys.readouterr().err
