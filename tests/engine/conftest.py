"""A tiny checkpoint with its ONNX export beside it, shared by the export and bench tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from genre_engine.checkpoint import export_path, save_checkpoint
from tests.conftest import tiny_bundle
from training.export import export


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny.pt`` (see ``tiny_bundle``) with ``tiny.onnx`` written by ``training.export`` beside it."""
    folder = tmp_path_factory.mktemp("export")
    checkpoint = save_checkpoint(folder / "tiny.pt", tiny_bundle())
    export(checkpoint, export_path(checkpoint))
    return checkpoint
