"""Expression-evidence maps: where, and how far, the expression moved the face.

For each pixel of a low-resolution grid, the magnitude (in pixels of the stored image) of the
3-D displacement between the image's expressive mesh and the same subject's neutral mesh at the
same pose, painted on the surface that is visible there. A neutral image's map is zero.
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
