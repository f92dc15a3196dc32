"""SCAN + CCI (Gera and Balasubramanian 2021): spatio-channel attention and complementary context.

A ResNet-50 (the reference; ``trunk="resnet18"`` for a cheaper variant) truncated after layer3. Its layer2
map feeds SCAN: a local path (25 patches tiling the map
exactly once, each through an attention unit, pooled, max over patches) and a global path (one unit on
the whole map), concatenated, L2-normalised and classified. Its layer3 map feeds CCI: ECA channel
attention, 2x2 quadrants, a small MLP head per quadrant. Training loss
``0.2 * CE(SCAN logits) + 0.8 * sum of the 4 quadrant CEs``; the prediction is the mean of the 5 logits.

The 28x28 patch grid (edges 0, 6, 12, 18, 24, 28) scales with the map: edge ``i`` of 4 sits at
``round(6 i S / 28)`` for a map of side ``S``, the last at ``S``. At 112 px (14x14) that is 0, 3, 6, 9,
12, 14: the same tiling at half size. The grid needs a layer2 map of at least 5x5, so inputs smaller
than 40 px are first upsampled (bilinear) to 40 px.

References
----------
D. Gera, S. Balasubramanian. "Landmark guidance independent spatio-channel attention and complementary
context information based facial expression recognition." Pattern Recognition Letters 145, 2021.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from trainers.common.errors import DataError
from trainers.models import register_model

ATTENTION_LOSS_WEIGHT = 0.2
MIN_INPUT_SIZE = 40
REFERENCE_MAP_SIDE = 28
REFERENCE_PATCH_SIDE = 6


def _round_half_up(value: float) -> int:
    return int(value + 0.5)


def patch_edges(side: int) -> list[int]:
    """Edges of the 5 patch rows (or columns) of a map of side ``side``: ``[0, 6, 12, 18, 24, 28]`` at 28.

    Raises
    ------
    DataError
        When the map is too small for five non-empty rows (input images under about 40 px).
    """
    edges = [_round_half_up(i * REFERENCE_PATCH_SIDE * side / REFERENCE_MAP_SIDE) for i in range(5)] + [side]
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise DataError(f"SCAN needs a layer2 map of at least 5x5, got {side}x{side}; use images of 40 px or more")
    return edges


def patch_boxes(height: int, width: int) -> list[tuple[int, int, int, int]]:
    """The 25 SCAN patches ``(top, bottom, left, right)`` (end-exclusive), in the reference order.

    First the 16 big blocks row by row, then the 4 blocks of the right strip top to bottom, the 4 of
    the bottom strip left to right, and the corner.
    """
    rows, cols = patch_edges(height), patch_edges(width)
    big = [(rows[r], rows[r + 1], cols[c], cols[c + 1]) for r in range(4) for c in range(4)]
    right = [(rows[r], rows[r + 1], cols[4], cols[5]) for r in range(4)]
    bottom = [(rows[4], rows[5], cols[c], cols[c + 1]) for c in range(4)]
    return big + right + bottom + [(rows[4], rows[5], cols[4], cols[5])]


class AttentionUnit(nn.Module):
    """conv3x3 (no bias) -> PReLU -> BatchNorm -> sigmoid: a weight per channel and position."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.prelu = nn.PReLU(channels)
        self.norm = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The attention weights in (0, 1), same shape as ``x``."""
        return torch.sigmoid(self.norm(self.prelu(self.conv(x))))


@dataclass
class ScanOutput:
    """SCAN's logits, its fused vector and the channel-mean of its local attention weights."""

    logits: torch.Tensor  # (B, num_classes)
    fused: torch.Tensor  # (B, 2C) L2-normalised [local; global]
    local_attention: torch.Tensor  # (B, H, W) every patch's weights averaged over channels, tiled


