"""Draw a shaded face-mesh portrait with Pillow: pose, light, skin, eyes, brows, lips, hair, glasses.

Everything is drawn ``supersample`` times larger than the stored image and box-filtered down,
which antialiases the polygon edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from trainers.data import landmarks as lm
from trainers.data.demo import mesh as m
from trainers.data.demo.identity import SubjectTraits

FACE_HEIGHT = 0.6
"""Forehead-to-chin height of the face as a fraction of the image side."""


@dataclass(frozen=True)
class Pose:
    """Head pose (degrees), placement and light of one render.

    Attributes
    ----------
    yaw, pitch, roll
        True 3-D rotation of the mesh, each within about +-10 degrees.
    scale
        Face size multiplier; ``shift`` moves the face centre (fractions of the image side).
    light
        Unit vector towards the light (x right, y down, z to the viewer).
    """

    yaw: float
    pitch: float
    roll: float
    scale: float
    shift: tuple[float, float]
    light: tuple[float, float, float]


def sample_pose(rng: np.random.Generator) -> Pose:
    """Draw a pose and a light direction."""
    yaw, pitch, roll = np.clip(rng.normal(0.0, 4.5, 3), -10.0, 10.0)
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.7, 0.1), 1.0])
    light /= np.linalg.norm(light)
    return Pose(round(float(yaw), 3), round(float(pitch), 3), round(float(roll), 3),
                round(float(rng.uniform(0.92, 1.06)), 4),
                (round(float(rng.normal(0.0, 0.02)), 4), round(float(rng.normal(0.0, 0.02)), 4)),
                tuple(round(float(v), 4) for v in light))


def rotation(pose: Pose) -> np.ndarray:
    """Rotation matrix (yaw about y, then pitch about x, then roll about z)."""
    yaw, pitch, roll = np.radians([pose.yaw, pose.pitch, pose.roll])
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    return rz @ rx @ ry


def project(vertices: np.ndarray, pose: Pose, size: float, face_height: float) -> np.ndarray:
    """Rotate and place a centred mesh in an image of side ``size``: ``(n, 3)`` x, y in pixels, z depth.

    ``face_height`` is the forehead-to-chin height of the model's neutral face (mesh units), so
    every subject is framed the same way whatever its expression.
    """
    scale = FACE_HEIGHT * size * pose.scale / face_height
    rotated = vertices @ rotation(pose).T * scale
    rotated[:, 0] += size * (0.5 + pose.shift[0])
    rotated[:, 1] += size * (0.5 + pose.shift[1])
    return rotated


def _polygon(draw: ImageDraw.ImageDraw, points: np.ndarray, fill: tuple[int, ...]) -> None:
    draw.polygon(points[:, :2].ravel().tolist(), fill=fill)


def _shade(colour: tuple[int, int, int], factor: float | np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(colour, dtype=float) * np.asarray(factor)[..., None], 0, 255).astype(np.uint8)


def triangle_shading(points: np.ndarray, triangles: np.ndarray, light: tuple[float, float, float]) -> np.ndarray:
    """Lambert factor per triangle (ambient plus |n . l|)."""
    a, b, c = (points[triangles[:, i]] for i in range(3))
    normals = np.cross(b - a, c - a)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-9
    return 0.42 + 0.62 * np.abs(normals @ np.asarray(light))


def background(size: int, traits: SubjectTraits) -> Image.Image:
    """Vertical gradient between the subject's two background colours."""
    top, bottom = (np.asarray(c, dtype=float) for c in traits.background)
    ramp = np.linspace(0.0, 1.0, size)[:, None]
    column = (top + (bottom - top) * ramp).astype(np.uint8)
    return Image.fromarray(np.broadcast_to(column[:, None, :], (size, size, 3)).copy())


