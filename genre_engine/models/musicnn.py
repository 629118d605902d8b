"""musicnn (Pons & Serra, 2019) in PyTorch, with its music-tagging weights, for genre transfer.

The network is re-implemented layer for layer from the authors' TensorFlow code (musicnn 0.1.0,
``models.build_musicnn``) so that converted checkpoints reproduce its tag probabilities; see
``training/convert_musicnn.py`` and ``studies/musicnn_port.py``. Layout differs from
TensorFlow's (``[batch, 1, mel, frames]`` instead of ``[batch, frames, mel]``) but every padding,
pooling order, batch-norm epsilon and flattening order is TensorFlow's.

For genres the network is a frozen (or partly fine-tuned) feature extractor: the embedding is the
feature set the musicnn authors recommend for transfer (mean and max over time of the front and
mid end's feature maps, the penultimate layer and the tag probabilities), standardised, and a small head
maps it to genres.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from genre_engine.locations import DATA_DIR
from genre_engine.models.base import GenreNet
from genre_engine.models.registry import register_model

N_MELS = 96
VARIANTS = ("MSD_musicnn", "MTT_musicnn")
N_TAGS = 50
PRETRAINED_DIR = DATA_DIR / "pretrained"
WEIGHTS_FORMAT = "genrebot-musicnn-weights"

# TensorFlow's tf.compat.v1.layers.batch_normalization defaults; the statistics were learnt with them.
_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01  # PyTorch's momentum is 1 - TensorFlow's (0.99)

_TIMBRAL_FILTERS = 204  # int(1.6 * 128)
_TIMBRAL_HEIGHTS = (int(0.4 * N_MELS), int(0.7 * N_MELS))  # 38 and 67 mel bands, 7 frames wide
_TEMPORAL_FILTERS = 51  # int(1.6 * 32)
_TEMPORAL_WIDTHS = (128, 64, 32)  # frames, one mel band high
_FRONTEND_CHANNELS = len(_TIMBRAL_HEIGHTS) * _TIMBRAL_FILTERS + len(_TEMPORAL_WIDTHS) * _TEMPORAL_FILTERS
_MIDEND_FILTERS = 64
_MIDEND_LAYERS = 3
_POOLED = _FRONTEND_CHANNELS + _MIDEND_LAYERS * _MIDEND_FILTERS  # 753
_BACKEND_UNITS = 200

_MEL_ROWS_PER_CHUNK = 8  # see _conv_max_over_mel

FINETUNE_MODES = ("none", "upper", "all")
HEADS = ("linear", "mlp")


def _batch_norm(kind: type[nn.modules.batchnorm._BatchNorm], channels: int) -> nn.Module:
    return kind(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


def _tf_same_padding(kernel: int) -> tuple[int, int]:
    """TensorFlow's 'same' for stride 1 puts the extra pad of an even kernel after, not before."""
    return (kernel - 1) // 2, kernel // 2


