"""Every error genrebot raises on purpose crosses a process boundary intact.

Classification and link fetching run in child processes (``bot.jobs.children``): what a child
raises is pickled there and rebuilt here, and an error that cannot be rebuilt breaks the whole
process pool, so every later upload fails too. Each error class of the product packages is built
with plausible facts, pickled and rebuilt, and must keep its type, facts and sentence.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from genre_engine.errors import PortableError
from tests.test_architecture import PRODUCT


def _import_every_module() -> None:
    for name in PRODUCT:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not module.name.endswith("__main__"):  # importing it would start the bot
                importlib.import_module(module.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _plausible(annotation: str) -> object:
    """A value of the annotated parameter's type, good enough to build the error with."""
    if "tuple[tuple" in annotation:
        return (("style", "electronic"),)
    if "list" in annotation or "Sequence" in annotation or "tuple" in annotation:
        return ("video",)
    if "float" in annotation:
        return 1.5
    if "int" in annotation:
        return 3
    if "Path" in annotation:
        return Path("song.ogg")
    return "x"


def _instance(cls: type[PortableError]) -> PortableError:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    required = {
        p.name: _plausible(str(p.annotation))
        for p in parameters
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    return cls(**required)


_import_every_module()
# by name: a test that reloads a module makes new class objects, which pickle finds by name
ERRORS = sorted({(cls.__module__, cls.__qualname__) for cls in _subclasses(PortableError)})


def test_every_package_raises_portable_errors() -> None:
    assert {module.split(".")[0] for module, _ in ERRORS} >= {"genre_engine", "storage", "recommender", "bot", "cogs"}


@pytest.mark.parametrize(("module", "name"), ERRORS, ids=[name for _, name in ERRORS])
def test_the_error_is_rebuilt_from_a_pickle_as_it_was(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    error = _instance(cls)
    rebuilt = pickle.loads(pickle.dumps(error))
    assert type(rebuilt) is cls
    assert vars(rebuilt) == vars(error) and rebuilt.args == error.args
    assert str(rebuilt) == str(error)
