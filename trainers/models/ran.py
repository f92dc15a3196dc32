"""Region Attention Network (RAN, Wang et al. 2020) over six fixed face crops.

One backbone (torchvision ResNet-18 or ResNet-50) sees the whole face and five fixed crops, each resized
back to the input size. Self-attention weights every crop's pooled feature, relation-attention weights
each crop against the attended mean, and a linear classifier reads the relation-attended vector.
The crops are cut on the batch tensor (one ``F.interpolate`` per crop) and all six go through the
backbone as one batch.

References
----------
K. Wang, X. Peng, J. Yang, D. Meng, Y. Qiao. "Region Attention Networks for Pose and Occlusion Robust
Facial Expression Recognition." IEEE Transactions on Image Processing 29, 2020.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from trainers.common.errors import DataError
from trainers.models import register_model


@dataclass(frozen=True)
class Crop:
    """A fixed crop as fractions of the image height (``top``, ``bottom``) and width (``left``, ``right``)."""

    name: str
    top: float
    bottom: float
    left: float
    right: float


CROPS: tuple[Crop, ...] = (
    Crop("whole", 0.0, 1.0, 0.0, 1.0),
    Crop("top_left", 0.0, 0.75, 0.0, 0.75),
    Crop("top_right", 0.0, 0.75, 0.25, 1.0),
    Crop("centre_down", 0.25, 1.0, 0.125, 0.875),
    Crop("centre_90", 0.05, 0.95, 0.05, 0.95),
    Crop("centre_85", 0.075, 0.925, 0.075, 0.925),
)
"""The six crops of the RAN paper; the whole image comes first (the region-biased loss refers to it)."""

REGION_BIAS_MARGIN = 0.1


def _pixel(fraction: float, length: int) -> int:
    """Round half up (Python's ``round`` rounds half to even, which would make boxes depend on parity)."""
    return int(fraction * length + 0.5)


def crop_boxes(height: int, width: int) -> list[tuple[int, int, int, int]]:
    """Pixel boxes ``(top, bottom, left, right)`` (end-exclusive) of :data:`CROPS` for an image size."""
    return [
        (_pixel(c.top, height), _pixel(c.bottom, height), _pixel(c.left, width), _pixel(c.right, width))
        for c in CROPS
    ]


def crop_batch(images: torch.Tensor) -> torch.Tensor:
    """Cut the six crops of every image and resize each back to the input size.

    Parameters
    ----------
    images
        ``(B, C, H, W)``.

    Returns
    -------
    torch.Tensor
        ``(6 * B, C, H, W)``; rows ``k * B`` to ``(k + 1) * B`` hold crop ``k`` of :data:`CROPS`.
    """
    height, width = images.shape[-2:]
    crops = []
    for top, bottom, left, right in crop_boxes(height, width):
        patch = images[:, :, top:bottom, left:right]
        if patch.shape[-2:] != images.shape[-2:]:
            patch = F.interpolate(patch, size=(height, width), mode="bilinear", align_corners=False)
        crops.append(patch)
    return torch.cat(crops, dim=0)


@dataclass
class RanOutput:
    """Everything one RAN forward pass computes (``K`` = number of crops, ``d`` = backbone width)."""

    logits: torch.Tensor  # (B, num_classes)
    alpha: torch.Tensor  # (B, K) self-attention weights
    beta: torch.Tensor  # (B, K) relation-attention weights
    attended: torch.Tensor  # (B, 2d) the relation-attended vector P the classifier reads


class RegionAttentionHead(nn.Module):
    """Self-attention, relation-attention and the classifier over per-crop feature vectors."""

    def __init__(self, feature_dim: int, num_classes: int) -> None:
        super().__init__()
        self.self_attention = nn.Linear(feature_dim, 1)
        self.relation_attention = nn.Linear(2 * feature_dim, 1)
        self.classifier = nn.Linear(2 * feature_dim, num_classes)

    def forward(self, crop_features: torch.Tensor) -> RanOutput:
        """Attend over ``crop_features`` of shape ``(B, K, d)``.

        ``alpha_i = sigmoid(fc(f_i))``, ``F_m = sum(alpha_i f_i) / sum(alpha_i)``,
        ``beta_i = sigmoid(fc([f_i; F_m]))``, ``P = sum(alpha_i beta_i [f_i; F_m]) / sum(alpha_i beta_i)``.
        """
        alpha = torch.sigmoid(self.self_attention(crop_features)).squeeze(-1)
        mean_feature = (alpha.unsqueeze(-1) * crop_features).sum(1) / alpha.sum(1, keepdim=True)
        paired = torch.cat([crop_features, mean_feature.unsqueeze(1).expand_as(crop_features)], dim=-1)
        beta = torch.sigmoid(self.relation_attention(paired)).squeeze(-1)
        weight = (alpha * beta).unsqueeze(-1)
        attended = (weight * paired).sum(1) / weight.sum(1)
        return RanOutput(self.classifier(attended), alpha, beta, attended)


class RegionAttentionNetwork(nn.Module):
    """RAN: a shared torchvision ResNet over :data:`CROPS` and a :class:`RegionAttentionHead`.

    Attributes
    ----------
    backbone
        The torchvision ResNet with ``fc`` removed (torchvision and MS-Celeb weights load into it).
    head
        The attention head (the "heads" learning-rate group).
    whole_image_map
        An identity tap on the whole-image crop's layer4 map: the Grad-CAM target, because the backbone's
        own ``layer4`` runs on all six crops at once. ``whole_image_layer3`` and ``whole_image_layer2``
        tap the finer maps (``gradcam_layers``, for small inputs).
    """

    def __init__(self, backbone: torchvision.models.ResNet, num_classes: int) -> None:
        super().__init__()
        feature_dim = backbone.fc.in_features
        backbone.fc = nn.Identity()
        self.backbone = backbone
        self.head = RegionAttentionHead(feature_dim, num_classes)
        self.whole_image_map = nn.Identity()
        self.whole_image_layer3 = nn.Identity()
        self.whole_image_layer2 = nn.Identity()
        self.gradcam_layer = "whole_image_map"
        self.gradcam_layers = ("whole_image_map", "whole_image_layer3", "whole_image_layer2")
        self.embedding_dim = 2 * feature_dim

    def _layer4(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        """The layer4 maps of ``x``, whose first ``batch`` rows (the whole images) pass the taps."""
        net = self.backbone
        x = net.layer1(net.maxpool(net.relu(net.bn1(net.conv1(x)))))
        x = _tap(self.whole_image_layer2, net.layer2(x), batch)
        x = _tap(self.whole_image_layer3, net.layer3(x), batch)
        return _tap(self.whole_image_map, net.layer4(x), batch)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The whole-image crop's layer4 map, ``(B, d, H/32, W/32)``."""
        return self._layer4(x, len(x))

    def run(self, x: torch.Tensor) -> RanOutput:
        """Logits, attention weights and the attended vector of a batch ``(B, 3, H, W)``."""
        batch = x.shape[0]
        maps = self._layer4(crop_batch(x), batch)
        pooled = torch.flatten(F.adaptive_avg_pool2d(maps, 1), 1)
        crop_features = pooled.view(len(CROPS), batch, -1).transpose(0, 1)
        return self.head(crop_features)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The relation-attended vector ``P`` (``2 d``: 1024 for ResNet-18, 4096 for ResNet-50)."""
        return self.run(x).attended

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits."""
        return self.run(x).logits


def _tap(tap: nn.Module, maps: torch.Tensor, batch: int) -> torch.Tensor:
    """``maps`` with its first ``batch`` rows passed through ``tap`` (an identity a hook can watch)."""
    if batch == len(maps):
        return tap(maps)
    return torch.cat([tap(maps[:batch]), maps[batch:]], dim=0)


def region_biased_loss(alpha: torch.Tensor, margin: float = REGION_BIAS_MARGIN) -> torch.Tensor:
    """RAN's region-biased loss: ``mean(max(0, margin - (max_i alpha_i - alpha_whole)))``.

    The maximum runs over the five crops other than the whole image (column 0): the paper compares
    "the maximum weight of all facial crops" with the original face's weight. Including the whole image
    would make the difference exactly 0 whenever it has the top weight, a flat spot with no gradient.

    Parameters
    ----------
    alpha
        ``(B, K)`` self-attention weights, the whole image in column 0.
    margin
        Required lead of the best crop over the whole image (0.1 in the paper).
    """
    best_crop = alpha[:, 1:].max(dim=1).values
    return F.relu(margin - (best_crop - alpha[:, 0])).mean()


def ran_loss(out: RanOutput, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """The RAN loss terms: ``ce`` (cross-entropy), ``region_bias``, and their sum ``total``."""
    terms = {"ce": F.cross_entropy(out.logits, target), "region_bias": region_biased_loss(out.alpha)}
    terms["total"] = terms["ce"] + terms["region_bias"]
    return terms


@register_model("ran")
def ran(num_classes: int, backbone: str = "resnet18") -> RegionAttentionNetwork:
    """RAN on a randomly initialised torchvision ``resnet18`` (default) or ``resnet50``."""
    builders = {"resnet18": torchvision.models.resnet18, "resnet50": torchvision.models.resnet50}
    if backbone not in builders:
        raise DataError(f"RAN backbone {backbone!r}: use one of {', '.join(builders)}")
    return RegionAttentionNetwork(builders[backbone](weights=None), num_classes)
