"""Mask-region attention fraction: how much of the positive attribution falls on the mask."""

from __future__ import annotations

import numpy as np

from interp.regions.base import RegionMetric, fraction_inside


class MaskFraction(RegionMetric):
    """Positive attribution mass inside the mask polygon divided by total positive mass.

    0 means the model's evidence lies entirely off the mask, 1 entirely on it. On an unmasked
    image the polygon is where a mask would be, so the score says how much the model relies on
    the lower face.

    References
    ----------
    The energy-based pointing game of Wang et al. (2020), "Score-CAM: Score-weighted visual
    explanations for convolutional neural networks", CVPR Workshops, restricted to positive
    evidence as in Grad-CAM (Selvaraju et al. 2017).
    """

    name = "mask_fraction"
    region = "mask"
    direction = "lower"
    reference = "Wang et al. 2020, Score-CAM (energy-based pointing game), CVPRW"
    description = "positive attribution mass inside the mask polygon / total positive mass"

    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        return fraction_inside(attributions, regions)
