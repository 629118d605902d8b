"""What every benchmark and study writes: its figures as JSON, with the command, date, machine and
load they were measured under, so that the docs' measurement pages are built from files, never
pasted (``benchmarks.report``).

A record is one JSON object::

    {"name": "engine", "title": "...", "command": "python -m benchmarks.engine",
     "date": "2026-12-06T10:00:00+00:00", "commit": "82a0eb8...",
     "machine": {"cpu": "...", "cores": 2, "memory_gib": 23.4, "python": "3.11.7", "platform": "Linux-..."},
     "load": {"before": [0.5, 0.4, 0.3], "after": [1.9, 1.1, 0.6]},
     "results": {...}}

``results`` is the benchmark's own (its ``render`` turns it into Markdown). The latest record of each
benchmark or study is kept in the repository, in ``benchmarks/results/NAME.json`` or
``studies/results/NAME.json``; running one again replaces it (``--record PATH`` writes it elsewhere,
as the tests do).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.shared import REPO_ROOT

BENCHMARK_RESULTS = REPO_ROOT / "benchmarks" / "results"
STUDY_RESULTS = REPO_ROOT / "studies" / "results"
DATABASE_VARIABLE = "GENREBOT_TEST_DATABASE_URL"  # the throw-away server of scripts/postgres


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages (``os.getloadavg``), rounded."""
    return [round(value, 2) for value in os.getloadavg()]


def machine() -> dict[str, Any]:
    """The machine a figure was measured on: processor model, cores, memory, Python, platform."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gib = round(pages * page_size / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def shown_command(module: str, args: Sequence[str]) -> str:
    """``python -m MODULE ARGS`` as typed, with the URL of the throw-away PostgreSQL server of
    ``scripts/postgres`` written as the variable that holds it (its port changes every run)."""
    command = shlex.join(["python", "-m", module, *args])
    url = os.environ.get(DATABASE_VARIABLE)
    return command.replace(shlex.quote(url), f'"${DATABASE_VARIABLE}"') if url else command


def shown_path(path: Path) -> str:
    """A file a study wrote, as its record names it: relative to the repository when inside it."""
    path = path.resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def add_record_option(parser: argparse.ArgumentParser) -> None:
    """``--record PATH``: where to write the run's record instead of the repository's results folder."""
    parser.add_argument(
        "--record", type=Path, metavar="PATH", help="write the JSON record here (default: the repository's results)"
    )


def commit() -> str | None:
    """The repository's commit, with ``+`` when the work tree has changes (None outside git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if dirty else "")


class Recorder:
    """Notes the date, commit and load at the start of a run and writes the record at its end::

    recorder = Recorder("engine", "Engine speed per file", "benchmarks.engine", argv)
    ...                                        # measure
    path = recorder.write(results)             # benchmarks/results/engine.json
    """

    def __init__(
        self, name: str, title: str, module: str, argv: Sequence[str] | None, folder: Path = BENCHMARK_RESULTS
    ) -> None:
        self.name = name
        self.title = title
        self.folder = folder
        self.command = shown_command(module, list(sys.argv[1:] if argv is None else argv))
        self.date = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        self.commit = commit()  # at the start: a study may change tracked files it writes (data/tags.json)
        self.load_before = load_average()

    def record(self, results: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "command": self.command,
            "date": self.date,
            "commit": self.commit,
            "machine": machine(),
            "load": {"before": self.load_before, "after": load_average()},
            "results": results,
        }

    def write(self, results: dict[str, Any], path: Path | None = None) -> Path:
        """Write the record (default ``folder/NAME.json``), say where on stderr, and return its path."""
        path = path or self.folder / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.record(results), indent=1, ensure_ascii=False) + "\n")
        print(f"record: {path}", file=sys.stderr)
        return path


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
