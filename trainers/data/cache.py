"""The image cache: every image decoded, face-cropped and resized once into one uint8 array.

Training reads only this cache, never the original files (MSD-E's photos are 31-50 MP). The cache
is one ``.npy`` file of shape ``(N, size, size, 3)``, rows in manifest table order, opened
memory-mapped. Its name carries the manifest's content hash, the size and the crop flag, so a
changed manifest gets a new cache and an unchanged one is reused across runs. The folder is
``$MASKFER_CACHE`` or ``~/.cache/maskfer``; deleting it only costs a rebuild.

Face crop: the ``face_box`` column (``"x0,y0,x1,y1"``) when the manifest has one, else the bounding
box of the landmarks widened by :data:`LANDMARK_MARGIN`, else the whole image. The region is made
square (by its longer side, kept inside the image) and resized with Lanczos filtering; when the
manifest has a ``face_roll`` (from ``data faces``) the crop is turned about its centre so that the
eyes are level (:mod:`trainers.data.align`). Box and landmark coordinates refer to the image as
displayed, i.e. after its EXIF orientation.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageOps
from tqdm import tqdm

from trainers.common.atomic import atomic_path
from trainers.data.align import face_rolls, level_points, levelled_crop, roll_key
from trainers.data.manifest import Manifest, content_hash, parse_points
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

CACHE_VERSION = 1
"""Bumped whenever decoding or cropping changes, so old caches are not reused."""
CACHE_ENV = "MASKFER_CACHE"
LANDMARK_MARGIN = 1.3
"""Side of a landmark crop relative to the longer side of the landmarks' bounding box."""
BACKGROUND = (255, 255, 255)
"""Colour that transparent pixels are composited onto."""

_ORIENTATION_TAG = 0x0112
_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)

Region = tuple[float, float, float, float]


