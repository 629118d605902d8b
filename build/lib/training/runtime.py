"""Device choice and reproducibility settings shared by the training commands."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from training.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but PyTorch sees no CUDA GPU here; use --device cpu.")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """The device as reports should name it: the GPU's model, since timings depend on it."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def make_deterministic(seed: int, device: torch.device) -> None:
    """Seed every generator and, on GPUs, pick deterministic kernels, so ``--seed`` reproduces a run.

    CPU kernels are already run-to-run deterministic here, and PyTorch's deterministic mode swaps
    them for reference kernels several times slower, so it is only switched on for CUDA. Must run
    before CUDA is first used: cuBLAS reads its workspace setting at initialisation.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        # warn_only: the few ops without a deterministic kernel warn instead of stopping a long run.
        torch.use_deterministic_algorithms(True, warn_only=True)


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed precision on GPUs: bfloat16 where supported (no loss scaling), else float16."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
