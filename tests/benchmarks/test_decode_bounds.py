"""``python -m benchmarks.decode_bounds``: one run crafts each file, measures it in a child process and
writes a record its ``render`` turns into the docs' page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import decode_bounds as bench


def test_a_run_measures_each_file_in_a_child_and_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "decode_bounds.json"
    assert bench.main(["--minutes", "2", "--out", str(out)]) == 0

    record = json.loads(out.read_text())
    rows = {row["file"]: row for row in record["results"]["rows"]}
    assert record["name"] == "decode_bounds" and set(rows) == set(bench.KINDS)
    honest = rows["honest FLAC"]
    assert honest["outcome"] == "analysed: 10 windows" and honest["claims_s"] is None
    assert honest["holds_s"] == pytest.approx(120.1, abs=0.1) and honest["decoded_s"] < 60
    for name in ("bomb, claims 1/12,000 s a frame", "bomb, claims a tenth"):
        assert rows[name]["outcome"].startswith("InflatedAudioError: That file says it lasts")
        assert rows[name]["decoded_s"] < 2 * bench.BLOCK / bench.RATE
    assert rows["bomb, claims a tenth"]["claims_s"] == pytest.approx(12.0, abs=0.1)
    page = bench.render(record["results"])
    assert page.count("\n| ") == 2 + len(rows) and "| honest FLAC | " in page
    assert str(out) in capsys.readouterr().out
