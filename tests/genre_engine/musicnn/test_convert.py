"""The TF-to-PyTorch variable mapping, checked without TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.convert_musicnn import (
    EXPECTED_VARIABLES,
    ConversionError,
    convert,
    variable_map,
)


def _to_tensorflow_layout(key: str, value: torch.Tensor) -> np.ndarray:
    """The inverse of the converter's transforms, written independently of them."""
    array = value.numpy()
    if key.startswith("midend") and key.endswith("conv.weight"):  # [out, ch, t] -> [t, ch, 1, out]
        return array.transpose(2, 1, 0)[:, :, None, :]
    if key.endswith("conv.weight"):  # [out, in, mel, t] -> [t, mel, in, out]
        return array.transpose(3, 2, 1, 0)
    if key in ("dense.weight", "tags.weight"):
        return array.T
    return array


@pytest.fixture
def tf_variables(shipped_weights) -> dict[str, np.ndarray]:
    state = shipped_weights["MSD_musicnn"]["state_dict"]
    return {tf_name: _to_tensorflow_layout(key, state[key]) for tf_name, (key, _) in variable_map().items()}


def test_mapping_covers_every_variable_once(tf_variables):
    assert len(tf_variables) == EXPECTED_VARIABLES
    assert len({key for key, _ in variable_map().values()}) == EXPECTED_VARIABLES
    assert tf_variables["conv2d_5/kernel"].shape == (7, 561, 1, 64)  # as in the checkpoint


def test_convert_restores_the_state_dict(tf_variables, shipped_weights):
    state = convert(tf_variables)
    for key, value in shipped_weights["MSD_musicnn"]["state_dict"].items():
        assert torch.equal(state[key], value), key


def test_convert_refuses_a_checkpoint_that_does_not_fit(tf_variables):
    with pytest.raises(ConversionError, match="missing"):
        convert({k: v for k, v in tf_variables.items() if k != "dense/bias"})
    with pytest.raises(ConversionError, match="unexpected"):
        convert({**tf_variables, "conv2d_8/kernel": np.zeros((3, 3, 1, 1), np.float32)})
    with pytest.raises(ConversionError, match="parameters"):
        convert({**tf_variables, "dense/bias": np.zeros(201, np.float32)})
