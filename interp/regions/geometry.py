"""Regions of one image at a map's size: the mask polygon and the eyes-and-brows band.

Geometry in the manifest is in the stored image's pixel coordinates; the model sees a crop of
that image (the face box, or the whole image) resized to a square. :func:`to_input_frame` maps
points into that square, and :func:`region_masks` rasterises every named region at once.
"""

from __future__ import annotations

import logging

import numpy as np

from interp.regions.eye_region import eye_region_polygon
from interp.regions.rasterise import rasterise_polygon
from trainers.data.manifest import Manifest
from trainers.errors import DataError

log = logging.getLogger(__name__)

_EXIF_ORIENTATION = 0x0112
Box = tuple[float, float, float, float]


def to_input_frame(points: np.ndarray | None, box: Box, size: int) -> np.ndarray | None:
    """Map ``[x, y]`` points from stored-image coordinates into a ``size`` x ``size`` input.

    Parameters
    ----------
    points
        ``(n, 2)`` points, or ``None``.
    box
        ``(x0, y0, x1, y1)`` of the stored image that was resized to the input square (the face
        crop, or ``(0, 0, width, height)`` for the whole image).
    size
        Side of the model's input in pixels.
    """
    if points is None:
        return None
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        raise DataError(f"crop box {box} is empty; expected x0 < x1 and y0 < y1")
    scale = np.array([size / (x1 - x0), size / (y1 - y0)])
    return (np.asarray(points, dtype=float)[:, :2] - np.array([x0, y0])) * scale


def region_masks(
    mask_polygon: np.ndarray | None,
    landmarks: np.ndarray | None,
    size: int,
    map_size: tuple[int, int],
) -> dict[str, np.ndarray]:
    """Boolean ``{"mask": (H, W), "eyes": (H, W)}`` regions for one image.

    Both geometries are already in the ``size`` x ``size`` input frame (see
    :func:`to_input_frame`). A missing geometry, or landmarks in an unsupported layout, gives an
    empty region, which every metric scores as NaN.
    """
    eyes = None
    if landmarks is not None:
        try:
            eyes = eye_region_polygon(landmarks)
        except DataError as exc:
            log.warning("eye region skipped: %s", exc)
    frame = (size, size)
    return {
        "mask": rasterise_polygon(mask_polygon, frame, map_size),
        "eyes": rasterise_polygon(eyes, frame, map_size),
    }


def input_boxes(manifest: Manifest, rows: list[int], face_crop: bool) -> list[Box]:
    """Crop box (stored-image coordinates) that the image cache resized into each input.

    Mirrors :func:`trainers.data.cache.load_images`: the face region (``face_box`` or landmark
    box) made square inside the image when ``face_crop``, else the whole image.
    """
    from PIL import Image

    from trainers.data.cache import face_regions, square_region

    regions = face_regions(manifest) if face_crop else [None] * len(manifest)
    paths = manifest.abspaths()
    boxes = []
    for row in rows:
        with Image.open(paths[row]) as image:
            width, height = image.size
            if image.getexif().get(_EXIF_ORIENTATION, 1) in (5, 6, 7, 8):  # shown turned by 90 degrees
                width, height = height, width
        region = regions[row]
        whole = (0.0, 0.0, float(width), float(height))
        boxes.append(square_region(region, width, height) if region is not None else whole)
    return boxes
