"""The journey and map benchmarks' command lines, on small synthetic pools."""

from __future__ import annotations

from pathlib import Path

from benchmarks import journey, pool_map
from benchmarks.record import read


def test_journey_bench_records_each_method_and_a_journey_always_gets_closer(tmp_path: Path) -> None:
    record = tmp_path / "journey.json"
    journey.main(["--no-shared", "--size", "400", "--pairs", "4", "--songs", "6", "--record", str(record)])
    rows = read(record)["results"]["rows"]
    assert [row["method"] for row in rows] == ["journey, variety 0", "journey, variety 0.5", "interpolation", "random"]
    assert all(row["closer_share"] == 1.0 for row in rows if row["method"].startswith("journey"))
    by_method = {row["method"]: row for row in rows}
    assert by_method["journey, variety 0"]["largest_step"] < by_method["random"]["largest_step"]
    assert "| synthetic | 400 | 6 | journey, variety 0 |" in journey.render(read(record)["results"])


def test_map_bench_times_the_map_and_compares_the_projections(tmp_path: Path) -> None:
    record = tmp_path / "pool_map.json"
    pool_map.main(["--sizes", "150", "--out", str(tmp_path / "maps"), "--record", str(record)])
    results = read(record)["results"]
    (drawn,) = results["maps"]
    assert drawn["songs"] == 150 and drawn["total_s"] > 0 and 0 < drawn["pca_trustworthiness"] <= 1
    assert [row["method"] for row in results["projections"]] == ["PCA (scikit-learn)", "t-SNE (scikit-learn)"]
    assert (tmp_path / "maps" / "map-150.png").read_bytes().startswith(b"\x89PNG")
    assert "| 150 |" in pool_map.render(results)