def _hair_cap(points: np.ndarray, traits: SubjectTraits, outward: float) -> np.ndarray:
    """Polygon of the hair over the top of the head (outer bulge, then the hairline back)."""
    arc = np.asarray(lm.MESH_FACE_OVAL[28:] + lm.MESH_FACE_OVAL[:9])  # 234 over the forehead to 454
    upper = points[arc, :2]
    centre = points[lm.MESH_NOSE[0], :2]
    weight = np.sin(np.linspace(0.0, np.pi, len(arc)))[:, None]
    outer = upper + (upper - centre) * outward * (0.4 + weight)
    down = points[lm.MESH_NOSE[0], :2] - points[10, :2]
    hairline = upper + weight * traits.hairline * down
    return np.vstack([outer, hairline[::-1]])


def draw_back_hair(draw: ImageDraw.ImageDraw, points: np.ndarray, traits: SubjectTraits) -> None:
    """Hair behind the head and the neck, drawn before the face."""
    jaw = points[np.asarray(lm.MESH_JAW), :2]
    centre = points[lm.MESH_NOSE[0], :2]
    half = 0.3 * (jaw[-5, 0] - jaw[4, 0])
    chin = jaw[10]
    down = 4.0 * (chin[1] - centre[1])
    neck = np.array([[chin[0] - half, centre[1]], [chin[0] + half, centre[1]],
                     [chin[0] + 1.2 * half, chin[1] + down], [chin[0] - 1.2 * half, chin[1] + down]])
    _polygon(draw, neck, tuple(int(v) for v in _shade(traits.skin, 0.72)))
    if traits.hair_style in ("long", "bun"):
        top = points[10, :2]
        width = np.linalg.norm(points[454, :2] - points[234, :2])
        if traits.hair_style == "long":
            box = [top[0] - 0.62 * width, top[1] - 0.12 * width, top[0] + 0.62 * width, jaw[10, 1] + 0.25 * width]
        else:
            box = [top[0] - 0.22 * width, top[1] - 0.42 * width, top[0] + 0.22 * width, top[1] + 0.02 * width]
        draw.ellipse(box, fill=traits.hair)


def draw_face(draw: ImageDraw.ImageDraw, points: np.ndarray, model: m.FaceModel, traits: SubjectTraits,
              light: tuple[float, float, float]) -> None:
    """Shaded mesh triangles, back to front (painter's algorithm on mean depth)."""
    triangles = model.triangles
    shading = triangle_shading(points, triangles, light)
    colours = _shade(traits.skin, shading)
    depth = points[triangles, 2].mean(axis=1)
    corners = points[triangles][:, :, :2].reshape(len(triangles), 6)
    for index in np.argsort(depth, kind="stable"):
        draw.polygon(corners[index].tolist(), fill=tuple(colours[index].tolist()))


def draw_features(image: Image.Image, draw: ImageDraw.ImageDraw, points: np.ndarray, traits: SubjectTraits,
                  scale: float) -> None:
    """Brows, eyes (sclera, iris, pupil, lid line), nostrils, lips, mouth opening, teeth, hair cap."""
    outward = {"short": 0.14, "crop": 0.07, "long": 0.16, "bun": 0.12}[traits.hair_style]
    _polygon(draw, _hair_cap(points, traits, outward), traits.hair)
    for brow in (lm.MESH_RIGHT_BROW, lm.MESH_LEFT_BROW):
        pts = points[np.asarray(brow), :2]
        centre = pts.mean(axis=0)
        _polygon(draw, centre + (pts - centre) * [1.0, traits.brow_thickness], traits.brows)
    for eye, iris in ((lm.MESH_RIGHT_EYE, lm.MESH_RIGHT_IRIS), (lm.MESH_LEFT_EYE, lm.MESH_LEFT_IRIS)):
        _draw_eye(image, draw, points[np.asarray(eye), :2], points[np.asarray(iris), :2], traits, scale)
    for nostril in (98, 327):
        x, y = points[nostril, :2]
        r = 1.2 * scale
        draw.ellipse([x - 1.5 * r, y - r, x + 1.5 * r, y + r], fill=tuple(int(v) for v in _shade(traits.skin, 0.6)))
    _draw_mouth(draw, points, traits)


