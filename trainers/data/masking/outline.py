"""The outline of a face mask from facial landmarks: nose bridge, under the eyes, cheeks, jaw, chin.

Everything is built in the face's own frame: ``x`` along the line from the subject's right eye to
the left eye, ``y`` down the face, both in image pixels. So the outline turns with the head's roll,
and, being drawn through the projected landmarks themselves (nose ridge, jaw line), it narrows on
the far side of a turned head (yaw) as the face does. The same function gives the estimated mask
region of a real masked photo (:func:`lower_face_polygon`).

Any layout with the groups ``right_eye``, ``left_eye``, ``nose_tip`` and ``jaw`` works
(``mediapipe-478``/``468``, ``ibug-68``; see :mod:`trainers.data.landmarks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainers.data.landmarks import LandmarkLayout
from trainers.common.errors import DataError

REQUIRED_GROUPS = ("right_eye", "left_eye", "nose_tip", "jaw")
FEATURE_GROUPS = ("nose_tip", "nose", "lips_outer", "mouth_corners")
"""What a mask must cover whatever the head's pose (the groups a layout has)."""
FEATURE_MARGIN = 0.08
"""Margin round the nose and mouth, in eye distances."""


@dataclass(frozen=True)
class OutlineShape:
    """Where a mask's edges sit, as fractions of the eye-centre-to-nose-tip height ``h``.

    Attributes
    ----------
    bridge
        Top of the mask on the nose ridge: this fraction of the way from the eyes' midpoint to
        the nose tip.
    under_eyes
        Top edge below each eye centre.
    cheeks
        Level at which the top edge meets the jaw line on either side.
    chin
        Outward push of the lower edge from the mask's centre (1.0 = on the jaw line).
    sag
        Extra drop of the top edge half-way between the eye and the cheek.
    """

    bridge: float = 0.36
    under_eyes: float = 0.46
    cheeks: float = 0.55
    chin: float = 1.05
    sag: float = 0.04


ESTIMATE = OutlineShape()
"""The lower-face region assumed for a real masked photo (a plain surgical mask's coverage)."""


def check_layout(layout: LandmarkLayout) -> None:
    """Raise :class:`DataError` unless ``layout`` has the groups an outline needs."""
    if not layout.has(*REQUIRED_GROUPS):
        missing = [g for g in REQUIRED_GROUPS if g not in layout.groups]
        raise DataError(f"landmark layout {layout.name} lacks {', '.join(missing)}: a mask outline needs eyes, "
                        "nose tip and jaw line (mediapipe-478, mediapipe-468 or ibug-68); run `python -m trainers "
                        "data faces` to add MediaPipe landmarks")


@dataclass(frozen=True)
class FaceFrame:
    """A face's own frame in image pixels: ``x_axis`` from the subject's right eye to the left,
    ``y_axis`` down the face, ``origin`` midway between the eye centres."""

    origin: np.ndarray
    x_axis: np.ndarray
    y_axis: np.ndarray
    eye_distance: float
    height: float
    """Distance from the eyes' line down to the nose tip."""
    right_eye: np.ndarray
    left_eye: np.ndarray
    nose_tip: np.ndarray

    def coordinates(self, points: np.ndarray) -> np.ndarray:
        """``(..., 2)`` image points as ``(across, down)`` in this frame."""
        offset = np.asarray(points, dtype=float) - self.origin
        return np.stack([offset @ self.x_axis, offset @ self.y_axis], axis=-1)


def face_frame(landmarks: np.ndarray, layout: LandmarkLayout) -> FaceFrame:
    """The :class:`FaceFrame` of one face.

    Raises
    ------
    DataError
        When the layout lacks a needed group or the landmarks are degenerate.
    """
    check_layout(layout)
    points = layout.check(landmarks)[:, :2]
    right_eye = layout.points(points, "right_eye").mean(axis=0)
    left_eye = layout.points(points, "left_eye").mean(axis=0)
    nose_tip = layout.points(points, "nose_tip").mean(axis=0)
    across = left_eye - right_eye
    distance = float(np.linalg.norm(across))
    if distance < 1e-6:
        raise DataError("landmarks put both eyes on one point; they cannot place a mask")
    x_axis = across / distance
    y_axis = np.array([-x_axis[1], x_axis[0]])  # x turned by +90 degrees: down the face in image coordinates
    origin = (right_eye + left_eye) / 2
    height = float((nose_tip - origin) @ y_axis)
    if height <= 0.05 * distance:
        raise DataError("landmarks put the nose tip level with the eyes; they cannot place a mask")
    return FaceFrame(origin, x_axis, y_axis, distance, height, right_eye, left_eye, nose_tip)


