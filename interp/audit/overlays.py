"""Overlays in the style of the MSD-E paper's figure 6: heatmap on the face, the mask outline, and
a green (right) or red (wrong) border; plus figure 6's grid of overlays with its row and column labels."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps, font_manager
from PIL import Image, ImageDraw, ImageFont

from interp.present import figure6_grid

from trainers.common.atomic import atomic_path

RIGHT = (40, 180, 60)
WRONG = (220, 40, 40)
UNKNOWN = (140, 140, 140)  # an unlabelled photo: neither right nor wrong
OUTLINE = (255, 255, 255)


def overlay(image: np.ndarray, attribution: np.ndarray, *, correct: bool | None,
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
        Whether the model's prediction was right (green border) or wrong (red); ``None`` without a label (grey).
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
    draw.rectangle([0, 0, size - 1, size - 1], outline=_colour(correct), width=border)
    return blended


def labelled_grid(images: pd.DataFrame, tiles: Mapping[tuple[str, str], Image.Image]) -> Image.Image:
    """Figure 6 as a reader needs it: the arm's name left of each row, the view and true class above each
    column, the predicted class under each tile (its border says right or wrong); text in DejaVu Sans at
    a ninth of a tile's side (24 px on 224-px tiles).

    Parameters
    ----------
    images
        The audit's per-image table (``model``, ``image_id``, ``label``, ``pred``, ``masked``, ``correct``,
        ``pair_id``); see :func:`interp.present.figure6_grid`.
    tiles
        ``(arm, image_id)`` -> overlay tile, all of one size.
    """
    grid = figure6_grid(images, tiles)
    side = next(iter(tiles.values())).width
    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), max(10, side // 9))
    bold = ImageFont.truetype(font_manager.findfont("DejaVu Sans:bold"), max(10, side // 9))
    line = int(font.size * 1.35)
    pad = font.size // 2
    label_width = max(int(bold.getlength(arm)) for arm in grid.arms) + 2 * pad
    cell = side + line + pad
    sheet = Image.new("RGB", (label_width + len(grid.images) * side, line + pad + len(grid.arms) * cell), "white")
    draw = ImageDraw.Draw(sheet)
    for column, header in enumerate(grid.headers):
        draw.text((label_width + column * side + side // 2, pad), header, fill=(0, 0, 0), font=bold, anchor="mt")
    for row, arm in enumerate(grid.arms):
        top = line + pad + row * cell
        draw.text((label_width - pad, top + side // 2), arm, fill=(0, 0, 0), font=bold, anchor="rm")
        for column, image_id in enumerate(grid.images):
            if (arm, image_id) not in tiles:
                continue
            left = label_width + column * side
            sheet.paste(tiles[(arm, image_id)], (left, top))
            pred, right = grid.predictions.get((arm, image_id), ("?", True))
            draw.text((left + side // 2, top + side + 2), f"→ {pred}", fill=_colour(right), font=font,
                      anchor="mt")
    return sheet


def _colour(correct: bool | None) -> tuple[int, int, int]:
    return UNKNOWN if correct is None else RIGHT if correct else WRONG


def save_png(image: Image.Image, target: Path) -> Path:
    """Write a PNG atomically."""
    with atomic_path(target) as tmp:
        image.save(tmp, format="PNG")
    return target
