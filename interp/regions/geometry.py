"""Regions of one image at a map's size, from its geometry in the model's input frame.

Geometry in the manifest is in the stored image's pixel coordinates; the model sees a crop of
that image (the face box, or the whole image, eye-levelled when the manifest has a ``face_roll``)
resized to a square. The image cache maps points into that square
(:meth:`trainers.data.cache.InputFrame.map`), and :func:`region_masks` rasterises every registered
region (:data:`AREAS`) at once.
"""

from __future__ import annotations

import logging

import numpy as np

from interp.regions.areas import AREAS, Geometry
from interp.regions.rasterise import rasterise_polygon
from trainers.common.errors import DataError

log = logging.getLogger(__name__)


def region_masks(geometry: Geometry, size: int, map_size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Boolean ``(H, W)`` mask of every registered region for one image, by region name.

    ``geometry`` is already in the ``size`` x ``size`` input frame
    (:meth:`trainers.data.cache.InputFrame.map`). A missing geometry, or landmarks whose layout lacks a region's groups, gives an empty region,
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
