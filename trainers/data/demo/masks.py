"""Face masks drawn over the mesh's lower face: the exact polygon and its look (surgical, N95, cloth)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from trainers.data import landmarks as lm
from trainers.data.demo.identity import SubjectTraits


def mask_polygon(points: np.ndarray) -> np.ndarray:
    """The region a mask covers, ``(n, 2)`` in the coordinates of ``points``.

    It runs from the cheek under one ear, below the eyes and over the nose bridge to the other
    cheek, then back round the jaw and under the chin, a little outside the face outline.
    """
    xy = points[:, :2]
    nose_tip = xy[lm.MESH_NOSE_TIP]
    bridge = xy[197] + 0.15 * (xy[6] - xy[197])
    under_eyes = []
    for lower_lid in (145, 374):
        under_eyes.append(xy[lower_lid] + 0.42 * (nose_tip - xy[lower_lid]) * [0.0, 1.0])
    right_cheek, left_cheek = xy[234], xy[454]
    top = np.array([
        right_cheek,
        0.5 * (right_cheek + under_eyes[0]) + [0.0, -0.05 * (nose_tip[1] - xy[145][1])],
        under_eyes[0],
        bridge,
        under_eyes[1],
        0.5 * (left_cheek + under_eyes[1]) + [0.0, -0.05 * (nose_tip[1] - xy[374][1])],
        left_cheek,
    ])
    jaw = xy[np.asarray(lm.MESH_JAW[::-1][1:-1])]
    centre = np.array([nose_tip[0], 0.5 * (nose_tip[1] + xy[152][1])])
    jaw = centre + (jaw - centre) * 1.06
    return np.vstack([top, jaw])


def clip_to_image(polygon: np.ndarray, size: int) -> np.ndarray:
    """Keep polygon points inside ``[0, size - 1]``."""
    return np.clip(polygon, 0.0, size - 1.0)


def _pattern(layer: Image.Image, traits: SubjectTraits, scale: float) -> None:
    draw = ImageDraw.Draw(layer)
    w, h = layer.size
    base = np.asarray(traits.mask_colour, dtype=float)
    accent = tuple(int(v) for v in (255 - base) * 0.6 + base * 0.4) if base.mean() < 140 else tuple(
        int(v) for v in base * 0.55)
    line = max(1, int(round(1.5 * scale)))
    if traits.mask_kind == "surgical":
        for fraction in (0.3, 0.48, 0.66):
            y = fraction * h
            draw.line([0, y, w, y], fill=tuple(int(v) for v in base * 0.8), width=2 * line)
    elif traits.mask_kind == "n95":
        draw.line([w / 2, 0, w / 2, h], fill=tuple(int(v) for v in base * 0.78), width=2 * line)
    elif traits.mask_pattern == "dots":
        step = 12 * scale
        for y in np.arange(step / 2, h, step):
            for x in np.arange(step / 2 + (y // step % 2) * step / 2, w, step):
                draw.ellipse([x - 2.5 * scale, y - 2.5 * scale, x + 2.5 * scale, y + 2.5 * scale], fill=accent)
    elif traits.mask_pattern == "stripes":
        step = 14 * scale
        for x in np.arange(-h, w, step):
            draw.line([x, 0, x + h, h], fill=accent, width=3 * line)
    elif traits.mask_pattern == "checks":
        step = 16 * scale
        for y in np.arange(0, h, step):
            for x in np.arange(((y // step) % 2) * step, w, 2 * step):
                draw.rectangle([x, y, x + step - 1, y + step - 1], fill=accent)


def draw_mask(image: Image.Image, polygon: np.ndarray, traits: SubjectTraits, scale: float) -> None:
    """Paint the subject's mask over ``polygon`` (in ``image`` pixels), with ear loops and shading."""
    left, top = np.floor(polygon.min(axis=0)).astype(int)
    right, bottom = np.ceil(polygon.max(axis=0)).astype(int) + 1
    size = (int(right - left), int(bottom - top))
    layer = Image.new("RGB", size, traits.mask_colour)
    _pattern(layer, traits, scale)
    across = np.linspace(-1.0, 1.0, size[0])
    shade = 0.78 + 0.22 * np.cos(across * np.pi / 2.2)
    pixels = (np.asarray(layer, dtype=np.float32) * shade[None, :, None]).astype(np.uint8)
    cut = Image.new("L", size, 0)
    local = polygon - [left, top]
    ImageDraw.Draw(cut).polygon(local.ravel().tolist(), fill=255)
    image.paste(Image.fromarray(pixels), (int(left), int(top)), cut)
    draw = ImageDraw.Draw(image)
    edge = tuple(int(v) for v in np.asarray(traits.mask_colour) * 0.7)
    draw.line(np.vstack([polygon, polygon[:1]]).ravel().tolist(), fill=edge, width=max(1, int(round(1.2 * scale))))
    loop = (235, 235, 235) if traits.mask_kind != "cloth" else edge
    n = len(polygon)
    for corner, lower, out in ((0, n - 3, -1), (6, 9, 1)):
        ear = polygon[corner] + [out * 0.06 * (right - left), -0.12 * (bottom - top)]
        draw.line([*polygon[corner], *ear, *polygon[lower]], fill=loop, width=max(1, int(round(1.6 * scale))))
