"""A face's own axes from its eye centres, and the small geometry the face regions share.

The regions of :mod:`interp.regions.areas` (forehead, mouth, lower face, face oval) are built in the
frame of the eyes: ``u`` across the face from the subject's right eye to the left one, ``v`` down
the face, both in inter-ocular distances ``D`` with the origin midway between the eye centres. A
region drawn in ``(u, v)`` turns and scales with the face. :func:`similarity` fits the rotation,
scale and shift that carries one face's eye landmarks onto another's (a masked photo's lower-face
landmarks are guesses, so its mouth and lower face come from its unmasked partner moved that way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull

from trainers.common.errors import DataError
from trainers.data.landmarks import LandmarkLayout

EYES = ("right_eye", "left_eye")


@dataclass(frozen=True)
class FaceAxes:
    """``origin`` midway between the eye centres, unit ``across`` (right eye to left eye) and
    ``down`` vectors in image pixels, and the inter-ocular ``distance`` ``D``."""

    origin: np.ndarray
    across: np.ndarray
    down: np.ndarray
    distance: float

    def to_face(self, points: np.ndarray) -> np.ndarray:
        """``(n, 2)`` image points as ``(u, v)`` in inter-ocular distances."""
        offset = np.asarray(points, dtype=float)[:, :2] - self.origin
        return np.stack([offset @ self.across, offset @ self.down], axis=-1) / self.distance

    def to_image(self, uv: np.ndarray) -> np.ndarray:
        """``(n, 2)`` face coordinates ``(u, v)`` back to image pixels."""
        uv = np.asarray(uv, dtype=float) * self.distance
        return self.origin + uv[:, :1] * self.across + uv[:, 1:] * self.down


def face_axes(landmarks: np.ndarray, layout: LandmarkLayout) -> FaceAxes:
    """The :class:`FaceAxes` of one face from its eye landmarks (every layout has both eyes).

    Raises
    ------
    DataError
        When the layout lacks an eye group or both eyes fall on one point.
    """
    right = layout.points(landmarks, "right_eye").mean(axis=0)
    left = layout.points(landmarks, "left_eye").mean(axis=0)
    across = left - right
    distance = float(np.linalg.norm(across))
    if distance < 1e-6:
        raise DataError(f"landmarks ({layout.name}) put both eyes on one point: no face regions can be drawn")
    across = across / distance
    return FaceAxes((right + left) / 2, across, np.array([-across[1], across[0]]), distance)


def box(axes: FaceAxes, u: tuple[float, float], v: tuple[float, float]) -> np.ndarray:
    """The rectangle ``u[0]..u[1]`` x ``v[0]..v[1]`` (face coordinates) as an image polygon."""
    corners = np.array([[u[0], v[0]], [u[1], v[0]], [u[1], v[1]], [u[0], v[1]]])
    return axes.to_image(corners)


def ellipse(axes: FaceAxes, centre: tuple[float, float], radii: tuple[float, float], points: int = 32) -> np.ndarray:
    """An ellipse in face coordinates as an image polygon of ``points`` vertices."""
    angle = np.linspace(0.0, 2 * np.pi, points, endpoint=False)
    uv = np.stack([centre[0] + radii[0] * np.cos(angle), centre[1] + radii[1] * np.sin(angle)], axis=-1)
    return axes.to_image(uv)


def padded_hull(points: np.ndarray, margin: float, steps: int = 16) -> np.ndarray:
    """The convex hull of ``points`` grown by ``margin`` pixels all round (hull of a disc at every point)."""
    angle = np.linspace(0.0, 2 * np.pi, steps, endpoint=False)
    disc = margin * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    cloud = (np.asarray(points, dtype=float)[:, None, :2] + disc[None]).reshape(-1, 2)
    return cloud[ConvexHull(cloud).vertices]


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The ``(2, 3)`` rotation + uniform scale + shift that best carries ``source`` onto ``target``
    (least squares, no reflection; Umeyama 1991). Apply it with :func:`apply`.

    Raises
    ------
    DataError
        When the point sets differ in size or the source points coincide.
    """
    source, target = np.asarray(source, dtype=float)[:, :2], np.asarray(target, dtype=float)[:, :2]
    if source.shape != target.shape or len(source) < 2:
        raise DataError(f"a similarity transform needs two matched point sets of 2+ points, got "
                        f"{len(source)} and {len(target)}")
    mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mean_s, target - mean_t
    variance = float((s ** 2).sum()) / len(s)
    if variance < 1e-12:
        raise DataError("the source points of a similarity transform all coincide")
    u, singular, vt = np.linalg.svd(t.T @ s / len(s))
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(singular) @ sign)) / variance
    return np.hstack([scale * rotation, (mean_t - scale * rotation @ mean_s)[:, None]])


def apply(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(n, 2)`` points moved by a ``(2, 3)`` transform of :func:`similarity`."""
    points = np.asarray(points, dtype=float)[:, :2]
    return points @ transform[:, :2].T + transform[:, 2]
