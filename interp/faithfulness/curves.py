"""Deletion and insertion curves (Petsiuk et al. 2018) with ROAD imputation (Rong et al. 2022).

Deletion removes the pixels a map ranks most relevant first: a faithful map makes the explained class's
probability fall fast, so a *low* area under the deletion curve is good. Insertion starts from an image with
every pixel removed and puts back the most relevant first: a faithful map makes the probability rise fast,
so a *high* area under the insertion curve is good. "Removed" pixels are filled by ROAD's noisy linear
imputation (:func:`interp.faithfulness.imputation.noisy_linear_imputation`) rather than a constant, so the
hole's shape does not itself move the output; with every pixel removed the image is the mean colour.

References
----------
Petsiuk, V., Das, A. and Saenko, K. (2018). RISE: Randomized input sampling for explanation of black-box
models. BMVC (deletion and insertion). Rong, Y. et al. (2022). A consistent and efficient evaluation
strategy for attribution methods. ICML (ROAD).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from interp.faithfulness.imputation import NOISE, noisy_linear_imputation


@dataclass(frozen=True)
class Curves:
    """Deletion and insertion curves of ``N`` images.

    Attributes
    ----------
    fractions
        ``(S + 1,)`` share of the pixels removed (deletion) or put back (insertion) at each step, 0 to 1.
    deletion, insertion
        ``(N, S + 1)`` probability of the explained class at each step.
    """

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray

    @property
    def auc_deletion(self) -> np.ndarray:
        """``(N,)`` area under the deletion curve (trapezoid rule over the fraction; lower = more faithful)."""
        return np.trapezoid(self.deletion, self.fractions, axis=1)

    @property
    def auc_insertion(self) -> np.ndarray:
        """``(N,)`` area under the insertion curve (higher = more faithful)."""
        return np.trapezoid(self.insertion, self.fractions, axis=1)


def ranking(maps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(N, H*W)`` flat pixel indices of each map, most relevant (largest signed value) first.

    Ties (plateaus of upsampled coarse maps, a flat map) are broken at random, so a flat map removes pixels
    in a random order instead of row by row.
    """
    flat = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    jitter = rng.random(flat.shape)
    return np.stack([np.lexsort((jitter[i], -flat[i])) for i in range(len(flat))])


def class_probability(model: nn.Module, images: torch.Tensor, targets: np.ndarray, batch_size: int) -> np.ndarray:
    """Softmax probability of ``targets`` for ``images``, in batches, without gradients."""
    device = next(model.parameters(), torch.empty(0)).device
    chosen = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size].to(device)).float().cpu()
            out.append(torch.softmax(logits, dim=1).gather(1, chosen[start:start + batch_size, None])[:, 0])
    return torch.cat(out).numpy() if out else np.zeros(0)


def deletion_insertion(model: nn.Module, inputs: torch.Tensor, maps: np.ndarray, targets: np.ndarray, *,
                       steps: int = 5, noise: float = NOISE, seed: int = 0, batch_size: int = 32) -> Curves:
    """Deletion and insertion curves of ``maps`` for ``model`` on ``inputs``.

    Parameters
    ----------
    model
        Classifier returning logits, in eval mode.
    inputs
        ``(N, C, H, W)`` normalised model inputs.
    maps
        ``(N, H, W)`` attribution maps at the input's size (resized bilinearly otherwise).
    targets
        ``(N,)`` explained class of each image (the class the map explains).
    steps
        Curve steps: the fractions 0, 1/steps, ..., 1 of the pixels.
    noise, seed
        Noise of the imputation and the seed of the tie-breaking and the noise.
    batch_size
        Images per forward pass.

    Returns
    -------
    Curves
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    count, _, height, width = inputs.shape
    maps = _at_size(maps, (height, width))
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    order = ranking(maps, rng)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    deletion = np.zeros((count, steps + 1))
    insertion = np.zeros((count, steps + 1))
    pixels = height * width
    for step, fraction in enumerate(fractions):
        first = int(round(fraction * pixels))
        removed = np.zeros((2 * count, pixels), dtype=bool)
        rows = np.arange(count)[:, None]
        removed[:count][rows, order[:, :first]] = True          # deletion: the top `first` pixels are gone
        removed[count:][rows, order[:, first:]] = True          # insertion: only the top `first` are back
        masks = torch.from_numpy(removed.reshape(2 * count, height, width))
        imputed = noisy_linear_imputation(inputs.repeat(2, 1, 1, 1), masks, noise=noise, generator=generator)
        probability = class_probability(model, imputed, np.concatenate([targets, targets]), batch_size)
        deletion[:, step], insertion[:, step] = probability[:count], probability[count:]
    return Curves(fractions, deletion, insertion)


def _at_size(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    maps = np.asarray(maps, dtype=np.float32)
    if maps.shape[-2:] == size:
        return maps
    tensor = torch.from_numpy(maps)[:, None]
    return nn.functional.interpolate(tensor, size=size, mode="bilinear", align_corners=False)[:, 0].numpy()