def mask_outline(landmarks: np.ndarray, layout: LandmarkLayout, shape: OutlineShape = ESTIMATE) -> np.ndarray:
    """The region a face mask covers, ``(n, 2)`` in the landmarks' coordinates: across the top from
    the subject's right cheek over the nose to the left cheek, then back round the chin.

    Raises
    ------
    DataError
        When the layout lacks a needed group or the landmarks are degenerate (eyes on one point).
    """
    frame = face_frame(landmarks, layout)
    height, y_axis = frame.height, frame.y_axis
    jaw = layout.points(landmarks, "jaw")
    level = (jaw - frame.origin) @ y_axis
    right_cheek = _crossing(jaw, level, shape.cheeks * height)
    left_cheek = _crossing(jaw[::-1], level[::-1], shape.cheeks * height)
    under_right = frame.right_eye + shape.under_eyes * height * y_axis
    under_left = frame.left_eye + shape.under_eyes * height * y_axis
    bridge = frame.origin + shape.bridge * (frame.nose_tip - frame.origin)
    sag = shape.sag * height * y_axis
    top = [right_cheek, (right_cheek + under_right) / 2 + sag, under_right, bridge,
           under_left, (under_left + left_cheek) / 2 + sag, left_cheek]
    below = level > shape.cheeks * height
    lower = jaw[below][::-1]  # left cheek round the chin to the right cheek
    centre = (frame.nose_tip + lower.mean(axis=0)) / 2 if len(lower) else frame.nose_tip
    lower = centre + (lower - centre) * shape.chin
    # Which side of the face each point is on (-1 the subject's right, +1 the left), from the order
    # of the jaw line, not from positions, which a turned head mixes up.
    chin = int(np.argmax(level))
    sides = np.concatenate([[-1, -1, 0, 0, 0, 1, 1], np.sign(np.arange(len(jaw)) - chin)[below][::-1]])
    return _reach_past_features(np.vstack([np.asarray(top), lower]), sides, landmarks, layout, frame)


def _reach_past_features(polygon: np.ndarray, sides: np.ndarray, landmarks: np.ndarray, layout: LandmarkLayout,
                         frame: FaceFrame) -> np.ndarray:
    """Widen the outline's sides to cover the nose and mouth with a margin.

    On a turned head the far side's jaw line runs behind the nose and mouth in the picture; a real
    mask stands out in front of them, so that side is moved out past them.
    """
    features = frame.coordinates(layout.points(landmarks, *[g for g in FEATURE_GROUPS if layout.has(g)]))
    margin = FEATURE_MARGIN * frame.eye_distance
    outline = frame.coordinates(polygon)
    beside = outline[:, 1] <= features[:, 1].max() + margin
    right, left = beside & (sides < 0), beside & (sides > 0)
    outline[right, 0] = np.minimum(outline[right, 0], features[:, 0].min() - margin)
    outline[left, 0] = np.maximum(outline[left, 0], features[:, 0].max() + margin)
    return frame.origin + outline[:, :1] * frame.x_axis + outline[:, 1:] * frame.y_axis


def lower_face_polygon(landmarks: np.ndarray, layout: LandmarkLayout) -> np.ndarray:
    """The estimated mask region of a face: :func:`mask_outline` with :data:`ESTIMATE`."""
    return mask_outline(landmarks, layout, ESTIMATE)


def _crossing(chain: np.ndarray, level: np.ndarray, target: float) -> np.ndarray:
    """The first point along ``chain`` where ``level`` reaches ``target`` (interpolated)."""
    above = np.nonzero(level >= target)[0]
    if not len(above):
        return chain[-1]
    index = int(above[0])
    if index == 0:
        return chain[0]
    fraction = (target - level[index - 1]) / (level[index] - level[index - 1])
    return chain[index - 1] + fraction * (chain[index] - chain[index - 1])
