"""Importing this package registers every built-in architecture."""

import importlib
import pkgutil

from genre_engine.models.base import GenreNet
from genre_engine.models.registry import create_model, model_names, register_model

# Each module registers itself on import, so adding an architecture is adding a file.
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base", "registry"}:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["GenreNet", "create_model", "model_names", "register_model"]
