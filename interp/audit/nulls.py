"""What the audit's metrics read with nothing learnt: randomised networks and a model-free content map.

- :func:`randomised_null`: the same architecture with every parameterised layer re-initialised, drawn
  afresh for every seed, fold and arm (:func:`interp.audit.sanity.draw_seed`), explaining the same
  images and classes as the trained model. The spread over draws is the null band of every region
  metric and of the shift index: what the architecture, the attribution method and the images give
  by themselves (centre bias, padding, upsampling, a smooth mask).
- :class:`NullPool`: the draws of an audit, shared by the arms of one map kind on one fold's images.
- :func:`content_maps`: image gradient energy (squared Sobel magnitude of the grey image) pooled to the
  attribution's native grid and upsampled like Grad-CAM: a smooth or patterned mask moves any
  gradient map, with no model at all.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from scipy import ndimage
from torch import nn
from torch.nn import functional

from interp.attribution import create
from interp.audit.sampling import stratified_sample
from interp.audit.sanity import draw_seed, randomise
from interp.audit.shift import shift_shares
from interp.regions import score_regions

NullInputs = Callable[[list[str]], tuple[torch.Tensor, np.ndarray, dict[str, np.ndarray]]]
"""Image ids -> model inputs, classes to explain and regions (the audit's selection of those images)."""


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


@dataclass
class NullPool:
    """The randomised-network null of an audit: ``draws`` fresh networks per map kind, on a few pairs per fold.

    A fully randomised network keeps nothing of an arm's training - only its architecture, the images and the
    classes explained - so when the maps explain the true class, the arms whose maps are of one kind (same
    model class, Grad-CAM layer and input) share the draws: draw ``i`` of a kind is one network (seeded from
    the audit's seed, the kind and ``i``) explaining the null pairs of every fold, and each fold's null is
    its own pairs' maps. Re-initialising a network costs more than explaining a few images with it, so this
    keeps 20 draws affordable as arms and folds are added. With another ``target`` the classes differ per arm
    and model, and every (arm, fold) draws its own networks on its own pairs. The null pairs are ``pairs``
    whole pairs per fold, a seeded, subject-stratified sample of the audited ones (0 = all of them).
    """

    draws: int
    method: str
    batch_size: int
    settings: dict
    seed: int
    shared: bool
    ids: dict[int, set[str]]
    _pool: dict[tuple, pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def plan(cls, images: pd.DataFrame, chosen: dict[tuple[str, int], list[str]], *, draws: int, pairs: int,
             method: str, batch_size: int, settings: dict, seed: int, shared: bool) -> NullPool:
        """The pool of an audit: ``images`` has ``image_id``, ``pair_id``, ``subject``; ``chosen`` maps
        (model, fold) to the audited image ids."""
        ids: dict[int, set[str]] = {}
        for (_, fold), members in chosen.items():
            if fold not in ids:
                rows = images[images["image_id"].isin(members)].drop_duplicates("image_id")
                ids[fold] = set(stratified_sample(rows, 2 * pairs, seed + 2))
        return cls(draws, method, batch_size, dict(settings), seed, shared, ids)

    def explain(self, model: nn.Module, arm: str, kind: str, fold: int, inputs_of: NullInputs,
                grid: tuple[int, int] | None) -> pd.DataFrame:
        """The draws' per-image scores (``fold``, ``image_id``, ``draw``, metrics) for one arm and fold.

        ``inputs_of(image_ids)`` gives the model inputs, the classes to explain and the regions of those
        images; ``kind`` names the arms that may share draws (map kind and input).
        """
        key = (kind,) if self.shared else (kind, fold, arm)
        if key not in self._pool:
            folds = sorted(self.ids) if self.shared else [fold]
            image_ids = sorted(i for f in folds for i in self.ids[f])
            fold_of = {i: f for f in folds for i in self.ids[f]}
            inputs, targets, regions = inputs_of(image_ids)
            null = randomised_null(model, inputs, targets, regions, keys=(self.seed, *map(str, key)), draws=self.draws,
                                   method=self.method, batch_size=self.batch_size, settings=self.settings, grid=grid)
            null.insert(0, "image_id", [image_ids[i] for i in null["image"]])
            null.insert(0, "fold", null["image_id"].map(fold_of))
            self._pool[key] = null.drop(columns="image")
        null = self._pool[key]
        return null[null["fold"] == fold]
