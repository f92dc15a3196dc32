"""Regions of one image at a map's size, from its manifest geometry.

Geometry in the manifest is in the stored image's pixel coordinates; the model sees a crop of
that image (the face box, or the whole image) resized to a square, the crop that the image cache
chose (:func:`trainers.data.cache.crop_boxes`). :func:`to_input_frame` maps points into that
square, and :func:`region_masks` rasterises every registered region (:data:`AREAS`) at once.
"""

from __future__ import annotations

import logging

import numpy as np

from interp.regions.areas import AREAS, Geometry
from interp.regions.rasterise import rasterise_polygon
from trainers.errors import DataError

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


def to_input_frame(points: np.ndarray | None, box: Box, size: int) -> np.ndarray | None:
    """Map ``[x, y]`` points from stored-image coordinates into a ``size`` x ``size`` input.

    Parameters
    ----------
    points
        ``(n, 2)`` points, or ``None``.
    box
        ``(x0, y0, x1, y1)`` of the stored image that was resized to the input square
        (:func:`trainers.data.cache.crop_boxes`).
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


def region_masks(geometry: Geometry, size: int, map_size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Boolean ``(H, W)`` mask of every registered region for one image, by region name.

    ``geometry`` is already in the ``size`` x ``size`` input frame (see :func:`to_input_frame`).
    A missing geometry, or landmarks whose layout lacks a region's groups, gives an empty region,
    which every metric scores as NaN.
    """
    masks = {}
    for name, area in AREAS.items():
        try:
            polygon = area.polygon(geometry)
        except DataError as exc:
            log.warning("region %s skipped: %s", name, exc)
            polygon = None
        masks[name] = rasterise_polygon(polygon, (size, size), map_size)
    return masks
