"""ResNet-18, ResNet-50 and MobileNetV2 from torchvision, with a fresh linear head.

The torchvision network (classifier removed) is the ``backbone`` attribute, so torchvision and
MS-Celeb state dicts load into it with their own key names (see :mod:`trainers.models.weights`).

``classifier_input`` (:data:`CLASSIFIER_INPUTS`) says what the head reads: ``pooled``, the global average
of the raw last map (torchvision's ResNet; the default), or ``normalised``, the average of the map after
each location's channel vector is L2-normalised (the MSD-E reference code's classifier).
"""

from __future__ import annotations

import torch
import torchvision
from torch import nn

from trainers.common.errors import DataError
from trainers.models import register_model

CLASSIFIER_INPUTS: dict[str, str] = {
    "pooled": "global average pool of the raw last map (torchvision's ResNet)",
    "normalised": "global average pool of the per-location L2-normalised last map (the MSD-E reference code)",
}


def check_classifier_input(name: str) -> None:
    """Raise :class:`DataError` for a classifier input outside :data:`CLASSIFIER_INPUTS`."""
    if name not in CLASSIFIER_INPUTS:
        raise DataError(f"classifier_input {name!r}: use one of {', '.join(CLASSIFIER_INPUTS)}")


def pool_map(features: torch.Tensor, classifier_input: str) -> torch.Tensor:
    """``(B, C)``: the global average of ``(B, C, h, w)`` features, per-location L2-normalised first for
    ``classifier_input == "normalised"``."""
    if classifier_input == "normalised":
        features = nn.functional.normalize(features.float(), dim=1).to(features.dtype)
    return torch.flatten(nn.functional.adaptive_avg_pool2d(features, 1), 1)


class PooledClassifier(nn.Module):
    """A torchvision body, the global average of its last map (:func:`pool_map`) as the embedding, a head.

    Subclasses build the ``backbone`` and ``head`` and say how the last map is computed (:meth:`features`)
    and which layers Grad-CAM may use (``gradcam_layer``, the default, and ``gradcam_layers``, deepest
    first); pooling, embedding and the forward pass are shared.
    """

    gradcam_layer: str
    gradcam_layers: tuple[str, ...]

    def __init__(self, backbone: nn.Module, embedding_dim: int, head: nn.Module, classifier_input: str) -> None:
        super().__init__()
        check_classifier_input(classifier_input)
        self.classifier_input = classifier_input
        self.embedding_dim = embedding_dim
        self.backbone = backbone
        self.head = head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last map, ``(B, C, H/32, W/32)``."""
        raise NotImplementedError

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        """The head's input from the last map (see ``classifier_input``)."""
        return pool_map(features, self.classifier_input)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled features."""
        return self.pool(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits."""
        return self.head(self.embed(x))


class ResNetClassifier(PooledClassifier):
    """A torchvision ResNet body (``fc`` removed), global average pooling and a linear head."""

    gradcam_layer = "backbone.layer4"
    gradcam_layers = ("backbone.layer4", "backbone.layer3", "backbone.layer2")  # strides 32, 16, 8

    def __init__(self, backbone: torchvision.models.ResNet, num_classes: int, classifier_input: str = "pooled") -> None:
        embedding_dim = backbone.fc.in_features
        backbone.fc = nn.Identity()
        super().__init__(backbone, embedding_dim, nn.Linear(embedding_dim, num_classes), classifier_input)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The layer4 map, ``(B, 512 or 2048, H/32, W/32)``."""
        net = self.backbone
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        return net.layer4(net.layer3(net.layer2(net.layer1(x))))


class MobileNetClassifier(PooledClassifier):
    """torchvision MobileNetV2 features, global average pooling, dropout and a linear head."""

    gradcam_layer = "backbone.features.18"
    gradcam_layers = ("backbone.features.18", "backbone.features.13", "backbone.features.6")

    def __init__(self, num_classes: int, dropout: float = 0.2, classifier_input: str = "pooled") -> None:
        backbone = torchvision.models.mobilenet_v2(weights=None)
        backbone.classifier = nn.Identity()
        head = nn.Sequential(nn.Dropout(dropout), nn.Linear(backbone.last_channel, num_classes))
        super().__init__(backbone, backbone.last_channel, head, classifier_input)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last 1280-channel map, ``(B, 1280, H/32, W/32)``."""
        return self.backbone.features(x)


@register_model("resnet18")
def resnet18(num_classes: int, classifier_input: str = "pooled") -> ResNetClassifier:
    """ResNet-18 (the MSD-E paper's backbone), 512-d embedding."""
    return ResNetClassifier(torchvision.models.resnet18(weights=None), num_classes, classifier_input)


@register_model("resnet50")
def resnet50(num_classes: int, classifier_input: str = "pooled") -> ResNetClassifier:
    """ResNet-50, 2048-d embedding."""
    return ResNetClassifier(torchvision.models.resnet50(weights=None), num_classes, classifier_input)


@register_model("mobilenet_v2")
def mobilenet_v2(num_classes: int, classifier_input: str = "pooled") -> MobileNetClassifier:
    """MobileNetV2, 1280-d embedding; ``weights="imagenet"`` loads the offline ImageNet weights."""
    return MobileNetClassifier(num_classes, classifier_input=classifier_input)
