"""A before/after sheet of synthetic masks: non-masked faces above, their masked partners below."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from trainers.common.atomic import atomic_path
from trainers.data.cache import decode_image, face_regions
from trainers.data.manifest import Manifest
from trainers.common.errors import DataError

TILE = 192
CAPTION = 22


def before_after_sheet(manifest: Manifest, target: Path, pairs: int = 6) -> Path:
    """Write a PNG of up to ``pairs`` synthetic-mask pairs (face crops), captioned with label and style.

    Raises
    ------
    DataError
        When the manifest has no pair with a ``mask_style`` (nothing ``data mask`` drew).
    """
    table = manifest.table
    if "mask_style" not in table.columns:
        raise DataError("preview: the manifest has no synthetic masks (no mask_style column)")
    masked = table[table["masked"] & (table["mask_style"] != "")].head(pairs)
    if masked.empty:
        raise DataError("preview: the manifest has no synthetic masks to show")
    by_id = table.reset_index(drop=True).set_index("image_id", drop=False)
    originals = by_id.loc[masked["pair_id"]]
    rows = Manifest(pd.concat([originals, masked], ignore_index=True), manifest.root)
    regions = face_regions(rows)
    font = ImageFont.load_default(size=14)
    sheet = Image.new("RGB", (TILE * len(masked), 2 * TILE + CAPTION), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for column in range(len(masked)):
        for line in range(2):
            row = line * len(masked) + column
            tile = decode_image(rows.abspath(rows.table.at[row, "path"]), TILE, regions[row])
            sheet.paste(Image.fromarray(np.asarray(tile)), (column * TILE, CAPTION + line * TILE))
        record = masked.iloc[column]
        draw.text((column * TILE + 4, 3), f"{record['label']}: {record['mask_style']}", fill=(0, 0, 0), font=font)
    with atomic_path(target) as tmp:
        sheet.save(tmp, format="PNG")
    return target
