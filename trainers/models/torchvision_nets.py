"""ResNet-18, ResNet-50 and MobileNetV2 from torchvision, with a fresh linear head.

The torchvision network (classifier removed) is the ``backbone`` attribute, so torchvision and
MS-Celeb state dicts load into it with their own key names (see :mod:`trainers.models.weights`).
"""

from __future__ import annotations

import torch
import torchvision
from torch import nn

from trainers.models import register_model


class ResNetClassifier(nn.Module):
    """A torchvision ResNet body, global average pooling and a linear head."""

    def __init__(self, backbone: torchvision.models.ResNet, num_classes: int) -> None:
        super().__init__()
        self.embedding_dim = backbone.fc.in_features
        backbone.fc = nn.Identity()
        self.backbone = backbone
        self.head = nn.Linear(self.embedding_dim, num_classes)
        self.gradcam_layer = "backbone.layer4"

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The layer4 map, ``(B, 512 or 2048, H/32, W/32)``."""
        net = self.backbone
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        return net.layer4(net.layer3(net.layer2(net.layer1(x))))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled layer4 features."""
        return torch.flatten(self.backbone.avgpool(self.features(x)), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits."""
        return self.head(self.embed(x))


class MobileNetClassifier(nn.Module):
    """torchvision MobileNetV2 features, global average pooling, dropout and a linear head."""

    def __init__(self, num_classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        backbone = torchvision.models.mobilenet_v2(weights=None)
        self.embedding_dim = backbone.last_channel
        backbone.classifier = nn.Identity()
        self.backbone = backbone
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.embedding_dim, num_classes))
        self.gradcam_layer = "backbone.features.18"

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last 1280-channel map, ``(B, 1280, H/32, W/32)``."""
        return self.backbone.features(x)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled features."""
        return torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits."""
        return self.head(self.embed(x))


@register_model("resnet18")
def resnet18(num_classes: int) -> ResNetClassifier:
    """ResNet-18 (the MSD-E paper's backbone), 512-d embedding."""
    return ResNetClassifier(torchvision.models.resnet18(weights=None), num_classes)


@register_model("resnet50")
def resnet50(num_classes: int) -> ResNetClassifier:
    """ResNet-50, 2048-d embedding."""
    return ResNetClassifier(torchvision.models.resnet50(weights=None), num_classes)


@register_model("mobilenet_v2")
def mobilenet_v2(num_classes: int) -> MobileNetClassifier:
    """MobileNetV2, 1280-d embedding; ``weights="imagenet"`` loads the offline ImageNet weights."""
    return MobileNetClassifier(num_classes)
