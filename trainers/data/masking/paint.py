"""Paint a face mask into a photo: style, colour, curvature shading, the photo's own lighting.

Only pixels inside the outline change, and its anti-aliased edge (up to two pixels outside it). The mask
is shaded in the face's frame (:class:`trainers.data.masking.outline.FaceFrame`): brightest along
the nose ridge and falling off towards each cheek (asymmetric when the head is turned), with the
style's pleats, seam or weave following the face's roll; it carries the low-frequency lighting of
the skin it covers, and its brightness is matched to the face's, so a mask on a dim photo is dim.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from trainers.data.masking.outline import FaceFrame, OutlineShape
from trainers.data.masking.styles import PALETTES, PATTERNS, STYLES

SKIN_REFERENCE = 165.0
"""Luminance of well-exposed skin; a face darker than this gets a proportionally darker mask."""


@dataclass(frozen=True)
class MaskLook:
    """What one synthetic mask looks like.

    Attributes
    ----------
    style
        A key of :data:`STYLES`.
    colour
        Base RGB colour.
    pattern
        ``plain``, or for cloth masks ``stripes``/``dots`` in a second colour.
    shape
        The style's outline with this mask's jitter.
    """

    style: str
    colour: tuple[int, int, int]
    pattern: str
    shape: OutlineShape

    @property
    def colour_hex(self) -> str:
        """``#rrggbb``."""
        return "#" + "".join(f"{c:02x}" for c in self.colour)


def choose_look(styles: tuple[str, ...], rng: np.random.Generator) -> MaskLook:
    """A random style from ``styles``, a palette colour with jitter, a pattern and outline jitter."""
    style = styles[int(rng.integers(len(styles)))]
    base = np.asarray(PALETTES[style][int(rng.integers(len(PALETTES[style])))], dtype=float)
    colour = tuple(int(v) for v in np.clip(base + rng.normal(0, 6, 3), 0, 255))
    pattern = PATTERNS[int(rng.integers(len(PATTERNS)))] if style == "cloth" else "plain"
    shape = STYLES[style]
    shape = replace(shape, bridge=shape.bridge + rng.uniform(-0.03, 0.03),
                    under_eyes=shape.under_eyes + rng.uniform(-0.03, 0.03),
                    cheeks=shape.cheeks + rng.uniform(-0.03, 0.03), chin=shape.chin + rng.uniform(-0.015, 0.015))
    return MaskLook(style, colour, pattern, shape)