class SpatioChannelAttention(nn.Module):
    """SCAN: local attention on 25 patches (max over patches) and global attention, then a classifier."""

    def __init__(self, channels: int, num_classes: int, shared: bool = False) -> None:
        super().__init__()
        self.shared = shared
        self.local_units = nn.ModuleList(AttentionUnit(channels) for _ in range(1 if shared else 25))
        self.global_unit = AttentionUnit(channels)
        self.classifier = nn.Linear(2 * channels, num_classes)

    def forward(self, x: torch.Tensor) -> ScanOutput:
        """Attend over the layer2 map ``x`` ``(B, C, H, W)``."""
        local_attention = x.new_empty(x.shape[0], *x.shape[2:])
        pooled = []
        for index, (top, bottom, left, right) in enumerate(patch_boxes(*x.shape[2:])):
            patch = x[:, :, top:bottom, left:right]
            weight = self.local_units[0 if self.shared else index](patch)
            pooled.append((weight * patch).mean(dim=(2, 3)))
            local_attention[:, top:bottom, left:right] = weight.detach().mean(dim=1)
        local = torch.stack(pooled, dim=2).amax(dim=2)
        global_ = (self.global_unit(x) * x).mean(dim=(2, 3))
        fused = F.normalize(torch.cat([local, global_], dim=1), p=2, dim=1)
        return ScanOutput(self.classifier(fused), fused, local_attention)


class EfficientChannelAttention(nn.Module):
    """ECA: global average pool, a 1-d convolution across channels (no bias), sigmoid, rescale."""

    def __init__(self, kernel_size: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, C, H, W)`` scaled by its channel weights."""
        descriptor = x.mean(dim=(2, 3)).unsqueeze(1)  # (B, 1, C)
        weight = torch.sigmoid(self.conv(descriptor)).squeeze(1)
        return x * weight[:, :, None, None]


class ComplementaryContext(nn.Module):
    """CCI: ECA on the layer3 map, 2x2 quadrants, average-pooled, each classified by an MLP.

    ``separate_heads=False`` (default) applies one MLP to all four quadrants, as the reference code does
    (its ``ModuleList`` holds the same module four times); this gives the published parameter counts.
    """

    def __init__(self, channels: int, num_classes: int, separate_heads: bool = False, reduction: int = 4) -> None:
        super().__init__()
        self.eca = EfficientChannelAttention(kernel_size=5)
        hidden = channels // reduction
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
            for _ in range(4 if separate_heads else 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Quadrant logits ``(B, 4, num_classes)``: top-left, top-right, bottom-left, bottom-right.

        An odd side splits at ``side // 2`` (at 112 px the 7x7 map gives 3 and 4), so the quadrants
        still tile the map.
        """
        x = self.eca(x)
        mid_y, mid_x = x.shape[2] // 2, x.shape[3] // 2
        quadrants = (
            x[:, :, :mid_y, :mid_x], x[:, :, :mid_y, mid_x:], x[:, :, mid_y:, :mid_x], x[:, :, mid_y:, mid_x:],
        )
        logits = [self.heads[i % len(self.heads)](q.mean(dim=(2, 3))) for i, q in enumerate(quadrants)]
        return torch.stack(logits, dim=1)


