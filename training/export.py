"""``python -m training.export [CHECKPOINT] [--out PATH]``: a checkpoint as an ONNX model the engine serves.

The graph takes waveform segments ``segments`` (float32 ``[n, samples]`` at the checkpoint's sample
rate, any ``n``) and returns ``probabilities`` (``[n, classes]``, softmax) and ``embedding``
(``[n, dim]``, the penultimate activations ``TorchModel`` returns), and for a network that is also a
tagger (musicnn) ``tags`` (``[n, n_tags]``, its tag probabilities, ``TorchModel.predict_tagged``): the
checkpoint's own spectrogram
front end, its input normalisation, the network and the softmax, exported with torch's dynamo
exporter (opset 18). The front end sits in the graph rather than in numpy: it costs about 2 ms per
segment there (numpy's FFT path about 1 ms) and keeps serving free of librosa, with no second
implementation of the features to keep in step.

The file's ``metadata_props`` carry the labels, the feature config, the architecture and the
sha256 of the checkpoint, which the engine checks before preferring the export to the checkpoint.
Default: the shipped ``data/model.pt`` to ``data/model.onnx``.
"""

from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from genre_engine.checkpoint import (
    DEFAULT_CHECKPOINT,
    ModelBundle,
    export_path,
    file_sha256,
    held_out_accuracy,
    load_checkpoint,
)
from genre_engine.frontends import build_frontend
from genre_engine.runtime_onnx import (
    INPUT_NAME,
    OUTPUT_NAMES,
    TAGS_NAME,
    OnnxModel,
    export_metadata,
)
from genre_engine.runtime_torch import TorchModel
from training.errors import ConfigError, run_cli

OPSET = 18
# The export is checked against torch on a few seconds of noise before it is kept.
_CHECK_TOLERANCE = 1e-4


class ServingGraph(nn.Module):
    """Waveform segments ``[n, samples]`` -> (softmax ``[n, classes]``, embedding ``[n, dim]``), and
    the tag probabilities ``[n, n_tags]`` third for a network that is also a tagger."""

    def __init__(self, bundle: ModelBundle) -> None:
        super().__init__()
        self.bundle = bundle
        self.frontend = build_frontend(bundle.features)
        self.model = bundle.model

    def forward(self, segments: torch.Tensor) -> tuple[torch.Tensor, ...]:
        embedding, tags = self.model.forward_features_and_tags(self.bundle.normalize(self.frontend(segments)))
        probabilities = torch.softmax(self.model.forward_head(embedding), dim=1)
        return (probabilities, embedding) if tags is None else (probabilities, embedding, tags)


def export(checkpoint: Path, out: Path) -> Path:
    """Write ``checkpoint``'s ONNX export to ``out`` (atomically) and return ``out``.

    Raises ``CheckpointError`` for an unreadable checkpoint and ``ConfigError`` when the exported
    graph does not reproduce torch's outputs.
    """
    bundle = load_checkpoint(checkpoint, "cpu")
    graph = ServingGraph(bundle).eval()
    example = torch.from_numpy(_noise(2, bundle.features.segment_samples))
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the exporter's deprecation chatter, not ours to fix
        program = torch.onnx.export(
            graph,
            (example,),
            dynamo=True,
            opset_version=OPSET,
            verbose=False,
            input_names=[INPUT_NAME],
            output_names=output_names(bundle),
            dynamic_shapes=({0: torch.export.Dim("n")},),
        )
    proto = program.model_proto
    metadata = export_metadata(
        labels=bundle.labels,
        features=bundle.features,
        checkpoint_sha256=file_sha256(checkpoint),
        arch=bundle.arch,
        model_args=bundle.model_args,
        embedding_dim=bundle.model.embedding_dim,
        n_tags=bundle.model.n_tags,
        accuracy=held_out_accuracy(bundle.metrics),
    )
    onnx.helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    onnx.save(proto, tmp)
    _check(TorchModel(bundle), OnnxModel(tmp), tmp)
    tmp.replace(out)
    return out


def output_names(bundle: ModelBundle) -> list[str]:
    return [*OUTPUT_NAMES, TAGS_NAME] if bundle.model.n_tags else list(OUTPUT_NAMES)


def _noise(n: int, samples: int) -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal((n, samples))).astype(np.float32)


def _check(reference: TorchModel, exported: OnnxModel, path: Path) -> None:
    """Refuse an export whose outputs differ from torch's (batch sizes 1 and 3)."""
    for n in (1, 3):
        segments = _noise(n, reference.features.segment_samples)
        wanted, got_all = reference.predict_tagged(segments), exported.predict_tagged(segments)
        for want, got, name in zip(wanted, got_all, [*OUTPUT_NAMES, TAGS_NAME]):
            if want is None and got is None:
                continue
            if want is None or got is None:
                path.unlink(missing_ok=True)
                raise ConfigError(f"the ONNX export's {name} are missing; not written")
            scale = max(float(np.abs(want).max()), 1.0)
            if got.shape != want.shape or float(np.abs(want - got).max()) > _CHECK_TOLERANCE * scale:
                path.unlink(missing_ok=True)
                raise ConfigError(f"the ONNX export's {name} differ from torch's for a batch of {n}; not written")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.splitlines()[0])
    parser.add_argument(
        "checkpoint",
        nargs="?",
        type=Path,
        default=DEFAULT_CHECKPOINT,
        help="torch checkpoint (default: the shipped data/model.pt)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="ONNX file to write (default: beside the checkpoint, .onnx)"
    )
    args = parser.parse_args(argv)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    out = export(args.checkpoint, args.out or export_path(args.checkpoint))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) from {args.checkpoint}")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
