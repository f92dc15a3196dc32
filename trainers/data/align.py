"""Eye-level alignment of face crops: the image cache turns each crop so that the eyes are level.

A manifest row's ``face_roll`` (degrees, written by ``data faces``) is the angle of the line from
the subject's right eye to the left eye, positive when the left eye (on the image's right) is
lower. The cached input shows the square crop box turned counter-clockwise by that angle about the
box's centre, so the eyes lie on a horizontal line. Geometry (landmarks, mask polygons) maps into
the cached input by :meth:`trainers.data.cache.InputFrame.map`: :func:`level_points`, then the box
scaling.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from PIL import Image

from trainers.data.manifest import Manifest
from trainers.common.errors import DataError

ROLL_COLUMN = "face_roll"
MIN_ROLL = 0.5
"""Rolls smaller than this many degrees are not worth a resampling and are left as they are."""

Box = tuple[float, float, float, float]


def face_rolls(manifest: Manifest) -> list[float]:
    """The ``face_roll`` of every row in degrees (0 where the column or the cell is empty).

    Raises
    ------
    DataError
        When a cell is not a number; the message names the row.
    """
    table = manifest.table
    if ROLL_COLUMN not in table.columns:
        return [0.0] * len(table)
    rolls = []
    for row, (image_id, value) in enumerate(zip(table["image_id"], table[ROLL_COLUMN])):
        text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
        try:
            roll = float(text) if text else 0.0
        except ValueError as exc:
            raise DataError(f"manifest row {row + 2} (image_id {image_id}): face_roll {text!r} is not a number of "
                            "degrees; clear it or rerun `python -m trainers data faces`") from exc
        rolls.append(roll if abs(roll) >= MIN_ROLL else 0.0)
    return rolls


def roll_key(manifest: Manifest) -> str:
    """The ``face_roll`` column as text, for cache keys (empty without the column)."""
    if ROLL_COLUMN not in manifest.table.columns:
        return ""
    return pd.Series(face_rolls(manifest)).map(repr).str.cat(sep="\n")


def level_points(points: np.ndarray | None, box: Box, roll: float) -> np.ndarray | None:
    """Points of the stored image where they appear once the crop ``box`` is turned by ``roll``
    degrees about its centre (the coordinates stay those of the stored image)."""
    if points is None or not roll:
        return points
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    cos, sin = math.cos(math.radians(roll)), math.sin(math.radians(roll))
    offset = np.asarray(points, dtype=float)[:, :2] - centre
    # counter-clockwise on screen, in image coordinates (y down)
    turned = np.column_stack([offset[:, 0] * cos + offset[:, 1] * sin, -offset[:, 0] * sin + offset[:, 1] * cos])
    return centre + turned


def levelled_crop(image: Image.Image, box: Box, roll: float, size: int) -> Image.Image:
    """The square ``box`` of ``image`` turned by ``roll`` degrees about its centre, ``size`` pixels.

    The region that the turned square sweeps is first resized with Lanczos filtering (no aliasing
    on large photos), then turned with bicubic interpolation; beyond the image edge is black.
    """
    side = box[2] - box[0]
    scale = size / side
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    angle = math.radians(roll)
    sweep = math.ceil(size * (abs(math.cos(angle)) + abs(math.sin(angle)))) + 2
    half = sweep / (2 * scale)
    left, top = math.floor(centre[0] - half) - 1, math.floor(centre[1] - half) - 1
    right, bottom = math.ceil(centre[0] + half) + 1, math.ceil(centre[1] + half) + 1
    region = image.crop((left, top, right, bottom))  # black beyond the image edge
    within = (centre[0] - half - left, centre[1] - half - top, centre[0] + half - left, centre[1] + half - top)
    region = region.resize((sweep, sweep), Image.Resampling.LANCZOS, box=within, reducing_gap=3.0)
    # Output point o (from the output's centre) shows the swept region's centre plus o turned back.
    cos, sin, middle = math.cos(angle), math.sin(angle), sweep / 2
    coefficients = (cos, -sin, middle - (cos - sin) * size / 2, sin, cos, middle - (sin + cos) * size / 2)
    return region.transform((size, size), Image.Transform.AFFINE, coefficients, Image.Resampling.BICUBIC)
