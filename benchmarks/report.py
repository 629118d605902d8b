"""The docs' measurement pages, built from the records the benchmarks and studies wrote.

    python -m benchmarks.report [--out DIR]     # write the pages as Markdown files (default: print a list)

Each record (``benchmarks/results/NAME.json``, ``studies/results/NAME.json``; see
``benchmarks.record``) becomes ``measurements/NAME.md``: a header with what measured it (command,
date, commit, machine, load) and the body the benchmark's or study's own ``render(results)`` writes.
The model comparison's figures come from the file ``training.compare`` wrote
(``data/compare/results.json``, read by ``studies.compare``). The docs build calls :func:`pages`
(``docs/gen_pages.py``), so a figure reaches the docs only from a file a run wrote.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from benchmarks.record import BENCHMARK_RESULTS, STUDY_RESULTS, read
from studies import compare, level

SOURCES = (("benchmarks", BENCHMARK_RESULTS), ("studies", STUDY_RESULTS))
FOLDER = "measurements"


def header(record: dict[str, Any]) -> str:
    """The page's title and what measured it (:func:`provenance`)."""
    return f"# {record['title']}\n\n{provenance(record)}\n\n"


def provenance(record: dict[str, Any]) -> str:
    """What measured a record, as a sentence: the command, then the date, commit, machine and load
    where the record has them."""
    sentence = f"Measured by `{record['command']}`"
    if record.get("date"):
        sentence += f" on {record['date'][:16].replace('T', ' ')} UTC"
    if record.get("commit"):
        sentence += f" at commit `{record['commit'][:12]}`"
    if machine := record.get("machine"):
        memory = f", {machine['memory_gib']} GiB" if machine.get("memory_gib") else ""
        sentence += f", on {machine['cpu']} ({machine['cores']} cores{memory}; Python {machine['python']})"
    if load := record.get("load"):
        sentence += f", load average {load['before'][0]} at the start and {load['after'][0]} at the end"
    return sentence + "."


def level_excerpt() -> str:
    """The level study's short table (``studies.level.summary``) with what measured it: the same
    text in the README and the model card, from ``studies/results/level.json``."""
    record = read(STUDY_RESULTS / "level.json")
    return f"{level.summary(record['results'])}\n\n{provenance(record)}\n"


def records() -> list[tuple[str, dict[str, Any]]]:
    """(package, record) for every record kept, benchmarks first, each by name; the model
    comparison's last."""
    kept = [(package, read(path)) for package, folder in SOURCES for path in sorted(folder.glob("*.json"))]
    return [*kept, ("studies", compare.record())]


def page(package: str, record: dict[str, Any]) -> str:
    module = importlib.import_module(f"{package}.{record['name']}")
    return header(record) + module.render(record["results"]).rstrip() + "\n"


def pages() -> dict[str, str]:
    """``{"measurements/NAME.md": markdown}`` for every record, and ``measurements/index.md`` listing them."""
    built = {f"{FOLDER}/{record['name']}.md": page(package, record) for package, record in records()}
    lines = [
        "# Measurements",
        "",
        "Every figure in these docs comes from one of these pages, and every page from a JSON record that "
        "the command it names wrote (`benchmarks/results/`, `studies/results/`; the model comparison's is "
        "`data/compare/results.json`). Run the command again "
        "to measure on your machine.",
        "",
    ]
    for package, label in (("benchmarks", "Benchmarks"), ("studies", "Studies")):
        lines += [f"## {label}", ""]
        lines += [
            f"- [{record['title']}]({record['name']}.md): `{record['command']}`"
            for source, record in records()
            if source == package
        ]
        lines.append("")
    built[f"{FOLDER}/index.md"] = "\n".join(lines)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the pages under this folder")
    args = parser.parse_args(argv)
    for name, text in pages().items():
        if args.out:
            target = args.out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
