"""The shape of the code: data flows one way, engine -> storage -> recommender -> core services (``bot``)
-> front ends (``cogs``, ``console``) -> the entry point (``genrebot``), with no import cycle between
modules, and the product never imports the benchmarks or the studies.

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

PACKAGES = (
    "bot",
    "cogs",
    "console",
    "genrebot",
    "genre_engine",
    "storage",
    "recommender",
    "training",
    "benchmarks",
    "studies",
)
PRODUCT = ("genre_engine", "storage", "recommender", "training", "bot", "cogs", "console", "genrebot")

# What each product package may import besides itself: the one direction of data.
ALLOWED = {
    "genre_engine": set(),
    "storage": {"genre_engine"},
    "recommender": {"genre_engine", "storage"},
    "training": {"genre_engine"},
    "bot": {"genre_engine", "storage", "recommender"},
    "cogs": {"bot", "genre_engine", "storage", "recommender"},
    "console": {"bot", "genre_engine", "storage", "recommender"},
    "genrebot": {"bot", "cogs", "console", "genre_engine", "storage", "recommender"},
}
# ``python -m bot`` keeps working: bot/__main__.py only hands over to the entry point.
ENTRY_ALIASES = {("bot.__main__", "genrebot.cli")}


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
    assert "bot.services" in graph["console.repl"]
    assert "cogs.client" in graph["genrebot.cli"]  # the lazy import inside run()
    assert "cogs.replies" in graph["cogs.client"]


def test_no_import_cycle_between_modules():
    graph = import_graph()
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
    assert order


def test_the_core_knows_no_discord_and_the_discord_package_is_the_only_one_that_does():
    discord_users = set()
    for module, path in project_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name == "discord" or name.startswith("discord.") for name in names):
                discord_users.add(module.split(".")[0])
    assert discord_users == {"cogs"}


def package_edges() -> set[tuple[str, str, str]]:
    """(importer module, imported module, imported package) for every import across packages."""
    return {
        (importer, imported, imported.split(".")[0])
        for importer, targets in import_graph().items()
        for imported in targets
        if imported.split(".")[0] != importer.split(".")[0]
    }


def test_each_package_imports_only_what_comes_before_it_in_the_flow_of_data():
    wrong = sorted(
        (importer, imported)
        for importer, imported, package in package_edges()
        if importer.split(".")[0] in ALLOWED
        and package not in ALLOWED[importer.split(".")[0]]
        and (importer, imported) not in ENTRY_ALIASES
    )
    assert wrong == []


def test_no_product_package_imports_the_benchmarks_or_the_studies():
    assert (
        sorted(
            (importer, imported)
            for importer, imported, package in package_edges()
            if importer.split(".")[0] in PRODUCT and package in ("benchmarks", "studies")
        )
        == []
    )


def test_only_the_entry_point_imports_both_front_ends():
    users = {
        front: {importer.split(".")[0] for importer, _, package in package_edges() if package == front}
        for front in ("cogs", "console")
    }
    assert users["cogs"] - {"benchmarks", "studies"} == {"genrebot"}
    assert users["console"] - {"benchmarks", "studies"} == {"genrebot"}