def _draw_eye(image: Image.Image, draw: ImageDraw.ImageDraw, contour: np.ndarray, iris: np.ndarray,
              traits: SubjectTraits, scale: float) -> None:
    _polygon(draw, contour, (232, 228, 220))
    left, top = np.floor(contour.min(axis=0)).astype(int) - 1
    right, bottom = np.ceil(contour.max(axis=0)).astype(int) + 1
    if right - left < 2 or bottom - top < 2:
        return
    layer = image.crop((left, top, right, bottom))
    cut = Image.new("L", layer.size, 0)
    ImageDraw.Draw(cut).polygon((contour - [left, top]).ravel().tolist(), fill=255)
    centre = iris[0] - [left, top]
    radius = np.linalg.norm(iris[1:] - iris[0], axis=1).mean() * 1.05
    pen = ImageDraw.Draw(layer)
    pen.ellipse([*(centre - radius), *(centre + radius)], fill=traits.iris)
    pen.ellipse([*(centre - radius * 0.42), *(centre + radius * 0.42)], fill=(12, 10, 10))
    image.paste(layer, (int(left), int(top)), cut)
    draw.line(contour[:9].ravel().tolist(), fill=(30, 22, 20), width=max(1, int(round(1.6 * scale))))


def _draw_mouth(draw: ImageDraw.ImageDraw, points: np.ndarray, traits: SubjectTraits) -> None:
    outer = points[np.asarray(lm.MESH_LIPS_OUTER), :2]
    inner = points[np.asarray(lm.MESH_LIPS_INNER), :2]
    _polygon(draw, outer, traits.lips)
    upper = inner[:11]
    lower = np.vstack([inner[:1], inner[11:][::-1], inner[10:11]])  # paired with upper, corner to corner
    opening = np.linalg.norm(upper - lower, axis=1)
    width = np.linalg.norm(upper[0] - upper[-1])
    if opening.max() < 0.155 * width:  # the neutral mesh's lips are 0.14 mouth-widths apart
        draw.line((0.5 * (upper + lower)).ravel().tolist(), fill=tuple(int(v) for v in _shade(traits.lips, 0.5)),
                  width=max(1, int(round(0.012 * width))))
        return
    _polygon(draw, inner, (70, 22, 28))
    if opening.max() > 0.16 * width:
        teeth = upper + 0.42 * (lower - upper) * np.clip(opening[:, None] / (opening.max() + 1e-9), 0.0, 1.0)
        _polygon(draw, np.vstack([upper, teeth[::-1]]), (236, 232, 222))


def draw_glasses(draw: ImageDraw.ImageDraw, points: np.ndarray, traits: SubjectTraits, scale: float) -> None:
    """Round frames, a bridge and temple arms (drawn last, over a mask)."""
    width = max(1, int(round(2.2 * scale)))
    rims = []
    for eye in (lm.MESH_RIGHT_EYE, lm.MESH_LEFT_EYE):
        pts = points[np.asarray(eye), :2]
        centre = pts.mean(axis=0)
        half = (pts[:, 0].max() - pts[:, 0].min()) * 0.78
        rims.append((centre, half))
        draw.ellipse([centre[0] - half, centre[1] - half * 0.72, centre[0] + half, centre[1] + half * 0.72],
                     outline=traits.glasses_colour, width=width)
    (c1, h1), (c2, h2) = rims
    draw.line([c1[0] + h1, c1[1], c2[0] - h2, c2[1]], fill=traits.glasses_colour, width=width)
    for (centre, half), side, temple in ((rims[0], -1, 127), (rims[1], 1, 356)):
        draw.line([centre[0] + side * half, centre[1], *points[temple, :2]], fill=traits.glasses_colour, width=width)
