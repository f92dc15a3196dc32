"""Region occlusion: how much does the explained class's probability drop without the upper or lower face?

Each region (e.g. the upper face: eyes, brows and forehead; the lower face) is removed with ROAD's noisy
linear imputation (:mod:`interp.faithfulness.imputation`) and the drop ``p(original) - p(occluded)`` of
the explained class's probability is recorded. A drop means little on its own - removing any sizeable
patch of a face moves the output - so each region gets a control: a region of exactly the same area
placed *on the face* (the face pixels nearest a random face pixel), never a rolled copy of the region,
which can land on the background. A region matters beyond its size when its drop exceeds its control's.

References
----------
Samek, W. et al. (2017). Evaluating the visualization of what a deep neural network has learned. IEEE TNNLS
(region perturbation). Hooker, S. et al. (2019). A benchmark for interpretability methods in deep neural
networks. NeurIPS (the need for a control of the same size). Rong, Y. et al. (2022), ICML (ROAD).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from interp.faithfulness.curves import class_probability
from interp.faithfulness.imputation import NOISE, noisy_linear_imputation


def control_region(region: np.ndarray, face: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A region of ``region``'s area on ``face``: the face pixels nearest a random face pixel.

    Parameters
    ----------
    region, face
        ``(H, W)`` booleans.
    rng
        Chooses the centre and breaks distance ties.

    Returns
    -------
    numpy.ndarray or None
        ``(H, W)`` booleans with exactly ``region.sum()`` pixels, all on the face; ``None`` when the
        region is empty or larger than the face.
    """
    area = int(np.count_nonzero(region))
    rows, cols = np.nonzero(face)
    if not area or area > len(rows):
        return None
    centre = rng.integers(len(rows))
    distance = np.hypot(rows - rows[centre], cols - cols[centre])
    nearest = np.lexsort((rng.random(len(rows)), distance))[:area]
    control = np.zeros(face.shape, dtype=bool)
    control[rows[nearest], cols[nearest]] = True
    return control


def region_occlusion(model: nn.Module, inputs: torch.Tensor, targets: np.ndarray, regions: Mapping[str, np.ndarray],
                     face: np.ndarray, *, repeats: int = 1, noise: float = NOISE, seed: int = 0,
                     batch_size: int = 32) -> pd.DataFrame:
    """Drop of the explained class's probability when each region, or an equal-area control on the face, is removed.

    Parameters
    ----------
    model
        Classifier returning logits, in eval mode.
    inputs
        ``(N, C, H, W)`` normalised model inputs.
    targets
        ``(N,)`` explained class of each image.
    regions
        Name -> ``(N, H, W)`` booleans (e.g. ``{"upper": ..., "lower": ...}``).
    face
        ``(N, H, W)`` booleans: where the controls may lie.
    repeats
        Control regions per image and region (their drops are averaged).
    noise, seed
        Imputation noise and the seed of the controls and the noise.
    batch_size
        Images per forward pass.

    Returns
    -------
    pandas.DataFrame
        One row per image: ``p_target`` (unoccluded), and per region ``NAME``: ``drop_NAME``,
        ``drop_NAME_control`` (mean over repeats), ``area_NAME`` (share of the image). NaN where a region
        is empty (or larger than the face, for its control).
    """
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    count = inputs.shape[0]
    frame = pd.DataFrame({"p_target": class_probability(model, inputs, targets, batch_size)})
    for name, stack in regions.items():
        frame[f"area_{name}"] = np.asarray(stack, dtype=bool).reshape(count, -1).mean(axis=1)
    masks, owners = _occluded_copies(regions, face, repeats, rng)
    drops: dict[tuple[int, str], list[float]] = {}
    for start in range(0, len(masks), batch_size):
        chunk = owners[start:start + batch_size]
        images = inputs[[image for image, _ in chunk]]
        removed = torch.from_numpy(np.stack(masks[start:start + batch_size]))
        imputed = noisy_linear_imputation(images, removed, noise=noise, generator=generator)
        probability = class_probability(model, imputed, np.asarray(targets)[[image for image, _ in chunk]], batch_size)
        for (image, column), value in zip(chunk, probability):
            drops.setdefault((image, column), []).append(frame.at[image, "p_target"] - float(value))
    for name in regions:
        for column in (f"drop_{name}", f"drop_{name}_control"):
            frame[column] = [float(np.mean(drops[(i, column)])) if (i, column) in drops else np.nan
                             for i in range(count)]
    return frame


def _occluded_copies(regions: Mapping[str, np.ndarray], face: np.ndarray, repeats: int,
                     rng: np.random.Generator) -> tuple[list[np.ndarray], list[tuple[int, str]]]:
    """Every removal mask with the (image, column) it feeds: each non-empty region of each image, and
    ``repeats`` equal-area controls on the face (:func:`control_region`) per region and image."""
    masks, owners = [], []
    for name, stack in regions.items():
        stack = np.asarray(stack, dtype=bool)
        for image in range(len(stack)):
            if stack[image].any():
                masks.append(stack[image])
                owners.append((image, f"drop_{name}"))
            for _ in range(repeats):
                control = control_region(stack[image], np.asarray(face[image], dtype=bool), rng)
                if control is not None:
                    masks.append(control)
                    owners.append((image, f"drop_{name}_control"))
    return masks, owners
