"""Polygon -> boolean region at an attribution map's size (matplotlib's Path, pixel centres)."""

from __future__ import annotations

import numpy as np
from matplotlib.path import Path as PolygonPath


def rasterise_polygon(
    polygon: np.ndarray | None,
    frame_size: tuple[int, int],
    map_size: tuple[int, int],
) -> np.ndarray:
    """Boolean ``(H, W)`` region: ``True`` where a map cell's centre lies inside the polygon.

    Parameters
    ----------
    polygon
        ``(n, 2)`` ``[x, y]`` vertices in the coordinates of a ``frame_size`` image (pixel edges at
        integers: the image spans ``[0, width] x [0, height]``); ``None`` or fewer than 3 points
        give an empty region.
    frame_size
        ``(width, height)`` of the image the polygon's coordinates refer to.
    map_size
        ``(H, W)`` of the attribution map to rasterise onto.

    Returns
    -------
    numpy.ndarray
        Boolean ``(H, W)`` array. Sampling cell centres makes the area converge to the polygon's
        area as the map grows, independently of the frame's resolution.
    """
    height, width = map_size
    if polygon is None or len(polygon) < 3:
        return np.zeros((height, width), dtype=bool)
    frame_width, frame_height = frame_size
    xs = (np.arange(width) + 0.5) * (frame_width / width)
    ys = (np.arange(height) + 0.5) * (frame_height / height)
    grid_x, grid_y = np.meshgrid(xs, ys)
    centres = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    inside = PolygonPath(np.asarray(polygon, dtype=float)[:, :2]).contains_points(centres)
    return inside.reshape(height, width)
