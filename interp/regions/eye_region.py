"""Attention on the eyes-and-brows band, the region the paper says CL and KD learn to use.

The band is the convex hull of the eye and eyebrow landmarks (both sides, so the glabella between
the brows is inside), enlarged slightly about its centre. Supported landmark layouts: the
478- (or 468-) point MediaPipe face mesh, the demo dataset's subset of it (groups in
``trainers.data.demo.mesh.LANDMARK_GROUPS``), the 68-point iBUG/dlib layout and the 5-point
(eyes, nose, mouth corners) layout of MTCNN/RetinaFace.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull

from interp.regions.base import RegionMetric, fraction_inside
from trainers.data.demo.mesh import landmark_layout
from trainers.errors import DataError

# MediaPipe face-mesh contours (FACEMESH_LEFT_EYE/RIGHT_EYE/LEFT_EYEBROW/RIGHT_EYEBROW vertices).
_MESH_EYES_BROWS = (
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398,
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
    276, 283, 282, 295, 285, 300, 293, 334, 296, 336,
    46, 53, 52, 65, 55, 70, 63, 105, 66, 107,
)
_DEMO_GROUPS = ("right_eye", "left_eye", "right_brow", "left_brow")
# iBUG 68-point layout, 0-based: brows 17-26, eyes 36-47.
_IBUG_EYES_BROWS = tuple(range(17, 27)) + tuple(range(36, 48))


def eye_region_polygon(landmarks: np.ndarray, padding: float = 0.1) -> np.ndarray:
    """Polygon (convex hull, ``(m, 2)``) around both eyes and brows, in landmark coordinates.

    Parameters
    ----------
    landmarks
        ``(n, 2)`` points with n = 468/478 (MediaPipe), the demo subset, 68 (iBUG) or 5 (eyes first).
    padding
        Fractional enlargement about the hull's centre (coarse maps need a little margin).

    Raises
    ------
    DataError
        For a landmark count none of the supported layouts has.
    """
    points = np.asarray(landmarks, dtype=float)[:, :2]
    count = len(points)
    if count in (468, 478):
        band = points[list(_MESH_EYES_BROWS)]
    elif count == _demo_count():
        layout = landmark_layout()
        band = np.concatenate([points[slice(*layout[group])] for group in _DEMO_GROUPS])
    elif count == 68:
        band = points[list(_IBUG_EYES_BROWS)]
    elif count == 5:
        band = _band_from_eye_centres(points[0], points[1])
    else:
        raise DataError(
            f"{count} landmarks: the eye region needs the 478/468-point mesh, its demo subset, 68-point iBUG or "
            "5-point layout; convert the landmarks or leave the column empty"
        )
    hull = band[ConvexHull(band).vertices]
    centre = hull.mean(axis=0)
    return centre + (hull - centre) * (1.0 + padding)


def _demo_count() -> int:
    return max(stop for _, stop in landmark_layout().values())


def _band_from_eye_centres(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """A box from the two eye centres: brows sit about 0.45 inter-ocular distances above them."""
    distance = float(np.linalg.norm(right - left))
    x0, x1 = min(left[0], right[0]) - 0.45 * distance, max(left[0], right[0]) + 0.45 * distance
    y = (left[1] + right[1]) / 2
    y0, y1 = y - 0.6 * distance, y + 0.25 * distance
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


class EyeRegionFraction(RegionMetric):
    """Positive attribution mass on the eyes-and-brows band over total positive mass.

    References
    ----------
    Energy-based pointing game, Wang et al. (2020), "Score-CAM", CVPR Workshops; the region is
    the upper-face evidence that masked-FER methods aim to use (Yang et al. 2024, MSD-E).
    """

    name = "eye_fraction"
    region = "eyes"
    direction = "higher"
    reference = "Wang et al. 2020, Score-CAM (energy-based pointing game), CVPRW"
    description = "positive attribution mass on the eyes-and-brows band / total positive mass"

    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        return fraction_inside(attributions, regions)
