"""Named landmark layouts: which point of a ``landmarks`` list is which part of the face.

A manifest declares the layout of each row's ``landmarks`` by name in its ``landmark_layout``
column (see :mod:`trainers.data.manifest`); data code (face crops, synthetic masks) and analysis
code (the regions of :mod:`interp.regions`) look the layout up here, in :data:`LAYOUTS`, and read
points by group name, never by position or by counting points.

Group names follow one vocabulary across layouts. ``right``/``left`` are the *subject's* sides
(the subject's right eye is on the image's left):

``right_eye``, ``left_eye`` (eye contour, or the eye centre in the 5-point layout), ``right_iris``,
``left_iris``, ``right_brow``, ``left_brow``, ``nose_bridge`` (top to bottom), ``nose`` (bridge and
base), ``nose_tip``, ``lips_outer``, ``lips_inner``, ``mouth_corners`` (subject's right, left),
``jaw`` (lower-face outline from the cheek under one ear round the chin to the other), and
``face_oval`` (the whole outline, forehead included). A layout has only the groups its points carry.

Layouts
-------
``mediapipe-478``
    MediaPipe face mesh with iris refinement (``refine_landmarks=True``): 468 mesh points, then the
    iris points 468-477.
``mediapipe-468``
    MediaPipe face mesh without iris.
``ibug-68``
    The iBUG 300-W / dlib 68-point layout, 0-based.
``five-point``
    MTCNN / RetinaFace: right eye centre, left eye centre, nose tip, right and left mouth corner
    (image left to right for eyes and mouth).
``demo-148``
    The demo dataset's 148-point subset of ``mediapipe-478`` (:data:`DEMO_GROUPS`, in that order).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from trainers.common.errors import DataError
from trainers.common.registry import Registry


@dataclass(frozen=True)
class LandmarkLayout:
    """One named landmark layout.

    Attributes
    ----------
    name
        The value of the manifest's ``landmark_layout`` column.
    size
        Number of points a ``landmarks`` cell of this layout holds.
    groups
        Group name -> indices into the layout's points (see the module doc for the vocabulary).
    description
        One line for messages and docs.
    parent, parent_indices
        For a subset of another layout (``demo-148``): that layout's name, and the index in it of
        each of this layout's points.
    """

    name: str
    size: int
    groups: Mapping[str, tuple[int, ...]]
    description: str
    parent: str | None = None
    parent_indices: tuple[int, ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", MappingProxyType({k: tuple(v) for k, v in self.groups.items()}))
        for group, indices in self.groups.items():
            if any(not 0 <= i < self.size for i in indices):
                raise ValueError(f"layout {self.name}: group {group} has an index outside 0..{self.size - 1}")

    def has(self, *groups: str) -> bool:
        """Whether the layout carries every one of ``groups``."""
        return all(group in self.groups for group in groups)

    def indices(self, *groups: str) -> tuple[int, ...]:
        """Indices of ``groups``, concatenated in the order given.

        Raises
        ------
        DataError
            When the layout lacks one of the groups.
        """
        missing = [group for group in groups if group not in self.groups]
        if missing:
            raise DataError(f"landmark layout {self.name} has no group(s) {', '.join(missing)}; "
                            f"it has: {', '.join(self.groups)}")
        return tuple(i for group in groups for i in self.groups[group])

    def points(self, landmarks: np.ndarray, *groups: str) -> np.ndarray:
        """The ``(m, 2)`` points of ``groups`` (concatenated) from ``(size, 2+)`` landmarks."""
        return np.asarray(self.check(landmarks))[list(self.indices(*groups)), :2]

    def check(self, landmarks: np.ndarray) -> np.ndarray:
        """``landmarks`` as an array, after checking that it has :attr:`size` points."""
        points = np.asarray(landmarks, dtype=float)
        if points.ndim != 2 or len(points) != self.size:
            raise DataError(f"landmark_layout {self.name} has {self.size} points, the landmarks have "
                            f"{len(points)}; correct the landmark_layout column or the landmarks")
        return points


def derived_layout(name: str, parent: LandmarkLayout, keep: Iterable[str], description: str) -> LandmarkLayout:
    """The layout of ``parent``'s groups ``keep`` concatenated in that order.

    Besides the kept groups, every other group of ``parent`` whose points are all kept (``jaw``
    inside ``face_oval``, say) is carried over, re-indexed.
    """
    keep = tuple(keep)
    chosen = parent.indices(*keep)
    position: dict[int, int] = {}
    for row, index in enumerate(chosen):
        position.setdefault(index, row)
    groups: dict[str, tuple[int, ...]] = {}
    start = 0
    for group in keep:
        groups[group] = tuple(range(start, start + len(parent.groups[group])))
        start += len(parent.groups[group])
    for group, indices in parent.groups.items():
        if group not in groups and all(i in position for i in indices):
            groups[group] = tuple(position[i] for i in indices)
    return LandmarkLayout(name, len(chosen), groups, description, parent.name, chosen)


# MediaPipe face-mesh indices (FACEMESH_* contours of mediapipe.solutions.face_mesh_connections).
MESH_RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
MESH_LEFT_EYE = (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382)
MESH_RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
MESH_LEFT_BROW = (336, 296, 334, 293, 300, 276, 283, 282, 295, 285)
MESH_NOSE = (168, 6, 197, 195, 5, 4, 1, 2, 98, 327)
MESH_NOSE_TIP = 1
MESH_LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
MESH_LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
MESH_FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
MESH_JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
"""Cheek under the subject's right ear (234) round the chin (152) to the other cheek (454)."""
MESH_RIGHT_IRIS = (468, 469, 470, 471, 472)
MESH_LEFT_IRIS = (473, 474, 475, 476, 477)

