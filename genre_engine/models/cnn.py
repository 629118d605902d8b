"""The seed paper's 4-conv CNN, with fc1 sized from the input instead of hard-coded."""

from __future__ import annotations

import torch
from torch import nn

from genre_engine.models.base import GenreNet
from genre_engine.models.registry import register_model

_CHANNELS = (64, 128, 256, 512)
_POOLS = (2, 2, 4, 4)


class PaperCNN(GenreNet):
    """conv 1→64→128→256→512 (3x3, pad 1), max-pools 2,2,4,4, dropout 0.5, fc →1024→256→classes.

    Batch norm after each conv is the one addition (``batchnorm=False`` restores the paper's net):
    it makes the from-scratch net train reliably on a few hundred segments.
    """

    def __init__(
        self, n_classes: int, input_shape: tuple[int, int], batchnorm: bool = True, dropout: float = 0.5
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 1
        for out_ch, pool in zip(_CHANNELS, _POOLS):
            layers.append(nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1))
            if batchnorm:
                layers.append(nn.BatchNorm2d(out_ch))
            layers += [nn.ReLU(inplace=True), nn.MaxPool2d(pool, ceil_mode=True)]
            in_ch = out_ch
        self.conv = nn.Sequential(*layers)
        with torch.no_grad():
            flat = self.conv(torch.zeros(1, 1, *input_shape)).numel()
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(flat, 1024),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(1024, 256),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(256, n_classes)
        self.embedding_dim = 256

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x))

    def forward_head(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.classifier(embedding)


@register_model("cnn")
def cnn(n_classes: int, input_shape: tuple[int, int], **model_args) -> PaperCNN:
    return PaperCNN(n_classes, input_shape, **model_args)
