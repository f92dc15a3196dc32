"""RAF-DB basic: ``EmoLabel/list_patition_label.txt`` and ``Image/aligned/`` (or ``Image/original/``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from trainers.data.check import Problem
from trainers.data.importers import ImportedTable, register_importer, rows_table
from trainers.data.labels import normalise_label
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

LABEL_LIST = Path("EmoLabel") / "list_patition_label.txt"


@dataclass
class RafdbOptions:
    """Which RAF-DB image folder to read."""

    images: Literal["aligned", "original"] = field(
        default="aligned", metadata={"help": "RAF-DB image folder under Image/: aligned (default) or original"}
    )


@register_importer("rafdb", options=RafdbOptions)
def read_rafdb(src: Path, out_dir: Path, options: RafdbOptions) -> ImportedTable:
    """RAF-DB basic: EmoLabel/list_patition_label.txt (labels 1-7) and Image/aligned/ images.

    ``train_00001.jpg`` is found as ``Image/aligned/train_00001_aligned.jpg`` or under its own
    name. RAF-DB has no subject ids: each image is its own subject.
    """
    label_file = src / LABEL_LIST
    image_dir = src / "Image" / options.images
    if not label_file.is_file() or not image_dir.is_dir():
        raise DataError(
            f"{src}: expected {LABEL_LIST} and Image/{options.images}/ (RAF-DB basic); "
            "point SRC at the folder holding them"
        )
    rows, problems = [], []
    for number, line in enumerate(label_file.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{label_file} line {number}"
        try:
            if len(fields) != 2:
                raise ValueError(f"expected '<file name> <label 1-7>', got {line.strip()!r}")
            name, label = fields[0], normalise_label(fields[1], "rafdb1")
            path = _find_image(image_dir, name)
        except ValueError as exc:
            problems.append(
                Problem(where, str(exc), f"correct the line or restore the image in {image_dir}", fields[0], "")
            )
            continue
        relative = path.relative_to(src).as_posix()
        stem = Path(name).stem
        rows.append(
            {
                "image_id": stem,
                "path": relative,
                "subject": stem,
                "label": label,
                "masked": False,
                "pair_id": "",
                "source": "rafdb",
            }
        )
    log.warning(
        "%s: RAF-DB has no subject ids, so each image is its own subject: subject-disjoint folds are image-level "
        "(the same person may appear in training and validation)",
        src,
    )
    return ImportedTable(rows_table(rows), src.resolve(), problems)


def _find_image(image_dir: Path, name: str) -> Path:
    """The image file of a label-list name: ``<stem>_aligned<ext>`` first, then the name itself."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for candidate in (image_dir / f"{stem}_aligned{suffix}", image_dir / name):
        if candidate.is_file():
            return candidate
    raise ValueError(f"no image {stem}_aligned{suffix} or {name} in {image_dir}")
