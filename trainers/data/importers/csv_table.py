"""Any CSV with path, subject, label, masked and pair columns (names configurable)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from trainers.data.check import Problem
from trainers.data.importers import ImportedTable, register_importer, rows_table
from trainers.data.labels import normalise_label
from trainers.data.manifest import parse_masked
from trainers.data.text_csv import read_text_csv
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

PASSED_THROUGH = ("landmarks", "landmark_layout", "mask_polygon", "face_box")
"""Columns copied unchanged when the CSV has them."""


@dataclass
class CsvOptions:
    """Column names and label coding of a user's CSV."""

    path_col: str = field(default="path", metadata={"help": "column with the image path (relative to the root)"})
    subject_col: str = field(default="subject", metadata={"help": "column with the subject (person) id"})
    label_col: str = field(default="label", metadata={"help": "column with the expression label"})
    masked_col: str = field(
        default="masked",
        metadata={
            "help": "column with the masked flag (true/false, 1/0, yes/no); if absent, all images are non-masked"
        },
    )
    pair_col: str = field(
        default="pair_id", metadata={"help": "column joining a non-masked and a masked image; if absent, no pairs"}
    )
    id_col: str = field(
        default="image_id", metadata={"help": "column with a unique image id; if absent, the path is the id"}
    )
    label_order: Literal["names", "rafdb0", "rafdb1"] = field(
        default="names",
        metadata={"help": "label coding: class names (default), rafdb0 = 0-6 or rafdb1 = 1-7 in RAF-DB order"},
    )
    root: Path | None = field(
        default=None, metadata={"help": "folder the image paths start from (default: the CSV's folder)"}
    )


@register_importer("csv", options=CsvOptions)
def read_csv_table(src: Path, out_dir: Path, options: CsvOptions) -> ImportedTable:
    """Any CSV with path/subject/label/masked/pair columns; names set by --path-col etc.

    ``SRC`` is the CSV file. Paths are relative to the CSV's folder, or to ``--root``.
    """
    frame = read_text_csv(src, "the csv format reads one CSV file; give its path as SRC")
    columns = _columns(src, frame, options)
    numeric = None if options.label_order == "names" else options.label_order
    rows, problems = [], []
    for index, record in enumerate(frame.to_dict("records")):
        where = f"{src} line {index + 2}"
        path = record[columns["path"]].strip()
        try:
            if not path:
                raise ValueError(f"{columns['path']} is empty")
            label = normalise_label(record[columns["label"]], numeric)
            masked = parse_masked(record[columns["masked"]]) if columns["masked"] else False
        except ValueError as exc:
            problems.append(
                Problem(where, str(exc), "correct the cell or remove the line", record.get(columns["id"], path), path)
            )
            continue
        row = {
            "image_id": record[columns["id"]] if columns["id"] else path,
            "path": path,
            "subject": record[columns["subject"]],
            "label": label,
            "masked": masked,
            "pair_id": record[columns["pair"]] if columns["pair"] else "",
            "source": record.get("source") or "csv",
        }
        rows.append(row | {name: record[name] for name in PASSED_THROUGH if name in record})
    extra = tuple(name for name in PASSED_THROUGH if name in frame.columns)
    root = Path(options.root) if options.root is not None else src.parent
    return ImportedTable(rows_table(rows, extra), root.resolve(), problems)


def _columns(src: Path, frame: pd.DataFrame, options: CsvOptions) -> dict[str, str]:
    """Map each field to its CSV column (``""`` for an absent optional one); DataError when one is missing."""
    wanted = {
        "path": (options.path_col, True),
        "subject": (options.subject_col, True),
        "label": (options.label_col, True),
        "masked": (options.masked_col, False),
        "pair": (options.pair_col, False),
        "id": (options.id_col, False),
    }
    columns = {}
    for name, (column, required) in wanted.items():
        if column in frame.columns:
            columns[name] = column
        elif required:
            raise DataError(
                f"{src}: no column {column!r} for the {name}; the CSV has {', '.join(map(repr, frame.columns))}: "
                f"pass --{name}-col COLUMN"
            )
        else:
            columns[name] = ""
    if not columns["masked"]:
        log.warning("%s: no %r column: every image is taken as non-masked (set --masked-col)", src, options.masked_col)
    if not columns["pair"]:
        log.info("%s: no %r column: no pairs (set --pair-col)", src, options.pair_col)
    return columns
