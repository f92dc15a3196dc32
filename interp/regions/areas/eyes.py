"""Region ``eyes``: the eyes-and-brows band, the region the paper says CL and KD learn to use.

The band is the convex hull of both eyes' and brows' landmarks (so the glabella between the brows is
inside), enlarged by :data:`PADDING` about its centre. With eye centres only (the ``five-point``
layout) it is a box around them reaching up to where brows sit.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull

from interp.regions.areas import AREAS
from interp.regions.areas.base import Area, Geometry

PADDING = 0.1
"""Fractional enlargement of the hull about its centre (coarse maps need a little margin)."""
GROUPS = ("right_eye", "left_eye", "right_brow", "left_brow")


class EyesArea(Area):
    name = "eyes"
    description = "eyes-and-brows band: convex hull of eye and brow landmarks, enlarged 10%"

    def polygon(self, geometry: Geometry) -> np.ndarray | None:
        if geometry.landmarks is None or geometry.layout is None:
            return None
        layout, points = geometry.layout, geometry.landmarks
        if layout.has(*GROUPS):
            band = layout.points(points, *GROUPS)
        else:
            eyes = [layout.points(points, side).mean(axis=0) for side in ("right_eye", "left_eye")]
            band = band_from_eye_centres(*eyes)
        hull = band[ConvexHull(band).vertices]
        centre = hull.mean(axis=0)
        return centre + (hull - centre) * (1.0 + PADDING)


def band_from_eye_centres(right: np.ndarray, left: np.ndarray) -> np.ndarray:
    """A box from the two eye centres: brows sit about 0.45 inter-ocular distances above them."""
    distance = float(np.linalg.norm(right - left))
    x0, x1 = min(left[0], right[0]) - 0.45 * distance, max(left[0], right[0]) + 0.45 * distance
    y = (left[1] + right[1]) / 2
    y0, y1 = y - 0.6 * distance, y + 0.25 * distance
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


AREAS.add(EyesArea.name, EyesArea())
