"""The shape of the code: no import cycle between the project's modules.

The graph is built from the source (``ast``), not by importing: every ``import`` and ``from ...
import`` statement of every module under the project's packages, at module level and inside
functions alike (a lazy import still runs, so it may not close a cycle either), including
``if TYPE_CHECKING:`` blocks. ``from package import name`` counts as an import of the submodule
``package.name`` when that is a module, else of ``package``. Imports of a package's ``__init__``
implied by importing one of its submodules are not edges (``__init__`` modules are edges only when
named).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGES = ("bot", "cogs", "genre_engine", "storage", "recommender", "training")

# TEMPORARY, to delete when the engine half of issue 11 merges: genre_engine.audio and
# genre_engine.audio_pyav import each other (fixed on that branch, not this one).
KNOWN_CYCLE_EDGES = {("genre_engine.audio", "genre_engine.audio_pyav")}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``module`` imports anywhere in its source."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {module: imports_of(module, path, set(modules)) for module, path in modules.items()}


def test_the_graph_sees_real_imports():
    graph = import_graph()
    assert "bot.services" in graph["bot.console"]
    assert "cogs.client" in graph["bot.__main__"]  # the lazy import inside run()
    assert "cogs.replies" in graph["cogs.client"]


def test_no_import_cycle_between_modules():
    graph = import_graph()
    for importer, imported in KNOWN_CYCLE_EDGES:
        graph[importer].discard(imported)
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
    assert order


def test_the_core_knows_no_discord_and_the_discord_package_is_the_only_one_that_does():
    discord_users = set()
    for module, path in project_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name == "discord" or name.startswith("discord.") for name in names):
                discord_users.add(module.split(".")[0])
    assert discord_users == {"cogs"}
