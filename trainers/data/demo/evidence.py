"""Expression-evidence maps: where, and how far, the expression moved the face.

For each pixel of a low-resolution grid, the magnitude (in pixels of the stored image) of the
3-D displacement between the image's expressive mesh and the same subject's neutral mesh at the
same pose, painted on the surface that is visible there. A neutral image's map is zero. A masked
image's map is its pair's with every cell the mask hides set to zero (:func:`hide`): what the mask
covers cannot be evidence in that image.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

EVIDENCE_SIZE = 64
"""Side of the evidence maps; they cover the whole image, so a map pixel spans ``size / 64`` image pixels."""


def evidence_map(expressive: np.ndarray, neutral: np.ndarray, triangles: np.ndarray, image_size: int,
                 size: int = EVIDENCE_SIZE) -> np.ndarray:
    """Paint the per-triangle mean displacement, back to front, on a ``size`` x ``size`` grid.

    Parameters
    ----------
    expressive, neutral
        ``(478, 3)`` projected meshes (pixels of an image of side ``image_size``, z depth).
    triangles
        ``(t, 3)`` vertex indices.

    Returns
    -------
    numpy.ndarray
        ``float16`` ``(size, size)``; all zero when the meshes are equal.
    """
    displacement = np.linalg.norm(expressive - neutral, axis=1)
    values = displacement[triangles].mean(axis=1)
    if not values.any():
        return np.zeros((size, size), dtype=np.float16)
    corners = expressive[triangles][:, :, :2] * (size / image_size)
    depth = expressive[triangles, 2].mean(axis=1)
    canvas = Image.new("F", (size, size), 0.0)
    draw = ImageDraw.Draw(canvas)
    for index in np.argsort(depth, kind="stable"):
        draw.polygon(corners[index].ravel().tolist(), fill=float(values[index]))
    return np.asarray(canvas, dtype=np.float32).astype(np.float16)


def hide(evidence: np.ndarray, polygon: np.ndarray, image_size: int) -> np.ndarray:
    """``evidence`` with the cells under ``polygon`` set to zero (the evidence of the masked image).

    Parameters
    ----------
    evidence
        ``(size, size)`` map spanning the whole image.
    polygon
        ``(n, 2)`` mask outline in pixels of an image of side ``image_size``.

    Returns
    -------
    numpy.ndarray
        A copy, same dtype; a cell is hidden when the mask touches it (PIL's polygon fill includes
        the outline), so no evidence is kept where the mask covers part of a cell.
    """
    height, width = evidence.shape
    fine = 4  # drawn 4x finer, a cell is hidden when any of its 16 sub-cells is covered
    cover = Image.new("L", (width * fine, height * fine), 0)
    corners = np.asarray(polygon, dtype=float) * (fine * width / image_size)
    ImageDraw.Draw(cover).polygon(corners.ravel().tolist(), fill=1, outline=1)
    touched = np.asarray(cover, dtype=bool).reshape(height, fine, width, fine).any(axis=(1, 3))
    return np.where(touched, 0, evidence).astype(evidence.dtype)
