"""Region ``face``: the face oval, the frame every on-face share is taken in (background and hair excluded).

The ``face_oval`` landmarks' hull where the layout has them (MediaPipe, ``demo-148``); for ``ibug-68``
the jaw line's hull closed over the forehead band (:mod:`~interp.regions.areas.forehead`); with five
points an ellipse in the face's frame (1.1 by 1.8 inter-ocular distances, centred 0.45 below the eyes).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull

from interp.regions.areas import AREAS
from interp.regions.areas.base import Area, Geometry
from interp.regions.areas.forehead import ForeheadArea
from interp.regions.face_axes import ellipse, face_axes

FIVE_POINT_CENTRE = (0.0, 0.45)
FIVE_POINT_RADII = (1.1, 1.8)


class FaceArea(Area):
    name = "face"
    description = "the face oval: face_oval landmarks' hull (ibug-68: jaw line and forehead band)"

    def polygon(self, geometry: Geometry) -> np.ndarray | None:
        layout, points = geometry.layout, geometry.landmarks
        if points is None or layout is None:
            return None
        if layout.has("face_oval"):
            outline = layout.points(points, "face_oval")
        elif layout.has("jaw"):
            outline = np.vstack([layout.points(points, "jaw"), ForeheadArea().polygon(geometry)])
        else:
            return ellipse(face_axes(points, layout), FIVE_POINT_CENTRE, FIVE_POINT_RADII)
        return outline[ConvexHull(outline).vertices]


AREAS.add(FaceArea.name, FaceArea())
