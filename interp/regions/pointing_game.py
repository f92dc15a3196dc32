"""Pointing game: does the map's maximum fall inside the region?"""

from __future__ import annotations

import numpy as np

from interp.regions.base import RegionMetric


class PointingGame(RegionMetric):
    """1 when the map's maximum lies inside the mask polygon, else 0 (NaN for a constant map).

    Averaged over images it is the share of images whose strongest evidence is on the mask.
    Ties for the maximum count as a hit only when every tied pixel is inside; a map flat to
    within 1e-6 of its peak (e.g. Grad-CAM upsampled from a 1x1 layer) has no maximum.

    References
    ----------
    Zhang et al. (2018), "Top-down neural attention by excitation backprop", IJCV 126.
    """

    name = "pointing_game_mask"
    region = "mask"
    direction = "lower"
    reference = "Zhang et al. 2018, Top-down neural attention by excitation backprop, IJCV"
    description = "1 if the attribution maximum is inside the mask polygon, else 0"

    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        flat = attributions.reshape(len(attributions), -1)
        inside = regions.reshape(len(regions), -1)
        peak = flat.max(axis=1, keepdims=True)
        at_peak = flat == peak
        hit = np.all(~at_peak | inside, axis=1).astype(float)
        spread = peak[:, 0] - flat.min(axis=1)
        constant = spread <= 1e-6 * np.maximum(np.abs(peak[:, 0]), np.finfo(float).tiny)  # flat up to rounding
        return np.where(constant | ~inside.any(axis=1), np.nan, hit)


class EyePointingGame(PointingGame):
    """1 when the map's maximum lies on the eyes-and-brows band, else 0."""

    name = "pointing_game_eyes"
    region = "eyes"
    direction = "higher"
    description = "1 if the attribution maximum is on the eyes-and-brows band, else 0"
