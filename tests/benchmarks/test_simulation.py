"""The simulation benchmark on a small configuration, and the capacity model's arithmetic."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from benchmarks import capacity
from benchmarks import simulation as bench
from benchmarks.record import read


def test_a_small_run_serves_every_kind_and_renders_the_capacity_model(tmp_path: Path, shared_dir: Path) -> None:
    argv = ["--servers", "6", "--max-songs", "200", "--rate", "30", "--seconds", "1", "--budget-mb", "0.1"]
    argv += ["--model-songs", "1", "--radio-seconds", "1", "--record", str(tmp_path / "simulation.json")]
    assert bench.main(argv) == 0
    results = read(tmp_path / "simulation.json")["results"]
    (row,) = results["backends"]
    assert all(row["requests"][kind]["count"] > 0 for kind in ("playlist", "similar", "radio"))
    assert 0 < row["cache"]["hit_rate"] < 1 and row["cache"]["evictions"] > 0  # 0.1 MiB holds a few pools
    assert row["database_bytes_per_song"] > row["memory_bytes_per_song"] > 1000
    assert results["engine"]["classify_cpu_s"] > 0 and results["engine"]["radio_cpu_s_per_audio_s"] > 0
    page = bench.render(results)
    assert "| sqlite | playlist |" in page and "- **100,000 servers**:" in page


@pytest.mark.parametrize("text", ["classify=1,dance=1", "playlist=-1", "playlist"])
def test_bad_mixes_are_refused(text: str) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--mix", text])


def measured(**engine: float) -> dict:
    row = {
        "backend": "postgresql",
        "cpu_ms_alone": {"classify": 10.0, "playlist": 10.0, "similar": 10.0, "radio": 10.0},
        "memory_bytes_per_song": 1000,
        "database_bytes_per_song": 2000,
        "rss_end_mb": 200.0,
    }
    return {
        "setup": {"mean_songs": 100.0, "mix": [0.1, 0.4, 0.3, 0.2]},
        "backends": [row],
        "engine": {"classify_cpu_s": 1.0, "radio_cpu_s_per_audio_s": 0.01, "model_mb": 50.0, **engine},
        "assumptions": asdict(capacity.Assumptions()),
    }


def test_the_capacity_model_multiplies_measured_costs_by_the_load() -> None:
    need = capacity.step(100_000, measured())
    assumed = capacity.Assumptions()
    peak = assumed.peak_to_mean
    assert need["songs"] == 10_000_000 and need["database_gb"] == pytest.approx(20.0)
    requests = 100_000 * assumed.requests_per_server_day * peak / 86_400
    shares = 100_000 * assumed.shares_per_server_day * peak / 86_400
    radios = 100_000 * assumed.radio_hours_per_server_day * peak / 24
    cores = requests * 0.01 + shares * 0.01 + radios * 0.01
    assert need["bot_cores"] == pytest.approx(cores)
    assert need["processes"] == -(-cores // assumed.busy_target)
    assert need["workers"] == -(-shares * 1.0 // assumed.busy_target)
    assert need["process_mb"] == 250.0 and need["pools_mb_per_process"] == pytest.approx(10_000 / need["processes"])


def test_a_small_bot_stays_on_one_process_and_sqlite() -> None:
    results = measured()
    results["assumptions"]["radio_hours_per_server_day"] = 0.0
    need = capacity.step(1_000, results)
    assert (need["processes"], need["shards"]) == (1, 1)
    assert capacity.changes(need, capacity.Assumptions()).startswith("one process on SQLite")