class _FrontendBlock(nn.Module):
    """Conv, ReLU, batch norm, then max over every mel band: TF's timbral_block / tempo_block."""

    def __init__(self, filters: int, kernel: tuple[int, int], time_pad: tuple[int, int]) -> None:
        super().__init__()
        self.time_pad = time_pad
        self.conv = nn.Conv2d(1, filters, kernel)
        self.bn = _batch_norm(nn.BatchNorm2d, filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[batch, 1, mel, frames]`` -> ``[batch, filters, frames]``."""
        x = F.pad(x, (*self.time_pad, 0, 0))
        if self.bn.training:
            return self.bn(F.relu(self.conv(x))).amax(dim=2)
        # With fixed statistics ReLU and batch norm are monotone per channel, so they commute with
        # the max over mel bands: take the max of the raw conv, or the min where the batch-norm
        # scale is negative (by negating those filters), and apply ReLU and batch norm after the
        # pooling, on a tensor 30-96x smaller.
        sign = torch.where(self.bn.weight < 0, -1.0, 1.0)
        peak = sign[:, None] * _conv_max_over_mel(
            x, self.conv.weight * sign[:, None, None, None], self.conv.bias * sign
        )
        return self.bn(F.relu(peak).unsqueeze(2)).squeeze(2)


def _conv_max_over_mel(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``conv2d(x).amax(dim=2)``, a few output mel rows at a time.

    The full conv output (up to 204 x 96 x 187 values per segment) does not fit in the CPU's
    caches; chunks of it do, which made the front end about 3x faster on 2 cores.
    """
    height = weight.shape[2]
    rows = x.shape[2] - height + 1
    return torch.stack(
        [
            F.conv2d(x[:, :, start : start + _MEL_ROWS_PER_CHUNK + height - 1], weight, bias).amax(dim=2)
            for start in range(0, rows, _MEL_ROWS_PER_CHUNK)
        ]
    ).amax(dim=0)


class _MidendLayer(nn.Module):
    """A 7-frame conv over all channels with the 3-frame zero pad of TF's 'valid' conv on a padded map."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, _MIDEND_FILTERS, 7, padding=3)
        self.bn = _batch_norm(nn.BatchNorm1d, _MIDEND_FILTERS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(F.relu(self.conv(x)))


class MusicnnOutputs(NamedTuple):
    mean_pool: torch.Tensor  # [batch, 753]
    max_pool: torch.Tensor  # [batch, 753]
    penultimate: torch.Tensor  # [batch, 200]
    logits: torch.Tensor  # [batch, 50] tag logits


class MusicnnBackbone(nn.Module):
    """The tagging network itself; its state dict is exactly what the converter writes."""

    def __init__(self) -> None:
        super().__init__()
        self.input_bn = _batch_norm(nn.BatchNorm2d, 1)
        self.timbral = nn.ModuleList(
            _FrontendBlock(_TIMBRAL_FILTERS, (height, 7), (3, 3)) for height in _TIMBRAL_HEIGHTS
        )
        self.temporal = nn.ModuleList(
            _FrontendBlock(_TEMPORAL_FILTERS, (1, width), _tf_same_padding(width)) for width in _TEMPORAL_WIDTHS
        )
        self.midend = nn.ModuleList(
            _MidendLayer(_FRONTEND_CHANNELS if i == 0 else _MIDEND_FILTERS) for i in range(_MIDEND_LAYERS)
        )
        self.pool_bn = _batch_norm(nn.BatchNorm1d, 2 * _POOLED)
        self.pool_dropout = nn.Dropout(0.5)
        self.dense = nn.Linear(2 * _POOLED, _BACKEND_UNITS)
        self.dense_bn = _batch_norm(nn.BatchNorm1d, _BACKEND_UNITS)
        self.dense_dropout = nn.Dropout(0.5)
        self.tags = nn.Linear(_BACKEND_UNITS, N_TAGS)

    def frontend_modules(self) -> list[nn.Module]:
        """The low, musically shaped layers that ``finetune="upper"`` keeps frozen."""
        return [self.input_bn, self.timbral, self.temporal]

    def forward(self, x: torch.Tensor) -> MusicnnOutputs:
        """``x``: musicnn log-mel ``[batch, 1, 96, frames]``, any number of frames."""
        x = self.input_bn(x)
        frontend = torch.cat([block(x) for block in (*self.timbral, *self.temporal)], dim=1)
        midend = [frontend]
        for i, layer in enumerate(self.midend):
            out = layer(midend[-1])
            midend.append(out if i == 0 else out + midend[-1])  # residual from the second layer on
        features = torch.cat(midend, dim=1)  # [batch, 753, frames]
        max_pool, mean_pool = features.amax(dim=2), features.mean(dim=2)
        # TF flattens [batch, 753, (max, mean)], so the dense layer expects them interleaved.
        pooled = torch.stack([max_pool, mean_pool], dim=2).flatten(1)
        dense = F.relu(self.dense(self.pool_dropout(self.pool_bn(pooled))))
        penultimate = self.dense_bn(dense)
        logits = self.tags(self.dense_dropout(penultimate))
        return MusicnnOutputs(mean_pool, max_pool, penultimate, logits)


def default_weights_path(variant: str) -> Path:
    return PRETRAINED_DIR / f"{variant}.pt"


def read_weights(path: str | Path) -> dict:
    """A converted weights file: ``variant``, ``tags``, ``state_dict`` (backbone) and ``provenance``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No musicnn weights at {path}; create them with `python -m training.convert_musicnn`.")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT:
        raise ValueError(f"{path} is not a converted musicnn weights file.")
    return payload


class Musicnn(GenreNet):
    """musicnn backbone, a standardising layer, and a genre head.

    ``finetune`` decides what trains: ``"none"`` only the head (a probe on fixed features),
    ``"upper"`` also the mid and back end, ``"all"`` everything. Frozen layers stay in eval mode
    even when the model is put in training mode, so their batch-norm statistics never drift.
    """

    def __init__(
        self,
        n_classes: int,
        input_shape: tuple[int, int],
        variant: str = "MSD_musicnn",
        head: str = "linear",
        finetune: str = "none",
        hidden: int = 256,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if input_shape[0] != N_MELS:
            raise ValueError(f"musicnn needs {N_MELS} mel bands (the 'musicnn' features), got {input_shape[0]}")
        if variant not in VARIANTS:
            raise ValueError(f"unknown musicnn variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
        if finetune not in FINETUNE_MODES:
            raise ValueError(f"unknown finetune mode {finetune!r}; choose one of {', '.join(FINETUNE_MODES)}")
        self.variant = variant
        self.finetune = finetune
        self.tag_names: tuple[str, ...] = ()
        self.n_tags = N_TAGS
        self.backbone = MusicnnBackbone()
        self.embedding_dim = 2 * _POOLED + _BACKEND_UNITS + N_TAGS  # 1756
        # The pooled features span orders of magnitude; standardising makes both the head and
        # cosine similarity between embeddings treat every feature alike.
        self.standardize = nn.BatchNorm1d(self.embedding_dim, affine=False)
        if head == "linear":
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.embedding_dim, n_classes))
        else:
            self.head = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(self.embedding_dim, hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(hidden, n_classes),
            )
        for module in self._frozen_modules():
            module.requires_grad_(False)

    def _frozen_modules(self) -> list[nn.Module]:
        if self.finetune == "none":
            return [self.backbone]
        if self.finetune == "upper":
            return self.backbone.frontend_modules()
        return []

    def train(self, mode: bool = True) -> Musicnn:
        super().train(mode)
        for module in self._frozen_modules():
            module.eval()
        return self

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def load_pretrained(self, path: str | Path | None = None) -> None:
        """Load converted tagging weights; by default the shipped ``data/pretrained/<variant>.pt``."""
        payload = read_weights(path if path is not None else default_weights_path(self.variant))
        if payload["variant"] != self.variant:
            raise ValueError(f"weights are for {payload['variant']}, this model is {self.variant}")
        self.backbone.load_state_dict(payload["state_dict"])
        self.tag_names = tuple(payload["tags"])

    def transfer_features(self, x: torch.Tensor) -> torch.Tensor:
        """Unstandardised ``[mean_pool, max_pool, penultimate, sigmoid(tags)]``, ``[batch, 1756]``."""
        out = self.backbone(x)
        return torch.cat([out.mean_pool, out.max_pool, out.penultimate, torch.sigmoid(out.logits)], dim=1)

    def tag_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """The original tagger's output ``[batch, 50]``, in the order of ``self.tag_names``."""
        return torch.sigmoid(self.backbone(x).logits)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.standardize(self.transfer_features(x))

    def forward_features_and_tags(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The standardised embedding and the tagger's probabilities ``[batch, 50]`` (MSD's Last.fm
        tags, in the order of the weights' ``tags``), from one pass through the backbone."""
        out = self.backbone(x)
        tags = torch.sigmoid(out.logits)
        features = torch.cat([out.mean_pool, out.max_pool, out.penultimate, tags], dim=1)
        return self.standardize(features), tags

    def forward_head(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.head(embedding)


@register_model("musicnn")
def musicnn(n_classes: int, input_shape: tuple[int, int], **model_args) -> Musicnn:
    return Musicnn(n_classes, input_shape, **model_args)
