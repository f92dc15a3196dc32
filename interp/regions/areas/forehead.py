"""Region ``forehead``: a band above the brows, :data:`HEIGHT` inter-ocular distances tall.

The band spans the brows' width and rises from their highest point, in the face's own frame (it turns
with the head). With eye centres only (``five-point``) the brows are taken 0.6 inter-ocular distances
above the eyes, as in the ``eyes`` band's five-point box.
"""

from __future__ import annotations

import numpy as np

from interp.regions.areas import AREAS
from interp.regions.areas.base import Area, Geometry
from interp.regions.face_axes import box, face_axes

HEIGHT = 0.7
"""Height of the band in inter-ocular distances."""
BROWS = ("right_brow", "left_brow")
FIVE_POINT_BROWS = -0.6
"""Brow level (face coordinates) assumed without brow landmarks."""
FIVE_POINT_WIDTH = (-0.95, 0.95)


class ForeheadArea(Area):
    name = "forehead"
    description = f"band above the brows, {HEIGHT} inter-ocular distances tall, as wide as the brows"

    def polygon(self, geometry: Geometry) -> np.ndarray | None:
        if geometry.landmarks is None or geometry.layout is None:
            return None
        axes = face_axes(geometry.landmarks, geometry.layout)
        if geometry.layout.has(*BROWS):
            brows = axes.to_face(geometry.layout.points(geometry.landmarks, *BROWS))
            width, top = (float(brows[:, 0].min()), float(brows[:, 0].max())), float(brows[:, 1].min())
        else:
            width, top = FIVE_POINT_WIDTH, FIVE_POINT_BROWS
        return box(axes, width, (top - HEIGHT, top))


AREAS.add(ForeheadArea.name, ForeheadArea())
