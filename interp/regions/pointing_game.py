"""Pointing game: does the map's maximum fall inside the region?"""

from __future__ import annotations

import numpy as np

from interp.regions.base import RegionMetric, TIE_TOLERANCE, positive_mass


class PointingGame(RegionMetric):
    """Share of the map's maxima that lie inside the mask polygon (1 or 0 for a unique maximum).

    Averaged over images it is the share of images whose strongest evidence is on the mask. The
    maximum is taken over the positive part of the map; pixels within :data:`TIE_TOLERANCE` of
    the peak are tied maxima and the score is the share of them inside the region (the expected
    hit of a pointer that picks one tied maximum at random). A flat map, e.g. Grad-CAM upsampled
    from a 1x1 layer, thus scores the region's share of the image, and a 2x2 Grad-CAM whose
    upsampled peak is a plateau is not scored 0 just because the plateau straddles the border. A
    map without positive evidence scores NaN.

    References
    ----------
    Zhang et al. (2018), "Top-down neural attention by excitation backprop", IJCV 126.
    """

    name = "pointing_game_mask"
    region = "mask"
    direction = "lower"
    reference = "Zhang et al. 2018, Top-down neural attention by excitation backprop, IJCV"
    description = "share of the positive attribution's (tied) maxima inside the mask polygon"

    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        flat = positive_mass(attributions).reshape(len(attributions), -1)
        inside = regions.reshape(len(regions), -1)
        peak = flat.max(axis=1, keepdims=True)
        at_peak = flat >= peak * (1 - TIE_TOLERANCE)
        share = (at_peak & inside).sum(axis=1) / at_peak.sum(axis=1)
        return np.where((peak[:, 0] > 0) & inside.any(axis=1), share, np.nan)


class EyePointingGame(PointingGame):
    """Share of the map's maxima on the eyes-and-brows band."""

    name = "pointing_game_eyes"
    region = "eyes"
    direction = "higher"
    description = "share of the positive attribution's (tied) maxima on the eyes-and-brows band"
