"""The docs' generated pages, written at build time by mkdocs-gen-files (``mkdocs.yml``):

- ``configuration.md``: the prose of ``docs/configuration.md`` with, in place of its markers, the
  settings table (``bot.config.settings_table``) and each subcommand's ``--help`` (``genrebot.cli``);
- ``model-card.md``: the prose of ``docs/model-card.md`` with the level study's short table
  (``benchmarks.report.level_excerpt``, also in the README) in place of its marker;
- ``capacity.md``: the prose of ``docs/capacity.md`` with the capacity model rendered from the
  simulation's record (``benchmarks.capacity.from_record``) in place of its marker;
- ``measurements/NAME.md`` and ``measurements/index.md``: one page per JSON record a benchmark or a
  study wrote (``benchmarks.report.pages``), so every figure in the docs comes from such a file.

Nothing here is written into the repository; the pages exist only in the built site.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import mkdocs_gen_files

# This checkout's packages, ahead of any installed copy of genrebot.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.capacity import from_record  # noqa: E402
from benchmarks.report import level_excerpt, pages  # noqa: E402
from bot.config import settings_table  # noqa: E402
from genrebot.cli import COMMANDS  # noqa: E402

SETTINGS_MARK = "<!-- settings table: docs/gen_pages.py -->"
SUBCOMMANDS_MARK = "<!-- subcommand options: docs/gen_pages.py -->"
CAPACITY_MARK = "<!-- capacity model: docs/gen_pages.py -->"
LEVEL_MARK = "<!-- level study: docs/gen_pages.py -->"


def subcommand_help() -> str:
    """Each subcommand's ``--help``, as ``genrebot SUBCOMMAND --help`` prints it."""
    sections = []
    for command in COMMANDS:
        parser = argparse.ArgumentParser(
            prog=f"genrebot [settings] {command.name}",
            description=command.help,
            formatter_class=lambda prog: argparse.HelpFormatter(prog, width=100),
        )
        command.arguments(parser)
        sections.append(f"### `{command.name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    return "\n".join(sections)


def fill(name: str, marks: dict[str, str]) -> None:
    """The page ``name`` with each mark replaced by its text; a mark missing from it is an error."""
    with mkdocs_gen_files.open(name, "r") as page:
        template = page.read()
    for mark, text in marks.items():
        if mark not in template:
            raise ValueError(f"docs/{name} lacks the line {mark}")
        template = template.replace(mark, text)
    with mkdocs_gen_files.open(name, "w") as page:
        page.write(template)


fill("configuration.md", {SETTINGS_MARK: settings_table(), SUBCOMMANDS_MARK: subcommand_help()})
fill("capacity.md", {CAPACITY_MARK: from_record()})
fill("model-card.md", {LEVEL_MARK: level_excerpt()})

for name, text in pages().items():
    with mkdocs_gen_files.open(name, "w") as page:
        page.write(text)
