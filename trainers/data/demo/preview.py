"""A labelled contact sheet of one subject's images (non-masked row above, masked row below)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from trainers.common.atomic import atomic_path
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest
from trainers.common.errors import DataError

TILE = 192


def contact_sheet(manifest: Manifest, subject: str, target: Path) -> Path:
    """Write a PNG grid of ``subject``'s images: columns in :data:`CLASSES` order, takes side by side.

    Raises
    ------
    DataError
        When the manifest has no image of ``subject``.
    """
    rows = manifest.table[manifest.table["subject"] == subject]
    if rows.empty:
        raise DataError(f"preview: no image of subject {subject!r} in the manifest")
    order = {name: i for i, name in enumerate(CLASSES)}
    rows = rows.assign(_order=rows["label"].map(order)).sort_values(["_order", "pair_id", "masked"], kind="stable")
    pairs = list(dict.fromkeys(rows["pair_id"]))
    font = ImageFont.load_default(size=16)
    label_height = 24
    sheet = Image.new("RGB", (TILE * len(pairs), 2 * TILE + label_height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for column, pair_id in enumerate(pairs):
        pair = rows[rows["pair_id"] == pair_id]
        draw.text((column * TILE + 6, 4), f"{pair['label'].iloc[0]} ({pair_id.rsplit('_', 1)[1]})", fill=(0, 0, 0),
                  font=font)
        for _, row in pair.iterrows():
            with Image.open(manifest.abspath(row["path"])) as image:
                tile = image.convert("RGB").resize((TILE, TILE), Image.Resampling.LANCZOS)
            sheet.paste(tile, (column * TILE, label_height + TILE * int(row["masked"])))
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        sheet.save(tmp, format="PNG")
    return target