def default_cache_dir() -> Path:
    """``$MASKFER_CACHE`` when set, else ``~/.cache/maskfer``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "maskfer"


def cache_path(manifest: Manifest, size: int, face_crop: bool = True, cache_dir: Path | None = None) -> Path:
    """Where the cache of ``manifest`` at ``size`` pixels (with or without face crop) lives.

    The key covers the manifest's content hash, the ``face_box`` and ``face_roll`` columns when
    cropping, the size, the crop flag and :data:`CACHE_VERSION`.
    """
    digest = hashlib.sha256(content_hash(manifest).encode())
    if face_crop and "face_box" in manifest.table.columns:
        digest.update(manifest.table["face_box"].map(_text).str.cat(sep="\n").encode())
    if face_crop:
        digest.update(roll_key(manifest).encode())
    crop = "face" if face_crop else "full"
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"images-v{CACHE_VERSION}-{digest.hexdigest()[:32]}-{size}px-{crop}.npy"


def load_images(
    manifest: Manifest,
    size: int,
    *,
    cache_dir: Path | None = None,
    face_crop: bool = True,
    workers: int | None = None,
) -> np.ndarray:
    """The images of ``manifest`` as a read-only memory-mapped ``(N, size, size, 3)`` uint8 array.

    Built on first use (decoded in a thread pool, written to a temporary file, then renamed) and
    reused afterwards.

    Parameters
    ----------
    manifest
        Images to load; rows of the result follow ``manifest.table``.
    size
        Side of the square output images in pixels.
    cache_dir
        Cache folder; default :func:`default_cache_dir`.
    face_crop
        Crop to the face (see module doc) before resizing; ``False`` resizes the whole image.
    workers
        Decoding threads; default ``min(8, cpu count)``.

    Raises
    ------
    DataError
        When an image is missing or cannot be decoded, or a ``face_box`` is malformed; no cache
        file is left behind.
    """
    if size < 1:
        raise DataError(f"image size {size} must be a positive number of pixels")
    target = cache_path(manifest, size, face_crop, cache_dir)
    cached = _open_cached(target, (len(manifest), size, size, 3))
    if cached is not None:
        log.info("image cache: reusing %s", target)
        return cached
    regions, rolls = _crops(manifest, face_crop)
    if face_crop:
        log.info("image cache: %d of %d images have no face box or landmarks; using the whole image",
                 sum(region is None for region in regions), len(regions))
    _build(manifest, regions, rolls, size, target, workers or min(8, os.cpu_count() or 1))
    log.info("image cache: wrote %s", target)
    return np.load(target, mmap_mode="r")


def _open_cached(target: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    if not target.is_file():
        return None
    try:
        array = np.load(target, mmap_mode="r")
    except (OSError, ValueError) as exc:
        log.warning("image cache %s is unreadable (%s); rebuilding it", target, exc)
        return None
    if array.shape != shape or array.dtype != np.uint8:
        log.warning("image cache %s has shape %s, expected %s; rebuilding it", target, array.shape, shape)
        return None
    return array


def _build(manifest: Manifest, regions: list[Region | None], rolls: list[float], size: int, target: Path,
           workers: int) -> None:
    paths = manifest.abspaths()
    ids = manifest.table["image_id"].tolist()

    def decode_row(row: int) -> np.ndarray:
        try:
            return decode_image(paths[row], size, regions[row], rolls[row])
        except _DECODE_ERRORS as exc:
            raise DataError(
                f"{paths[row]} (image_id {ids[row]}): cannot decode ({exc}); run "
                "`python -m trainers data check` on the manifest to find and skip bad images"
            ) from exc

    with atomic_path(target) as tmp:
        array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(paths), size, size, 3))
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            images = pool.map(decode_row, range(len(paths)))
            for row, image in enumerate(tqdm(images, total=len(paths), desc=f"caching images {size}px", unit="img")):
                array[row] = image
            array.flush()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            del array


def decode_image(path: Path, size: int, region: Region | None = None, roll: float = 0.0) -> np.ndarray:
    """Decode one image to a ``(size, size, 3)`` uint8 RGB array.

    Parameters
    ----------
    path
        Image file in any format Pillow reads.
    size
        Output side in pixels.
    region
        Face box ``(x0, y0, x1, y1)`` in displayed-image coordinates, or ``None`` for the whole
        image; it is squared and kept inside the image.
    roll
        Degrees to turn the face crop (counter-clockwise) about its centre to level the eyes
        (:func:`trainers.data.align.levelled_crop`); ignored without ``region``.
    """
    with Image.open(path) as image:
        width, height = image.size
        box = crop_box(image, region)
        if image.format == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale while the crop keeps at least `size` pixels.
            scale = size / max(1.0, min(box[2] - box[0], box[3] - box[1]))
            if scale < 1:
                image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
        factor = image.size[0] / width
        upright = ImageOps.exif_transpose(image)
    rgb = to_rgb(upright)
    box = tuple(min(max(v * factor, 0.0), limit) for v, limit in zip(box, rgb.size * 2))
    if roll and region is not None:
        return np.asarray(levelled_crop(rgb, box, roll, size), dtype=np.uint8)
    resized = rgb.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.uint8)


def crop_box(image: Image.Image, region: Region | None) -> Region:
    """The box of the displayed (EXIF-upright) ``image`` that is resized into the cached input:
    ``region`` made square inside the image (:func:`square_region`), or the whole image."""
    width, height = image.size
    if image.getexif().get(_ORIENTATION_TAG, 1) in (5, 6, 7, 8):  # shown turned by 90 degrees
        width, height = height, width
    return square_region(region, width, height) if region is not None else (0.0, 0.0, float(width), float(height))


@dataclass(frozen=True)
class InputFrame:
    """Where one image's displayed pixels land in its cached input.

    Attributes
    ----------
    box
        The square (or whole-image) box of the displayed image that the input shows (:func:`crop_box`).
    roll
        Degrees the box was turned about its centre to level the eyes (0 when not turned).
    size
        Side of the cached input in pixels.
    """

    box: Region
    roll: float
    size: int

    def map(self, points: np.ndarray | None) -> np.ndarray | None:
        """``(n, 2)`` displayed-image points (landmarks, polygons) in input pixels; ``None`` stays ``None``."""
        if points is None:
            return None
        x0, y0, x1, y1 = self.box
        levelled = level_points(np.asarray(points, dtype=float)[:, :2], self.box, self.roll)
        return (levelled - np.array([x0, y0])) * np.array([self.size / (x1 - x0), self.size / (y1 - y0)])


def input_frames(manifest: Manifest, rows: list[int], size: int, face_crop: bool = True) -> list[InputFrame]:
    """The :class:`InputFrame` of the images on ``rows``, exactly as :func:`load_images` crops them.

    Only the image headers are read.
    """
    regions, rolls = _crops(manifest, face_crop)
    paths = manifest.abspaths()
    frames = []
    for row in rows:
        with Image.open(paths[row]) as image:
            frames.append(InputFrame(crop_box(image, regions[row]), rolls[row], size))
    return frames


def _crops(manifest: Manifest, face_crop: bool) -> tuple[list[Region | None], list[float]]:
    """Face region and roll of every row (``None`` and 0 without a face crop; no roll without a region)."""
    if not face_crop:
        return [None] * len(manifest), [0.0] * len(manifest)
    regions = face_regions(manifest)
    rolls = [roll if region is not None else 0.0 for region, roll in zip(regions, face_rolls(manifest))]
    return regions, rolls


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB.

    16-bit greyscale is scaled from 0-65535 to 0-255; transparency (alpha, or a palette or
    greyscale transparency key) is composited onto :data:`BACKGROUND`.
    """
    if image.mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.rint(values * (255.0 / 65535.0)), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode == "F":
        raise DataError("floating-point images are not supported; save them as 8- or 16-bit")
    if "A" in image.mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def square_region(region: Region, width: float, height: float) -> Region:
    """The square around ``region``'s centre with its longer side, shifted to lie inside the image
    (and shrunk to the image's shorter side if it is larger)."""
    x0, y0, x1, y1 = region
    side = min(max(x1 - x0, y1 - y0, 1.0), width, height)
    left = min(max((x0 + x1 - side) / 2, 0.0), width - side)
    top = min(max((y0 + y1 - side) / 2, 0.0), height - side)
    return (left, top, left + side, top + side)