class ResNetTrunk(nn.Module):
    """A torchvision ResNet up to layer3, keeping torchvision's parameter names; returns layer2 and layer3."""

    def __init__(self, resnet: torchvision.models.ResNet) -> None:
        super().__init__()
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3"):
            self.add_module(name, getattr(resnet, name))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(layer2 map, layer3 map)``: 512x28x28 and 1024x14x14 for ResNet-50 at 224 px."""
        layer2 = self.layer2(self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x))))))
        return layer2, self.layer3(layer2)


class ScanCciHead(nn.Module):
    """The trainable heads of SCAN + CCI (one learning-rate group) over trunk maps of ``channels``
    (layer2, layer3) channels: (512, 1024) for ResNet-50, (128, 256) for ResNet-18."""

    def __init__(self, num_classes: int, shared: bool, separate_quadrant_heads: bool,
                 channels: tuple[int, int] = (512, 1024)) -> None:
        super().__init__()
        self.scan = SpatioChannelAttention(channels[0], num_classes, shared=shared)
        self.cci = ComplementaryContext(channels[1], num_classes, separate_heads=separate_quadrant_heads)


@dataclass
class ScanCciOutput:
    """Everything one SCAN + CCI forward pass computes."""

    logits: torch.Tensor  # (B, num_classes): mean of the SCAN and the 4 quadrant logits
    attention_logits: torch.Tensor  # (B, num_classes) SCAN
    quadrant_logits: torch.Tensor  # (B, 4, num_classes) CCI
    embedding: torch.Tensor  # (B, 2 * layer2 channels) SCAN's fused vector
    local_attention: torch.Tensor  # (B, h, w) SCAN's local attention, channel mean


TRUNKS: dict[str, tuple[Callable[..., torchvision.models.ResNet], tuple[int, int]]] = {
    "resnet50": (torchvision.models.resnet50, (512, 1024)),
    "resnet18": (torchvision.models.resnet18, (128, 256)),
}
"""Trunks SCAN + CCI runs on: the torchvision builder and the (layer2, layer3) channel counts."""


def check_trunk(trunk: str) -> None:
    """Raise :class:`DataError` for a trunk outside :data:`TRUNKS`."""
    if trunk not in TRUNKS:
        raise DataError(f"SCAN trunk {trunk!r} is not one of {', '.join(TRUNKS)}")


class ScanCci(nn.Module):
    """SCAN + CCI on a ResNet truncated after layer3.

    ``trunk="resnet50"`` is the reference (the VGGFace2 weights load into it). ``"resnet18"`` keeps the
    method (25-patch local attention, global attention, CCI quadrants) on ResNet-18's 128-channel layer2
    and 256-channel layer3 maps: about 6x cheaper a step at 56 px, and the trunk the baselines share
    (its MS-Celeb or torchvision ResNet-18 weights load into it).

    Attributes
    ----------
    backbone
        :class:`ResNetTrunk` (torchvision names; VGGFace2 and torchvision weights load into it).
    head
        :class:`ScanCciHead` (SCAN and CCI).
    """

    def __init__(self, num_classes: int, shared: bool = False, separate_quadrant_heads: bool = False,
                 trunk: str = "resnet50") -> None:
        super().__init__()
        check_trunk(trunk)
        builder, channels = TRUNKS[trunk]
        self.backbone = ResNetTrunk(builder(weights=None))
        self.head = ScanCciHead(num_classes, shared, separate_quadrant_heads, channels)
        self.gradcam_layer = "backbone.layer3"
        self.gradcam_layers = ("backbone.layer3", "backbone.layer2")  # strides 16, 8
        self.embedding_dim = 2 * channels[0]

    def _maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Trunk maps; an input under :data:`MIN_INPUT_SIZE` is upsampled first (the patch grid needs 5x5)."""
        height, width = x.shape[-2:]
        if min(height, width) < MIN_INPUT_SIZE:
            size = (max(height, MIN_INPUT_SIZE), max(width, MIN_INPUT_SIZE))
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return self.backbone(x)

    def run(self, x: torch.Tensor) -> ScanCciOutput:
        """All outputs for a batch ``(B, 3, H, W)``."""
        layer2, layer3 = self._maps(x)
        scan = self.head.scan(layer2)
        quadrants = self.head.cci(layer3)
        logits = torch.cat([scan.logits.unsqueeze(1), quadrants], dim=1).mean(dim=1)
        return ScanCciOutput(logits, scan.logits, quadrants, scan.fused, scan.local_attention)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolutional map: layer3, ``(B, C3, H/16, W/16)``."""
        return self._maps(x)[1]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """SCAN's fused, L2-normalised vector (1024-d on ResNet-50, 256-d on ResNet-18)."""
        return self.head.scan(self._maps(x)[0]).fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The prediction logits: the mean of the five logit vectors."""
        return self.run(x).logits


def scan_cci_loss(out: ScanCciOutput, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """Loss terms ``attention`` (SCAN CE), ``quadrants`` (sum of 4 CEs) and ``total`` (0.2 / 0.8 mix)."""
    attention = F.cross_entropy(out.attention_logits, target)
    quadrants = sum(F.cross_entropy(out.quadrant_logits[:, i], target) for i in range(4))
    total = ATTENTION_LOSS_WEIGHT * attention + (1 - ATTENTION_LOSS_WEIGHT) * quadrants
    return {"attention": attention, "quadrants": quadrants, "total": total}


@register_model("scan")
def scan(num_classes: int, shared: bool = False, separate_quadrant_heads: bool = False,
         trunk: str = "resnet50") -> ScanCci:
    """SCAN + CCI; ``shared=True`` uses one local attention unit for all 25 patches (13.5M instead of 70.2M
    on ResNet-50); ``trunk`` ``"resnet50"`` (reference) or ``"resnet18"`` (3.1M with the shared unit)."""
    return ScanCci(num_classes, shared=shared, separate_quadrant_heads=separate_quadrant_heads, trunk=trunk)
