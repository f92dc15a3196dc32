"""Overlays in the style of the MSD-E paper's figure 6: heatmap on the face, the mask outline, and
a green (right) or red (wrong) border; plus a labelled contact sheet of several overlays."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw

from trainers.common.atomic import atomic_path

RIGHT = (40, 180, 60)
WRONG = (220, 40, 40)
OUTLINE = (255, 255, 255)


def overlay(image: np.ndarray, attribution: np.ndarray, *, correct: bool,
            polygon: np.ndarray | None = None, size: int = 224, alpha: float = 0.5,
            border: int = 6, colormap: str = "jet") -> Image.Image:
    """One overlay tile.

    Parameters
    ----------
    image
        ``(H, W, 3)`` uint8 image as the model saw it.
    attribution
        ``(h, w)`` map (any size); its positive part is scaled to [0, 1] and coloured.
    correct
        Whether the model's prediction was right (green border) or wrong (red).
    polygon
        Mask polygon in the image's pixel coordinates, drawn as an outline; ``None`` for none.
    size
        Side of the tile in pixels (border included).
    """
    face = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")
    scale = size / face.width
    face = face.resize((size, size), Image.Resampling.BILINEAR)
    positive = np.clip(np.asarray(attribution, dtype=np.float32), 0, None)
    peak = float(positive.max())
    heat = positive / peak if peak > 0 else positive
    heat_image = Image.fromarray(heat, mode="F").resize((size, size), Image.Resampling.BILINEAR)
    coloured = colormaps[colormap](np.clip(np.asarray(heat_image), 0, 1))[..., :3]
    blended = Image.blend(face, Image.fromarray((coloured * 255).astype(np.uint8)), alpha)
    draw = ImageDraw.Draw(blended)
    if polygon is not None and len(polygon) >= 3:
        points = [(float(x) * scale, float(y) * scale) for x, y in np.asarray(polygon)[:, :2]]
        draw.line(points + points[:1], fill=OUTLINE, width=max(1, size // 112))
    draw.rectangle([0, 0, size - 1, size - 1], outline=RIGHT if correct else WRONG, width=border)
    return blended


def contact_sheet(tiles: Sequence[Image.Image], captions: Sequence[str], columns: int = 4,
                  caption_height: int = 14) -> Image.Image:
    """Tiles in a grid, each with a one-line caption under it (e.g. "cl fold 0: happy -> sad")."""
    if not tiles or len(tiles) != len(captions):
        raise ValueError(f"need as many captions ({len(captions)}) as tiles ({len(tiles)}), at least one")
    width, height = tiles[0].size
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * width, rows * (height + caption_height)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for index, (tile, caption) in enumerate(zip(tiles, captions)):
        x, y = (index % columns) * width, (index // columns) * (height + caption_height)
        sheet.paste(tile, (x, y))
        draw.text((x + 2, y + height + 1), caption, fill=(0, 0, 0))
    return sheet


def save_png(image: Image.Image, target: Path) -> Path:
    """Write a PNG atomically."""
    with atomic_path(target) as tmp:
        image.save(tmp, format="PNG")
    return target
