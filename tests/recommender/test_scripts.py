"""The sweep's expected shape on a small instance, and both scripts' command lines."""

from __future__ import annotations

import json

import pytest

from recommender import bench, sweep


def test_variety_keeps_calibration_while_entropy_and_distance_from_taste_rise() -> None:
    rows = sweep.run_sweep(songs=1_500, users=60, seed=3)
    assert [row.variety for row in rows] == list(sweep.VARIETIES)
    assert all(row.kl_target < 0.1 for row in rows)
    entropy = [row.entropy for row in rows]
    kl_taste = [row.kl_taste for row in rows]
    assert entropy == sorted(entropy) and entropy[-1] - entropy[0] > 0.2
    assert kl_taste == sorted(kl_taste) and kl_taste[-1] > 5 * kl_taste[0]
    assert all(0 < row.coverage <= 1 and 0 < row.ild < 2 for row in rows)


def test_sweep_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert sweep.main(["--songs", "200", "--users", "4", "--seed", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)["rows"]
    assert [set(row) for row in rows] == [
        {"variety", "kl_taste", "kl_target", "entropy", "ild", "coverage"}
    ] * 5
    assert "200 songs" in err


def test_sweep_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert sweep.main(["--songs", "100", "--users", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["variety", "kl_taste", "kl_target", "entropy", "ild", "coverage"]
    assert len(lines) == 6


def test_bench_prints_one_json_object_with_progress(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--sizes", "60", "--dims", "16", "--json"]) == 0
    out, err = capsys.readouterr()
    (row,) = json.loads(out)["rows"]
    assert set(row) == {"backend", "songs", "dim", "p50_ms", "p95_ms"} and (row["songs"], row["dim"]) == (60, 16)
    assert row["backend"] == "sqlite"
    assert 0 < row["p50_ms"] <= row["p95_ms"]
    assert "bulk insert" in err and "60/60" in err


def test_bench_defaults_to_the_shipped_models_full_and_compact_embedding_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.shipped_dims() == (1756, 256)
    assert bench.main(["--sizes", "60", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [row["dim"] for row in rows] == [1756, 256]


@pytest.mark.parametrize("sizes", ["ten", "5", ""])
def test_bench_refuses_bad_sizes(sizes: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        bench.main(["--sizes", sizes])
    assert caught.value.code == 2
    assert "--sizes" in capsys.readouterr().err
