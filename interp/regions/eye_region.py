"""Attention on the eyes-and-brows band (region ``eyes``, :mod:`interp.regions.areas.eyes`)."""

from __future__ import annotations

import numpy as np

from interp.regions.base import RegionMetric, fraction_inside


class EyeRegionFraction(RegionMetric):
    """Positive attribution mass on the eyes-and-brows band over total positive mass.

    References
    ----------
    Energy-based pointing game, Wang et al. (2020), "Score-CAM", CVPR Workshops; the region is
    the upper-face evidence that masked-FER methods aim to use (the MSD-E paper: Sola and Gera 2022, ICVGIP).
    """

    name = "eye_fraction"
    region = "eyes"
    direction = "higher"
    reference = "Wang et al. 2020, Score-CAM (energy-based pointing game), CVPRW"
    description = "positive attribution mass on the eyes-and-brows band / total positive mass"

    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        return fraction_inside(attributions, regions)
