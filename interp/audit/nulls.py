"""What the audit's metrics read with nothing learnt: randomised networks and a model-free content map.

- :func:`randomised_null`: the same architecture with every parameterised layer re-initialised, drawn
  afresh for every seed, fold and arm (:func:`interp.audit.sanity.draw_seed`), explaining the same
  images and classes as the trained model. The spread over draws is the null band of every region
  metric and of the shift index: what the architecture, the attribution method and the images give
  by themselves (centre bias, padding, upsampling, a smooth mask).
- :func:`content_maps`: image gradient energy (squared Sobel magnitude of the grey image) pooled to the
  attribution's native grid and upsampled like Grad-CAM: a smooth or patterned mask moves any
  gradient map, with no model at all.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy import ndimage
from torch import nn
from torch.nn import functional

from interp.attribution import create
from interp.audit.sanity import draw_seed, randomise
from interp.audit.shift import shift_shares
from interp.regions import score_regions


def parameterised_leaves(model: nn.Module) -> list[nn.Module]:
    """Every leaf module with its own parameters (what a full randomisation re-initialises)."""
    return [module for module in model.modules()
            if not list(module.children()) and list(module.parameters(recurse=False))]


def randomised_null(model: nn.Module, inputs: torch.Tensor, targets: np.ndarray, regions: Mapping[str, np.ndarray],
                    *, keys: Sequence[int | str], draws: int, method: str = "gradcam", batch_size: int = 32,
                    settings: Mapping[str, object] | None = None,
                    grid: tuple[int, int] | None = None) -> pd.DataFrame:
    """Region metrics and shift index of ``draws`` fully randomised copies of ``model``.

    Parameters
    ----------
    model
        The trained model (left untouched; one copy is re-initialised per draw).
    inputs, targets
        Normalised images and the classes the trained maps explain (the same classes are explained).
    regions
        ``(N, H, W)`` booleans of every region at the input size.
    keys
        What makes the draws of this model distinct (the audit's seed, model name, fold): draw ``i``
        is seeded with :func:`~interp.audit.sanity.draw_seed` of ``(*keys, "null", i)``.
    draws
        Number of random networks.
    grid
        The trained maps' native grid, for the shift index's band (:func:`interp.audit.shift.coarse_band`).

    Returns
    -------
    pandas.DataFrame
        One row per draw and image: ``draw``, ``image`` (index into ``inputs``), every region metric,
        ``positive_share`` and ``shift_index``.
    """
    clone = copy.deepcopy(model)
    leaves = parameterised_leaves(clone)
    frames = []
    for draw in range(draws):
        randomise(leaves, draw_seed(*keys, "null", draw))
        with create(method, clone, batch_size=batch_size, **(settings or {})) as attributor:
            maps = attributor.attribute(inputs, target=torch.as_tensor(np.asarray(targets))).maps
        frame = pd.DataFrame(score_regions(maps, dict(regions)))
        shares = shift_shares(maps, dict(regions), grid)
        frame["positive_share"], frame["shift_index"] = shares["positive_share"], shares["shift_index"]
        frames.append(frame.assign(draw=draw, image=np.arange(len(maps))))
    return pd.concat(frames, ignore_index=True)


def content_maps(images: np.ndarray, grid: tuple[int, int] | None = None) -> np.ndarray:
    """Gradient energy of ``(N, H, W, 3)`` uint8 images, ``(N, H, W)`` float32, at the attribution's grain.

    The squared Sobel gradient magnitude of the grey image is average-pooled to ``grid`` (the
    attribution's native grid; ``None`` keeps pixels) and upsampled bilinearly back to ``H x W``, as
    Grad-CAM's maps are, so both are compared at the same resolution.
    """
    grey = np.asarray(images, dtype=np.float32).mean(axis=-1) / 255.0
    energy = ndimage.sobel(grey, axis=1) ** 2 + ndimage.sobel(grey, axis=2) ** 2
    if grid is None or tuple(grid) == energy.shape[1:]:
        return energy.astype(np.float32)
    tensor = torch.from_numpy(energy).unsqueeze(1)
    coarse = functional.adaptive_avg_pool2d(tensor, tuple(grid))
    return functional.interpolate(coarse, size=energy.shape[1:], mode="bilinear")[:, 0].numpy()
