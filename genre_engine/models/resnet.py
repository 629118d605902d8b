"""torchvision's ResNet18 on one-channel spectrograms, trained from scratch.

The seed paper fine-tuned ImageNet weights; those cannot be downloaded here, and music-trained
weights (the musicnn model) are the better transfer source anyway.
"""

from __future__ import annotations

import torch
from torch import nn

from genre_engine.models.base import GenreNet
from genre_engine.models.registry import register_model


class ResNet18(GenreNet):
    def __init__(self, n_classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        # Imported here: torchvision pulls in torch._dynamo, seconds of start-up that only ResNet users should pay.
        from torchvision.models import resnet18 as tv_resnet18

        net = tv_resnet18(weights=None)
        net.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        net.fc = nn.Identity()
        self.backbone = net
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(512, n_classes)
        self.embedding_dim = 512

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def forward_head(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(embedding))


@register_model("resnet18")
def resnet18(n_classes: int, input_shape: tuple[int, int], **model_args) -> ResNet18:
    return ResNet18(n_classes, **model_args)
