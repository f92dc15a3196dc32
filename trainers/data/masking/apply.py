"""``data mask``: put a synthetic face mask on every unpaired non-masked face of a manifest.

Each such row ``r`` (it needs landmarks: run ``data faces`` first) gets a masked partner: a PNG
under ``OUT/images/`` with the mask painted on (lossless, so every pixel outside the outline is
the original's), the row ``<image_id>+mask`` with ``masked = true``, and both rows share
``pair_id = <image_id>`` and ``mask_polygon`` = the exact outline drawn (``mask_polygon_source =
exact``; the two images have the same geometry). The masked row's ``source`` is ``<source>+mask``
and ``mask_style``/``mask_colour`` say what was drawn. Style, colour, pattern and outline jitter
are drawn per image from ``(seed, image_id)``, so a rerun gives the same images whatever the row
order. Masked rows and rows already paired are kept as they are.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from trainers.common.atomic import atomic_path
from trainers.data.cache import to_rgb
from trainers.data.faces.annotate import EXACT, POLYGON_SOURCE
from trainers.data.landmarks import resolve_layout
from trainers.data.manifest import Manifest, format_points, parse_points
from trainers.data.masking.outline import face_frame, mask_outline
from trainers.data.masking.paint import choose_look, paint_mask
from trainers.data.masking.styles import STYLES
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.csv"
IMAGE_FOLDER = "images"
MASKED_SUFFIX = "+mask"


@dataclass
class MaskResult:
    """What :func:`mask_dataset` wrote: the paired manifest and how many rows were masked."""

    manifest: Manifest
    manifest_path: Path
    masked: int
    skipped_no_landmarks: int


def parse_styles(text: str) -> tuple[str, ...]:
    """``"surgical,n95"`` -> ``("surgical", "n95")``; DataError naming the choices for an unknown one."""
    styles = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [style for style in styles if style not in STYLES]
    if unknown or not styles:
        raise DataError(f"--styles {text!r}: unknown style {', '.join(unknown) or '(none given)'}; "
                        f"choose from {', '.join(STYLES)}")
    return styles


def mask_dataset(source: str | Path, out: str | Path, *, styles: tuple[str, ...] = tuple(STYLES), seed: int = 0,
                 progress: bool = True) -> MaskResult:
    """Write ``out/manifest.csv``: every row of ``source`` plus a masked partner for each unpaired
    non-masked face with landmarks, and the masked images under ``out/images/``.

    Raises
    ------
    DataError
        When no row can be masked (none has landmarks: run ``data faces``), or a row's landmarks
        are unreadable or in a layout without eyes, nose tip and jaw.
    """
    manifest = Manifest.load(source)
    out = Path(out)
    table = manifest.table.copy()
    if POLYGON_SOURCE not in table.columns:
        table[POLYGON_SOURCE] = np.where(table["mask_polygon"] != "", EXACT, "")
    candidates = (~table["masked"]) & (table["pair_id"] == "")
    has_landmarks = table["landmarks"] != ""
    todo = table.index[candidates & has_landmarks]
    missing = int((candidates & ~has_landmarks).sum())
    if missing:
        log.warning("mask: %d unpaired non-masked row(s) have no landmarks and stay unmasked; run `python -m "
                    "trainers data faces` on the manifest first", missing)
    if not len(todo):
        raise DataError(f"{source}: no unpaired non-masked row with landmarks to mask; run `python -m trainers data "
                        "faces MANIFEST --out DIR` first and mask DIR/manifest.csv")
    log.info("mask: %d row(s) kept as they are (masked or already paired)", int((~candidates).sum()))
    partners = []
    for row in tqdm(todo, desc="drawing masks", unit="img", disable=not progress):
        record = table.loc[row]
        try:
            polygon, partner = _mask_one(manifest, record, out, styles, seed)
        except DataError as exc:
            raise DataError(f"{source} row {row + 2} (image_id {record['image_id']}): {exc}") from exc
        table.loc[row, ["pair_id", "mask_polygon", POLYGON_SOURCE]] = [record["image_id"], polygon, EXACT]
        partners.append(partner)
    masked_rows = pd.DataFrame(partners)
    combined = pd.concat([table, masked_rows], ignore_index=True).fillna("")
    result = Manifest(combined, manifest.root)
    target = out / MANIFEST_NAME
    result.save(target)
    log.info("mask: wrote %d masked image(s) and %s", len(partners), target)
    return MaskResult(Manifest.load(target), target, len(partners), missing)


def _mask_one(manifest: Manifest, record: pd.Series, out: Path, styles: tuple[str, ...],
              seed: int) -> tuple[str, dict]:
    """Draw one mask; return the polygon cell and the masked partner's row."""
    landmarks = parse_points(record["landmarks"], manifest.root)
    layout = resolve_layout(record.get("landmark_layout", ""), landmarks)
    rng = np.random.default_rng([seed, zlib.crc32(record["image_id"].encode())])
    look = choose_look(styles, rng)
    with Image.open(manifest.abspath(record["path"])) as image:
        pixels = np.asarray(to_rgb(ImageOps.exif_transpose(image)), dtype=np.uint8)
    size = np.array([pixels.shape[1], pixels.shape[0]], dtype=float)
    polygon = np.clip(mask_outline(landmarks, layout, look.shape), 0, size)
    painted = paint_mask(pixels, polygon, face_frame(landmarks, layout), look, rng)
    target = out / IMAGE_FOLDER / f"{_file_stem(record['image_id'])}.png"
    with atomic_path(target) as tmp:
        Image.fromarray(painted).save(tmp, format="PNG", compress_level=1)  # lossless; level 6 is twice as slow
    cell = format_points(polygon)
    partner = {**record.to_dict(), "image_id": record["image_id"] + MASKED_SUFFIX,
               "path": Path(os.path.relpath(target.resolve(), manifest.root)).as_posix(),
               "masked": True, "pair_id": record["image_id"], "source": f"{record['source']}{MASKED_SUFFIX}",
               "mask_polygon": cell, POLYGON_SOURCE: EXACT, "mask_style": look.style, "mask_colour": look.colour_hex}
    return cell, partner


def _file_stem(image_id: str) -> str:
    """A file name for an image id (``happy/x.jpg#1`` -> ``happy_x.jpg_1``) plus a short hash, so
    that ids differing only in replaced characters do not collide."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", image_id).strip("._")[:80]
    return f"{readable}-{zlib.crc32(image_id.encode()):08x}"
