"""Step ``thumbnails``: a small face image of every image of the run's frozen manifest.

The dashboard's hover cards and galleries and the report's preview sheet show these files; they are
listed in ``analysis/index.json``, which is the allow-list the dashboard serves images from. Images
come from the image cache (face crop, as training saw them), so no photo is decoded twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from interp import layout
from interp.runs import Run
from interp.steps import register
from interp.steps.base import Step
from trainers.common.atomic import atomic_path
from trainers.data.cache import load_images
from trainers.data.manifest import Manifest
from trainers.common.errors import DataError


@dataclass
class ThumbnailsConfig:
    """Options of the ``thumbnails`` step: ``size`` is the thumbnail side in pixels."""

    size: int = 96

    def __post_init__(self) -> None:
        if not 16 <= self.size <= 512:
            raise DataError(f"thumbnails.size {self.size}: use 16..512 pixels")


@register
class ThumbnailsStep(Step):
    name = "thumbnails"
    order = 5
    description = "face thumbnails of every image of the frozen manifest (dashboard hover cards, report sheets)"
    Config = ThumbnailsConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.path / "manifest.csv"]

    def run(self, run: Run, config: ThumbnailsConfig, analysis: Path) -> list[Path]:
        table = run.manifest()
        images = load_images(Manifest(table, run.path), config.size)
        written, rows = [], []
        for index, image_id in enumerate(tqdm(table["image_id"], desc="thumbnails", unit="img")):
            target = layout.thumbnail_path(analysis, image_id)
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                Image.fromarray(images[index]).save(tmp, format="PNG", optimize=True)
            written.append(target)
            rows.append({"image_id": image_id, "path": target.relative_to(analysis).as_posix()})
        return written + layout.write_table(pd.DataFrame(rows), analysis, "thumbnails")