def coverage(polygon: np.ndarray, origin: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of ``polygon`` (image coordinates, pixel centres at +0.5)
    over the ``size = (width, height)`` window whose top-left pixel is ``origin``."""
    canvas = np.zeros((size[1], size[0]), dtype=np.uint8)
    shift = 4
    local = np.round((np.asarray(polygon) - np.asarray(origin) - 0.5) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(canvas, [local], 255, lineType=cv2.LINE_AA, shift=shift)
    return canvas.astype(np.float32) / 255.0


def paint_mask(image: np.ndarray, polygon: np.ndarray, frame: FaceFrame, look: MaskLook,
               rng: np.random.Generator) -> np.ndarray:
    """A copy of the ``(H, W, 3)`` uint8 ``image`` with a mask painted over ``polygon``.

    Parameters
    ----------
    image
        The photo as displayed.
    polygon
        The mask outline in image coordinates (inside the image).
    frame
        The face's frame (orientation, eye distance, nose).
    look
        Style, colour and pattern.
    rng
        Random source of the fabric texture.
    """
    height, width = image.shape[:2]
    x0, y0 = np.maximum(np.floor(polygon.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(polygon.max(axis=0)).astype(int) + 2, [width, height])
    cover = coverage(polygon, (x0, y0), (x1 - x0, y1 - y0))
    region = image[y0:y1, x0:x1].astype(np.float32)
    grid = np.stack(np.meshgrid(np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5), axis=-1)
    across, down = np.moveaxis(frame.coordinates(grid), -1, 0)
    outline = frame.coordinates(polygon)
    scale = frame.eye_distance
    shade = _curvature(across, down, outline, frame) * _texture(look, across, down, outline, scale, rng)
    shade *= _lighting(region, cover, scale) * _edge(cover, scale)
    colour = np.asarray(look.colour, dtype=np.float32)
    if look.pattern != "plain":
        colour = _pattern(look, across, down, scale)
    skin = float(np.median(_luminance(region)[cover > 0.5])) if (cover > 0.5).any() else SKIN_REFERENCE
    gain = float(np.clip(skin / SKIN_REFERENCE, 0.45, 1.15))
    mask = np.clip(colour * (shade * gain)[..., None], 0, 255)
    alpha = cover[..., None]
    out = image.copy()
    out[y0:y1, x0:x1] = np.rint(region * (1 - alpha) + mask * alpha).astype(np.uint8)
    return out


def _luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _curvature(across: np.ndarray, down: np.ndarray, outline: np.ndarray, frame: FaceFrame) -> np.ndarray:
    """Brightest on the nose ridge, falling off to each side by that side's own width (yaw)."""
    ridge = float(frame.coordinates(frame.nose_tip)[0])
    right, left = ridge - outline[:, 0].min(), outline[:, 0].max() - ridge
    side = np.where(across < ridge, (across - ridge) / max(right, 1e-3), (across - ridge) / max(left, 1e-3))
    top, bottom = outline[:, 1].min(), outline[:, 1].max()
    vertical = np.clip((down - top) / max(bottom - top, 1e-3), 0, 1)
    return (0.70 + 0.30 * np.cos(np.clip(side, -1.3, 1.3) * np.pi / 2.6)) * (1.0 - 0.12 * vertical ** 2)


def _texture(look: MaskLook, across: np.ndarray, down: np.ndarray, outline: np.ndarray, scale: float,
             rng: np.random.Generator) -> np.ndarray:
    top, bottom = outline[:, 1].min(), outline[:, 1].max()
    t = (down - top) / max(bottom - top, 1e-3)
    half = max(outline[:, 0].max() - outline[:, 0].min(), 1e-3) / 2
    s = (across - outline[:, 0].mean()) / half
    grain = 1.0 + 0.02 * rng.standard_normal(across.shape).astype(np.float32)
    if look.style == "surgical":
        texture = np.ones_like(t)
        for level in (0.34, 0.52, 0.70):
            centre = level + 0.05 * s ** 2  # pleats bow with the face
            texture -= 0.10 * np.exp(-(((t - centre) / 0.022) ** 2))
            texture += 0.05 * np.exp(-(((t - centre + 0.04) / 0.025) ** 2))
        return texture * grain
    if look.style == "n95":
        seam = 1.0 - 0.12 * np.exp(-((s / 0.035) ** 2)) * (t > 0.15)
        return seam * grain
    weave = cv2.GaussianBlur(rng.standard_normal(across.shape).astype(np.float32), (0, 0), max(0.004 * scale, 0.6))
    return (1.0 + 0.08 * weave / max(float(weave.std()), 1e-6)) * grain


def _pattern(look: MaskLook, across: np.ndarray, down: np.ndarray, scale: float) -> np.ndarray:
    """Cloth colour with stripes or dots of a contrasting colour, in the face's frame."""
    base = np.asarray(look.colour, dtype=np.float32)
    accent = np.where(base.mean() < 128, base * 0.4 + 150, base * 0.55)
    period = 0.22 * scale
    if look.pattern == "stripes":
        on = np.sin(2 * np.pi * (across + down) / period) > 0.55
    else:
        cell_x, cell_y = np.mod(across, period) - period / 2, np.mod(down, period) - period / 2
        on = cell_x ** 2 + cell_y ** 2 < (0.2 * period) ** 2
    return np.where(on[..., None], accent, base)


def _lighting(region: np.ndarray, cover: np.ndarray, scale: float) -> np.ndarray:
    """The covered skin's low-frequency lighting relative to its mean (shadows carry onto the mask)."""
    inside = (cover > 0.5).astype(np.float32)
    if inside.sum() < 4:
        return np.ones_like(cover)
    sigma = max(0.15 * scale, 1.0)
    luminance = _luminance(region) * inside
    blurred = cv2.GaussianBlur(luminance, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(inside, (0, 0), sigma), 1e-3)
    mean = float(luminance.sum() / inside.sum())
    return np.clip(blurred / max(mean, 1.0), 0.55, 1.4) ** 0.8


def _edge(cover: np.ndarray, scale: float) -> np.ndarray:
    """A slightly darker binding along the outline."""
    distance = cv2.distanceTransform((cover > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
    return 1.0 - 0.18 * np.exp(-distance / max(0.02 * scale, 0.7))
