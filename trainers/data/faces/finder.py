"""Find faces and their 478 MediaPipe face-mesh landmarks in a photo.

MediaPipe 0.10.21 ships both models inside its wheel, so nothing is downloaded. Its face mesh
has its own detector, but that one is short-range (faces filling much of the frame) and finds
about half the faces of a group photo; so faces are detected first with both bundled detectors
(full range for small faces, short range for close-ups, merged), and the mesh runs on an enlarged
square crop around each detection. Landmarks come back in the coordinates of the image as
displayed (after its EXIF orientation), at its full resolution.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from trainers.data.cache import to_rgb
from trainers.data.landmarks import MEDIAPIPE_478, LandmarkLayout
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

LAYOUT: LandmarkLayout = MEDIAPIPE_478
"""The layout of the landmarks :class:`FaceFinder` returns."""
MAX_SIDE = 2048
"""Photos are searched at most this many pixels on their longer side (MSD-E's are 31-50 MP)."""
MESH_CROP = 2.0
"""Side of the square crop the mesh sees, relative to the longer side of the detected box."""
MESH_INPUT = 384
"""Side, in pixels, that each crop is resized to for the mesh."""
MERGE_IOU = 0.3
"""Detections (or meshes) overlapping more than this are one face."""


@dataclass(frozen=True)
class Face:
    """One face found in an image (coordinates of the displayed image, full resolution).

    Attributes
    ----------
    landmarks
        ``(478, 2)`` points in :data:`LAYOUT`.
    score
        The detector's confidence in [0, 1].
    """

    landmarks: np.ndarray
    score: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)``: the bounding box of the landmarks."""
        (x0, y0), (x1, y1) = self.landmarks.min(axis=0), self.landmarks.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def size(self) -> float:
        """The shorter side of :attr:`bounds` in pixels (what ``--min-size`` compares)."""
        x0, y0, x1, y1 = self.bounds
        return min(x1 - x0, y1 - y0)

    @property
    def roll(self) -> float:
        """Angle of the line from the subject's right eye to the left eye, in degrees.

        Positive when the subject's left eye (on the image's right) is lower: turning the image
        counter-clockwise by this angle levels the eyes.
        """
        right = LAYOUT.points(self.landmarks, "right_eye").mean(axis=0)
        left = LAYOUT.points(self.landmarks, "left_eye").mean(axis=0)
        return math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))


def load_upright(path: Path, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float]:
    """Decode an image as displayed (EXIF-rotated, RGB), at most ``max_side`` on its longer side.

    Returns
    -------
    tuple
        ``(H, W, 3)`` uint8 array and its scale relative to the full-resolution displayed image
        (divide coordinates in the array by it to get full-resolution coordinates).
    """
    with Image.open(path) as image:
        full = max(image.size)
        if image.format == "JPEG" and full > max_side:  # libjpeg decodes at 1/2, 1/4 or 1/8 directly
            image.draft("RGB", (math.ceil(image.size[0] * max_side / full), math.ceil(image.size[1] * max_side / full)))
        rgb = to_rgb(ImageOps.exif_transpose(image))
    scale = min(1.0, max_side / max(rgb.size))
    if scale < 1.0:
        rgb = rgb.resize((round(rgb.size[0] * scale), round(rgb.size[1] * scale)), Image.Resampling.BOX)
    return np.asarray(rgb, dtype=np.uint8), max(rgb.size) / full


class FaceFinder:
    """MediaPipe face detection (full and short range) plus Face Mesh with iris (478 points).

    Use as a context manager (it holds MediaPipe graphs); one instance per process.

    Parameters
    ----------
    min_confidence
        Detector score below which a detection is ignored.
    """

    def __init__(self, min_confidence: float = 0.5) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter
        try:
            from mediapipe.python.solutions import face_detection, face_mesh
        except ImportError as exc:
            raise DataError(
                "finding faces needs mediapipe 0.10.21 (the last release with bundled models): run `make setup`, "
                "or `pip install --no-deps mediapipe==0.10.21` plus the pins in requirements.txt"
            ) from exc
        self._detectors = [  # 1: full range (small faces), 0: short range (close-ups)
            face_detection.FaceDetection(model_selection=selection, min_detection_confidence=min_confidence)
            for selection in (1, 0)
        ]
        self._mesh = face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=3,
                                        min_detection_confidence=0.3)

    def __enter__(self) -> "FaceFinder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        for graph in (*self._detectors, self._mesh):
            graph.close()

    def find(self, image: np.ndarray, scale: float = 1.0) -> list[Face]:
        """Faces in an ``(H, W, 3)`` uint8 RGB image, largest first.

        Parameters
        ----------
        image
            The (possibly downscaled) displayed image.
        scale
            Its scale relative to full resolution (from :func:`load_upright`); landmarks are
            returned at full resolution.
        """
        faces = []
        for box, score in _merge(self._detect(image), MERGE_IOU):
            landmarks = self._mesh_in(image, box)
            if landmarks is not None:
                faces.append(Face(landmarks / scale, score))
        kept = [face for face, _ in _merge([(f.bounds, f.score) for f in faces], MERGE_IOU, items=faces)]
        return sorted(kept, key=lambda f: -(f.bounds[2] - f.bounds[0]) * (f.bounds[3] - f.bounds[1]))

    def _detect(self, image: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        height, width = image.shape[:2]
        found = []
        for detector in self._detectors:
            for detection in detector.process(image).detections or []:
                box = detection.location_data.relative_bounding_box
                x0, y0 = box.xmin * width, box.ymin * height
                found.append(((x0, y0, x0 + box.width * width, y0 + box.height * height), float(detection.score[0])))
        return found

    def _mesh_in(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
        """Landmarks of the face in ``box``: the mesh on an enlarged square crop around it."""
        import cv2

        side = MESH_CROP * max(box[2] - box[0], box[3] - box[1])
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        origin = centre - side / 2
        zoom = MESH_INPUT / side
        # Crop, resize and pad (with black beyond the image) in one affine warp.
        warp = np.array([[zoom, 0.0, -origin[0] * zoom], [0.0, zoom, -origin[1] * zoom]])
        interpolation = cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR
        crop = cv2.warpAffine(image, warp, (MESH_INPUT, MESH_INPUT), flags=interpolation,
                              borderMode=cv2.BORDER_CONSTANT)
        result = self._mesh.process(np.ascontiguousarray(crop))
        if not result.multi_face_landmarks:
            return None
        meshes = [np.array([(p.x, p.y) for p in face.landmark]) * MESH_INPUT for face in result.multi_face_landmarks]
        middle = np.array([MESH_INPUT / 2, MESH_INPUT / 2])
        best = min(meshes, key=lambda points: float(np.linalg.norm(points[LAYOUT.groups["nose_tip"][0]] - middle)))
        if len(best) != LAYOUT.size:
            return None
        return best / zoom + origin


def _merge(boxes: list[tuple[tuple[float, float, float, float], float]], threshold: float,
           items: list | None = None) -> list[tuple]:
    """Greedy non-maximum suppression: keep the highest-scoring of overlapping boxes.

    Returns ``(box, score)`` pairs, or ``(item, score)`` when ``items`` (one per box) is given.
    """
    order = sorted(range(len(boxes)), key=lambda i: -boxes[i][1])
    kept: list[int] = []
    for index in order:
        if all(_iou(boxes[index][0], boxes[other][0]) <= threshold for other in kept):
            kept.append(index)
    return [((items[i] if items is not None else boxes[i][0]), boxes[i][1]) for i in kept]


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