def face_regions(manifest: Manifest) -> list[Region | None]:
    """Face region of every image: its ``face_box``, else its landmarks' box widened by
    :data:`LANDMARK_MARGIN`, else ``None`` (whole image).

    Raises
    ------
    DataError
        When a ``face_box`` or landmarks cell is malformed; the message names the row.
    """
    table = manifest.table
    boxes = table["face_box"].map(_text) if "face_box" in table.columns else pd.Series([""] * len(table))
    regions: list[Region | None] = []
    for row, (image_id, box, landmarks) in enumerate(zip(table["image_id"], boxes, table["landmarks"])):
        try:
            if box:
                regions.append(_parse_box(box))
            elif landmarks:
                regions.append(_landmark_region(parse_points(landmarks, manifest.root)))
            else:
                regions.append(None)
        except (DataError, ValueError, OSError) as exc:
            raise DataError(f"manifest row {row + 2} (image_id {image_id}): {exc}") from exc
    return regions


def _parse_box(text: str) -> Region:
    try:
        x0, y0, x1, y1 = (float(v) for v in text.strip("[]() ").split(","))
    except ValueError as exc:
        raise DataError(f"face_box {text!r} is not 'x0,y0,x1,y1'") from exc
    if not (x1 > x0 and y1 > y0):
        raise DataError(f"face_box {text!r} is empty: x1 must exceed x0 and y1 exceed y0")
    return (x0, y0, x1, y1)


def _landmark_region(points: np.ndarray | None) -> Region | None:
    if points is None or len(points) == 0:
        return None
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * LANDMARK_MARGIN / 2
    return (cx - half, cy - half, cx + half, cy + half)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()
