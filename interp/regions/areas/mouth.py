"""Region ``mouth``: the outer lips' convex hull padded by :data:`PADDING` inter-ocular distances.

Drawn from the lower-face landmarks (:attr:`Geometry.lower`): on a masked photo with an unmasked
partner, the partner's lips moved onto this face by the eye-landmark similarity transform, since the
masked photo's own mouth landmarks are guesses. With mouth corners only (``five-point``) it is a box
round the corners, half an inter-ocular distance tall.
"""

from __future__ import annotations

import numpy as np

from interp.regions.areas import AREAS
from interp.regions.areas.base import Area, Geometry
from interp.regions.face_axes import box, face_axes, padded_hull

PADDING = 0.1
"""Margin round the outer lips, in inter-ocular distances (coarse maps need a little room)."""
FIVE_POINT_HALF_HEIGHT = 0.25


class MouthArea(Area):
    name = "mouth"
    description = f"outer lips' hull padded by {PADDING} inter-ocular distances (a masked photo: its partner's)"

    def polygon(self, geometry: Geometry) -> np.ndarray | None:
        layout, points = geometry.layout, geometry.lower
        if points is None or layout is None:
            return None
        axes = face_axes(points, layout)
        if layout.has("lips_outer"):
            return padded_hull(layout.points(points, "lips_outer"), PADDING * axes.distance)
        corners = axes.to_face(layout.points(points, "mouth_corners"))
        level = float(corners[:, 1].mean())
        return box(axes, (float(corners[:, 0].min()) - PADDING, float(corners[:, 0].max()) + PADDING),
                   (level - FIVE_POINT_HALF_HEIGHT, level + FIVE_POINT_HALF_HEIGHT))


AREAS.add(MouthArea.name, MouthArea())
