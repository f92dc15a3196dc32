"""Batched training augmentation on tensors, identical for every view of a sample.

A batch has shape ``(B, V, 3, H, W)`` with values in [0, 1]: ``V`` views of one sample (the
non-masked and the masked image of a pair) receive the same flip, affine warp and colour jitter,
so a pair stays aligned. Parameters are drawn per sample from a ``torch.Generator``, which makes
an epoch's augmentation reproducible from its seed. All work is a few batched tensor operations
(``affine_grid``/``grid_sample``), on whatever device the batch lives on.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from trainers.config import AugmentConfig

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

_GREY = torch.tensor([0.299, 0.587, 0.114])


def _uniform(n: int, bound: float, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, generator=generator) * 2 - 1) * bound


def affine_matrices(n: int, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """``(n, 2, 3)`` matrices for ``affine_grid``: flip, rotation, scale and shift per sample.

    Shifts are fractions of the image size (``affine_grid`` spans [-1, 1], hence the factor 2).
    """
    angle = _uniform(n, math.radians(config.rotate), generator)
    scale = 1 + _uniform(n, config.scale, generator)
    shift = _uniform(2 * n, config.shift, generator).view(n, 2) * 2
    flip = torch.where(torch.rand(n, generator=generator) < config.flip, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, shift[:, 0]], 1), torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1
    )
    return theta


def colour_factors(n: int, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """``(n, 3)`` brightness, contrast and saturation factors around 1."""
    return torch.stack(
        [1 + _uniform(n, config.brightness, generator), 1 + _uniform(n, config.contrast, generator),
         1 + _uniform(n, config.saturation, generator)],
        1,
    )


def augment_views(batch: torch.Tensor, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Augment a ``(B, V, 3, H, W)`` float batch in [0, 1]; every view of a sample alike.

    Parameters are drawn on the CPU (so a seed gives the same result on any device) and moved to
    the batch's device.
    """
    b, v, c, h, w = batch.shape
    theta = affine_matrices(b, config, generator).to(batch.device, batch.dtype)
    factors = colour_factors(b, config, generator).to(batch.device, batch.dtype)
    flat = batch.reshape(b * v, c, h, w)
    theta = theta.repeat_interleave(v, 0)
    factors = factors.repeat_interleave(v, 0).view(b * v, 3, 1, 1, 1)
    grid = F.affine_grid(theta, [b * v, c, h, w], align_corners=False)
    flat = F.grid_sample(flat, grid, mode="bilinear", padding_mode="border", align_corners=False)
    flat = flat * factors[:, 0]
    grey = (flat * _GREY.to(flat.device, flat.dtype).view(1, 3, 1, 1)).sum(1, keepdim=True)
    flat = (flat - grey.mean((2, 3), keepdim=True)) * factors[:, 1] + grey.mean((2, 3), keepdim=True)
    grey = (flat * _GREY.to(flat.device, flat.dtype).view(1, 3, 1, 1)).sum(1, keepdim=True)
    flat = (flat - grey) * factors[:, 2] + grey
    return flat.clamp_(0, 1).view(b, v, c, h, w)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(..., H, W, 3)`` to float ``(..., 3, H, W)`` in [0, 1]."""
    return images.movedim(-1, -3).float().div_(255)


def normalise(batch: torch.Tensor) -> torch.Tensor:
    """ImageNet normalisation of a ``(..., 3, H, W)`` batch in [0, 1] (training and evaluation alike)."""
    mean = torch.tensor(IMAGENET_MEAN, device=batch.device, dtype=batch.dtype).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=batch.device, dtype=batch.dtype).view(3, 1, 1)
    return (batch - mean) / std
