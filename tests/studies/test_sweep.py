"""The variety sweep's expected shape on a small instance, and its command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.record import read
from studies import sweep


def test_variety_keeps_calibration_while_entropy_and_distance_from_taste_rise() -> None:
    rows = sweep.run_sweep(songs=1_500, users=60, seed=3)
    assert [row.variety for row in rows] == list(sweep.VARIETIES)
    assert all(row.kl_target < 0.1 for row in rows)
    entropy = [row.entropy for row in rows]
    kl_taste = [row.kl_taste for row in rows]
    assert entropy == sorted(entropy) and entropy[-1] - entropy[0] > 0.2
    assert kl_taste == sorted(kl_taste) and kl_taste[-1] > 5 * kl_taste[0]
    assert all(0 < row.coverage <= 1 and 0 < row.ild < 2 for row in rows)


def test_sweep_prints_one_json_object_and_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "sweep.json"
    assert sweep.main(["--songs", "200", "--users", "4", "--seed", "1", "--json", "--record", str(record)]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)["rows"]
    assert [set(row) for row in rows] == [{"variety", "kl_taste", "kl_target", "entropy", "ild", "coverage"}] * 5
    assert "200 songs" in err
    results = read(record)["results"]
    assert results["rows"] == rows and (results["songs"], results["users"]) == (200, 4)
    assert "| 1.00 |" in sweep.render(results)


def test_sweep_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sweep.main(["--songs", "100", "--users", "2", "--record", str(tmp_path / "sweep.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["variety", "kl_taste", "kl_target", "entropy", "ild", "coverage"]
    assert len(lines) == 6
