"""The measurement pages: every record kept in the repository renders, and every benchmark and study
that runs writes one and renders it."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from benchmarks import report
from benchmarks.record import BENCHMARK_RESULTS, STUDY_RESULTS, Recorder, read, shown_command
from tests.conftest import REPO_ROOT

FOLDERS = {"benchmarks": BENCHMARK_RESULTS, "studies": STUDY_RESULTS}


def runnable(package: str) -> list[str]:
    """The package's modules that run as ``python -m package.NAME`` and measure (the report itself aside)."""
    return sorted(
        path.stem
        for path in (REPO_ROOT / package).glob("*.py")
        if 'if __name__ == "__main__":' in path.read_text() and f"{package}.{path.stem}" != "benchmarks.report"
    )


@pytest.mark.parametrize("package", FOLDERS)
def test_every_runnable_benchmark_and_study_renders_and_has_a_record_kept(package: str) -> None:
    names = runnable(package)
    assert names, f"no runnable module found in {package}"
    for name in names:
        assert callable(getattr(importlib.import_module(f"{package}.{name}"), "render", None)), f"{package}.{name}"
    assert names == sorted(path.stem for path in FOLDERS[package].glob("*.json"))


def test_every_record_kept_renders_its_page() -> None:
    pages = report.pages()
    kept = [(package, read(path)) for package, folder in FOLDERS.items() for path in sorted(folder.glob("*.json"))]
    for package, record in kept:
        assert record["name"] == Path(record["name"]).stem and record["command"].startswith(
            f"python -m {package}.{record['name']}"
        )
        page = pages[f"measurements/{record['name']}.md"]
        assert page.startswith(f"# {record['title']}\n\nMeasured by `{record['command']}` on ") and "|" in page
    assert set(pages) == {f"measurements/{record['name']}.md" for _, record in kept} | {
        "measurements/compare.md",
        "measurements/index.md",
    }


def test_the_model_comparison_page_says_how_and_where_it_ran_from_its_own_file() -> None:
    page = report.pages()["measurements/compare.md"]
    protocol = json.loads((REPO_ROOT / "data" / "compare" / "results.json").read_text())["protocol"]
    assert f"--data {protocol['data']}" in page and f"--repeats {protocol['repeats']}" in page
    assert f"Trained on {protocol['devices'][0]}, {protocol['jobs']} folds at once" in page
    assert "UTC" not in page.split("\n\n")[1]  # that run kept no date


def test_a_record_names_the_throw_away_database_by_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENREBOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5433/postgres")
    command = shown_command("benchmarks.playlist", ["--database-url", "postgresql://postgres@127.0.0.1:5433/postgres"])
    assert command == 'python -m benchmarks.playlist --database-url "$GENREBOT_TEST_DATABASE_URL"'
    recorder = Recorder("x", "X", "benchmarks.x", ["--sizes", "60"], folder=tmp_path)
    record = read(recorder.write({"figure": 1}, tmp_path / "x.json"))
    assert record["command"] == "python -m benchmarks.x --sizes 60" and record["results"] == {"figure": 1}
    assert record["load"]["before"] and record["machine"]["cores"]
