"""Convert a musicnn TensorFlow checkpoint to the PyTorch weights that ``genre_engine`` ships.

A one-off step in a separate environment (TensorFlow, tf-keras and ``pip install --no-deps
musicnn==0.1.0``, whose declared ``numpy<1.17`` cannot sit beside the project; see docs/training.md).
TensorFlow is imported only by ``read_checkpoint``, so importing this module or testing the mapping
never needs it.

    python -m training.convert_musicnn [--variant MSD_musicnn] [--checkpoint DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from genre_engine.models.musicnn import (
    VARIANTS,
    WEIGHTS_FORMAT,
    MusicnnBackbone,
    default_weights_path,
)

# Every musicnn variant has the same architecture, so the same counts (shared/README.md).
EXPECTED_VARIABLES = 64
EXPECTED_PARAMETERS = 792_079
# Optimiser state, not model: Adam's slots and its bias-correction powers.
_OPTIMIZER_MARKERS = ("Adam", "beta1_power", "beta2_power")

Transform = Callable[[np.ndarray], np.ndarray]


class ConversionError(RuntimeError):
    """The checkpoint does not map one to one onto the PyTorch network."""


def _tf_name(base: str, index: int) -> str:
    """tf.compat.v1.layers numbers the n-th layer of a kind ``base``, ``base_1``, ``base_2``, ..."""
    return base if index == 0 else f"{base}_{index}"


def _conv2d_kernel(kernel: np.ndarray) -> np.ndarray:
    # TF [frames, mel, in, out] -> torch [out, in, mel, frames]
    return kernel.transpose(3, 2, 1, 0)


def _conv1d_kernel(kernel: np.ndarray) -> np.ndarray:
    # TF [frames, channels, 1, out] (a 2-D conv spanning all channels) -> torch Conv1d [out, channels, frames]
    return kernel[:, :, 0, :].transpose(2, 1, 0)


def _identity(value: np.ndarray) -> np.ndarray:
    return value


def variable_map() -> dict[str, tuple[str, Transform]]:
    """TF variable name -> (backbone state-dict key, transform), in the order musicnn builds its layers."""
    batch_norms = [
        "input_bn",
        "timbral.0.bn",
        "timbral.1.bn",
        "temporal.0.bn",
        "temporal.1.bn",
        "temporal.2.bn",
        "midend.0.bn",
        "midend.1.bn",
        "midend.2.bn",
        "pool_bn",
        "dense_bn",
    ]
    convs = [
        ("timbral.0.conv", _conv2d_kernel),
        ("timbral.1.conv", _conv2d_kernel),
        ("temporal.0.conv", _conv2d_kernel),
        ("temporal.1.conv", _conv2d_kernel),
        ("temporal.2.conv", _conv2d_kernel),
        ("midend.0.conv", _conv1d_kernel),
        ("midend.1.conv", _conv1d_kernel),
        ("midend.2.conv", _conv1d_kernel),
    ]
    denses = ["dense", "tags"]
    mapping: dict[str, tuple[str, Transform]] = {}
    for i, key in enumerate(batch_norms):
        prefix = _tf_name("batch_normalization", i)
        for tf_field, torch_field in (
            ("gamma", "weight"),
            ("beta", "bias"),
            ("moving_mean", "running_mean"),
            ("moving_variance", "running_var"),
        ):
            mapping[f"{prefix}/{tf_field}"] = (f"{key}.{torch_field}", _identity)
    for i, (key, kernel_transform) in enumerate(convs):
        prefix = _tf_name("conv2d", i)
        mapping[f"{prefix}/kernel"] = (f"{key}.weight", kernel_transform)
        mapping[f"{prefix}/bias"] = (f"{key}.bias", _identity)
    for i, key in enumerate(denses):
        prefix = _tf_name("dense", i)
        mapping[f"{prefix}/kernel"] = (f"{key}.weight", np.transpose)
        mapping[f"{prefix}/bias"] = (f"{key}.bias", _identity)
    return mapping


def package_checkpoint_dir(variant: str) -> Path:
    """The checkpoint folder inside the installed musicnn package (found without importing TF)."""
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError(
            "musicnn is not installed; `pip install --no-deps musicnn==0.1.0` or pass --checkpoint DIR"
        )
    return Path(next(iter(spec.submodule_search_locations))) / variant


def read_checkpoint(directory: Path) -> dict[str, np.ndarray]:
    """Model variables of a TF1 checkpoint whose files are ``DIR/.index`` and ``DIR/.data-*``.

    The ``checkpoint`` index file names the authors' own paths, so the reader is pointed at the
    prefix (the folder itself) instead of going through ``tf.train.load_checkpoint``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if not (directory / ".index").is_file():
        raise ConversionError(f"no TensorFlow checkpoint (.index) in {directory}")
    reader = tf.compat.v1.train.NewCheckpointReader(f"{directory}/")
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if not any(marker in name for marker in _OPTIMIZER_MARKERS)
    }


