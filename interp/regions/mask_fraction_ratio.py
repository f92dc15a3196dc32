"""Mask-region attention relative to the mask's area: above 1 the model over-attends the mask."""

from __future__ import annotations

import numpy as np

from interp.regions.base import RegionMetric, fraction_inside


class MaskFractionRatio(RegionMetric):
    """Mask-region fraction divided by the polygon's share of the image.

    A map spread uniformly over the image scores 1 whatever the mask's size, so scores compare
    across images whose masks cover different areas: > 1 over-attends, < 1 under-attends the mask.

    References
    ----------
    Wang et al. (2020), Score-CAM, CVPR Workshops (energy-based pointing game), normalised by
    region area as in the relevance-mass comparison of Arras et al. (2022), "CLEVR-XAI",
    Information Fusion 81.
    """

    name = "mask_fraction_ratio"
    region = "mask"
    direction = "lower"
    reference = "Score-CAM energy pointing game / region share (Wang et al. 2020; Arras et al. 2022)"
    description = "mask fraction / polygon's share of the image (>1 over-attends the mask)"

    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        share = regions.mean(axis=(1, 2))
        return fraction_inside(attributions, regions) / np.where(share > 0, share, np.nan)
