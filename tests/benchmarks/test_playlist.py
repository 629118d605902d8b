"""The playlist benchmark's command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import playlist as bench
from benchmarks.record import read


def test_bench_prints_one_json_object_with_progress_and_records_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--sizes", "60", "--dims", "16", "--json", "--record", str(tmp_path / "playlist.json")]) == 0
    out, err = capsys.readouterr()
    (row,) = json.loads(out)["rows"]
    assert set(row) == {"backend", "songs", "dim", "p50_ms", "p95_ms"} and (row["songs"], row["dim"]) == (60, 16)
    assert row["backend"] == "sqlite"
    assert 0 < row["p50_ms"] <= row["p95_ms"]
    assert "bulk insert" in err and "60/60" in err
    (recorded,) = read(tmp_path / "playlist.json")["results"]["rows"]
    assert recorded["p50_ms"] == row["p50_ms"] and recorded["build_s"] > 0
    assert "| sqlite | 60 | 16 |" in bench.render(read(tmp_path / "playlist.json")["results"])


def test_bench_defaults_to_the_shipped_models_full_and_compact_embedding_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.shipped_dims() == (1756, 256)
    assert bench.main(["--sizes", "60", "--json", "--record", str(tmp_path / "playlist.json")]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [row["dim"] for row in rows] == [1756, 256]


@pytest.mark.parametrize("sizes", ["ten", "5", ""])
def test_bench_refuses_bad_sizes(sizes: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        bench.main(["--sizes", sizes])
    assert caught.value.code == 2
    assert "--sizes" in capsys.readouterr().err