def convert(variables: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Backbone state dict from TF variables; refuses anything but an exact one-to-one fill."""
    mapping = variable_map()
    unknown = sorted(set(variables) - set(mapping))
    missing = sorted(set(mapping) - set(variables))
    if unknown or missing:
        raise ConversionError(f"checkpoint does not match musicnn: unexpected {unknown}, missing {missing}")
    n_parameters = sum(v.size for v in variables.values())
    if (len(variables), n_parameters) != (EXPECTED_VARIABLES, EXPECTED_PARAMETERS):
        raise ConversionError(
            f"expected {EXPECTED_VARIABLES} variables / {EXPECTED_PARAMETERS:,} parameters, "
            f"got {len(variables)} / {n_parameters:,}"
        )
    state = MusicnnBackbone().state_dict()
    filled: set[str] = set()
    for tf_name, (key, transform) in mapping.items():
        value = torch.from_numpy(np.ascontiguousarray(transform(variables[tf_name]))).float()
        if value.shape != state[key].shape:
            raise ConversionError(f"{tf_name} {tuple(value.shape)} does not fit {key} {tuple(state[key].shape)}")
        state[key] = value
        filled.add(key)
    unfilled = {key for key in state if not key.endswith("num_batches_tracked")} - filled
    if unfilled:
        raise ConversionError(f"parameters left unfilled: {sorted(unfilled)}")
    return state


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tag_names(variant: str) -> list[str]:
    from musicnn import (
        configuration,  # plain lists; importing it does not import TensorFlow
    )

    return list(configuration.MSD_LABELS if variant.startswith("MSD") else configuration.MTT_LABELS)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="MSD_musicnn")
    parser.add_argument("--checkpoint", type=Path, help="TF checkpoint folder (default: the installed musicnn's)")
    parser.add_argument("--out", type=Path, help="output file (default: data/pretrained/<variant>.pt)")
    args = parser.parse_args(argv)
    directory = args.checkpoint or package_checkpoint_dir(args.variant)
    out = args.out or default_weights_path(args.variant)

    variables = read_checkpoint(directory)
    state = convert(variables)
    import tensorflow as tf

    payload = {
        "format": WEIGHTS_FORMAT,
        "variant": args.variant,
        "tags": tag_names(args.variant),
        "state_dict": state,
        "provenance": {
            "source": f"musicnn 0.1.0 (PyPI), checkpoint {args.variant}, by Jordi Pons and Xavier Serra, "
            "Music Technology Group, Universitat Pompeu Fabra",
            "license": "ISC; see data/pretrained/LICENSE-musicnn.txt",
            "checkpoint_data_sha256": _sha256(directory / ".data-00000-of-00001"),
            "tf_variables": len(variables),
            "parameters": int(sum(v.size for v in variables.values())),
            "converted_with": f"tensorflow {tf.__version__}, torch {torch.__version__}",
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, out)
    print(
        f"{args.variant}: {len(variables)} variables, {payload['provenance']['parameters']:,} parameters "
        f"-> {out} ({out.stat().st_size / 1e6:.1f} MB)"
    )
    return out


if __name__ == "__main__":
    main()