_MESH_GROUPS: dict[str, tuple[int, ...]] = {
    "right_eye": MESH_RIGHT_EYE,
    "left_eye": MESH_LEFT_EYE,
    "right_brow": MESH_RIGHT_BROW,
    "left_brow": MESH_LEFT_BROW,
    "nose_bridge": (168, 6, 197, 195),
    "nose": MESH_NOSE,
    "nose_tip": (MESH_NOSE_TIP,),
    "lips_outer": MESH_LIPS_OUTER,
    "lips_inner": MESH_LIPS_INNER,
    "mouth_corners": (61, 291),
    "jaw": MESH_JAW,
    "face_oval": MESH_FACE_OVAL,
}

MEDIAPIPE_468 = LandmarkLayout("mediapipe-468", 468, _MESH_GROUPS, "MediaPipe face mesh, 468 points")
MEDIAPIPE_478 = LandmarkLayout(
    "mediapipe-478", 478, {**_MESH_GROUPS, "right_iris": MESH_RIGHT_IRIS, "left_iris": MESH_LEFT_IRIS},
    "MediaPipe face mesh with iris (refine_landmarks=True), 478 points",
)
IBUG_68 = LandmarkLayout(
    "ibug-68", 68,
    {
        "jaw": tuple(range(0, 17)),
        "right_brow": tuple(range(17, 22)),
        "left_brow": tuple(range(22, 27)),
        "nose_bridge": tuple(range(27, 31)),
        "nose": tuple(range(27, 36)),
        "nose_tip": (30,),
        "right_eye": tuple(range(36, 42)),
        "left_eye": tuple(range(42, 48)),
        "lips_outer": tuple(range(48, 60)),
        "lips_inner": tuple(range(60, 68)),
        "mouth_corners": (48, 54),
    },
    "iBUG 300-W / dlib 68 points, 0-based",
)
FIVE_POINT = LandmarkLayout(
    "five-point", 5,
    {"right_eye": (0,), "left_eye": (1,), "nose_tip": (2,), "mouth_corners": (3, 4)},
    "MTCNN / RetinaFace 5 points: eye centres, nose tip, mouth corners",
)
DEMO_GROUPS: tuple[str, ...] = (
    "right_eye", "left_eye", "right_iris", "left_iris", "right_brow", "left_brow", "nose", "lips_outer",
    "lips_inner", "face_oval",
)
"""The MediaPipe groups the demo dataset writes, in this order."""
DEMO_148 = derived_layout("demo-148", MEDIAPIPE_478, DEMO_GROUPS,
                          "the demo dataset's 148-point subset of mediapipe-478")

LAYOUTS: Registry[LandmarkLayout] = Registry("landmark layout")
"""Every known layout by name; look one up with ``LAYOUTS[name]`` (DataError naming the choices)."""
for _layout in (MEDIAPIPE_478, MEDIAPIPE_468, IBUG_68, FIVE_POINT, DEMO_148):
    LAYOUTS.add(_layout.name, _layout, origin=__name__)


def resolve_layout(name: str, landmarks: np.ndarray) -> LandmarkLayout:
    """The layout of one row's ``landmarks``, checked against the point count.

    Parameters
    ----------
    name
        The row's ``landmark_layout`` cell. When empty (manifests written before the column
        existed) the layout is inferred from the point count if exactly one layout has it, with a
        ``FutureWarning``; this fallback will be removed.
    landmarks
        ``(n, 2)`` points.

    Raises
    ------
    DataError
        For an unknown name, a count that does not match the named layout, or an empty name with
        a count no single layout has.
    """
    if name:
        LAYOUTS[name].check(landmarks)
        return LAYOUTS[name]
    count = len(np.asarray(landmarks))
    matches = [layout for layout in LAYOUTS.values() if layout.size == count]
    if len(matches) != 1:
        raise DataError(f"{count} landmarks and an empty landmark_layout: name the layout in the manifest's "
                        f"landmark_layout column (one of: {', '.join(LAYOUTS)})")
    warnings.warn(f"landmarks without a landmark_layout: assumed {matches[0].name} from their {count} points; "
                  "add a landmark_layout column to the manifest (guessing will be removed)",
                  FutureWarning, stacklevel=2)
    return matches[0]

