"""Region ``lower_face``: where a face mask sits - nose bridge, under the eyes, cheeks, jaw, chin.

The outline is the one the data code estimates for a real masked photo
(:func:`trainers.data.masking.outline.lower_face_polygon`: layouts with eyes, nose tip and jaw line,
i.e. ``mediapipe-478``/``468``, ``ibug-68``, ``demo-148``), drawn from the lower-face landmarks
(:attr:`Geometry.lower`: a masked photo's unmasked partner moved onto it by the eye-landmark similarity
transform). With five points it is a box from just below the eyes to under the mouth corners.
"""

from __future__ import annotations

import numpy as np

from interp.regions.areas import AREAS
from interp.regions.areas.base import Area, Geometry
from interp.regions.face_axes import box, face_axes
from trainers.data.masking.outline import ESTIMATE, REQUIRED_GROUPS, lower_face_polygon

FIVE_POINT_WIDTH = (-1.0, 1.0)
FIVE_POINT_CHIN = 0.8
"""Chin below the mouth corners, in inter-ocular distances (five-point layout)."""


class LowerFaceArea(Area):
    name = "lower_face"
    description = "the lower face a mask covers (nose bridge to chin, cheek to cheek), from landmarks"

    def polygon(self, geometry: Geometry) -> np.ndarray | None:
        layout, points = geometry.layout, geometry.lower
        if points is None or layout is None:
            return None
        if layout.has(*REQUIRED_GROUPS):
            return lower_face_polygon(points, layout)
        axes = face_axes(points, layout)
        nose = float(axes.to_face(layout.points(points, "nose_tip"))[:, 1].mean())
        chin = float(axes.to_face(layout.points(points, "mouth_corners"))[:, 1].max()) + FIVE_POINT_CHIN
        return box(axes, FIVE_POINT_WIDTH, (ESTIMATE.under_eyes * nose, chin))


AREAS.add(LowerFaceArea.name, LowerFaceArea())
