"""Models are chosen by name, so a new architecture is one small file with one decorator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genre_engine.models.base import GenreNet

ModelFactory = Callable[..., GenreNet]
_FACTORIES: dict[str, ModelFactory] = {}


def register_model(name: str) -> Callable[[ModelFactory], ModelFactory]:
    """Register ``factory(n_classes, input_shape, **model_args) -> GenreNet`` under ``name``.

    ``input_shape`` is ``(freq_bins, frames)`` of one segment's features; ``model_args`` are plain
    JSON-able values because they are stored in the checkpoint and replayed at load time.
    """

    def decorator(factory: ModelFactory) -> ModelFactory:
        if name in _FACTORIES:
            raise ValueError(f"model {name!r} is registered twice")
        _FACTORIES[name] = factory
        return factory

    return decorator


def model_names() -> list[str]:
    return sorted(_FACTORIES)


def create_model(name: str, n_classes: int, input_shape: tuple[int, int], **model_args: Any) -> GenreNet:
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(model_names())}") from None
    return factory(n_classes, tuple(input_shape), **model_args)
