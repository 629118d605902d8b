"""Fixtures for the musicnn port: the shipped converted weights and models built from them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from genre_engine.features import FeatureConfig
from genre_engine.models import create_model
from genre_engine.models.musicnn import Musicnn, default_weights_path, read_weights

CONFIG = FeatureConfig.preset("musicnn")


@pytest.fixture(scope="session")
def shipped_weights() -> dict[str, dict]:
    """Both converted weight files, read once: a missing file fails here, loudly."""
    return {variant: read_weights(default_weights_path(variant)) for variant in ("MSD_musicnn", "MTT_musicnn")}


@pytest.fixture
def make_model(shipped_weights) -> Callable[..., Musicnn]:
    """``make_model(**model_args)``: a registry-built musicnn with pretrained weights, in eval mode."""

    def make(**model_args) -> Musicnn:
        torch.manual_seed(0)
        model = create_model("musicnn", 10, CONFIG.shape, **model_args)
        model.load_pretrained()
        return model.eval()

    return make


@pytest.fixture
def log_mel() -> torch.Tensor:
    """A small batch of plausible musicnn inputs (log10(10000 mel + 1) lies in about [0, 6]).

    64 frames rather than a full 187-frame patch keeps the tests fast; the network pools over time.
    """
    return torch.rand(3, 1, 96, 64, generator=torch.Generator().manual_seed(0)) * 4
