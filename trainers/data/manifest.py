"""The dataset manifest: one table, one row per image (see docs/architecture.md and docs/data.md).

Columns: ``image_id`` (unique), ``path`` (relative to the dataset root), ``subject``,
``label`` (a name from :data:`trainers.data.labels.CLASSES`, or empty for an unlabelled photo, which
``python -m interp.audit`` takes and training refuses), ``masked`` (bool), ``pair_id``
(shared by the non-masked and masked image of one pose; empty if unpaired), ``source``, and the
optional geometry ``landmarks`` and ``mask_polygon`` (JSON lists of ``[x, y]`` points in image
coordinates, or a path to a file holding them) and ``landmark_layout`` (the name of the
``landmarks``' layout in :data:`trainers.data.landmarks.LAYOUTS`, e.g. ``mediapipe-478``), and
``evidence`` (a path, relative to the dataset root, to a ground-truth evidence map ``.npy``; the
demo dataset writes one per image), and ``mask_polygon_source`` (``exact``: the outline of a mask
that was drawn, synthetic or by hand; ``estimated``: the lower-face polygon estimated from the
image's own landmarks by ``data faces``; empty: a polygon of unknown origin counts as exact).

The dataset root of a saved manifest is the folder that holds the manifest file: paths are
rebased when a manifest is saved elsewhere, so a manifest and its images can move together.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trainers.common.atomic import atomic_path
from trainers.data.labels import CLASSES, NumericOrder, normalise_label
from trainers.data.landmarks import LAYOUTS
from trainers.common.errors import DataError

REQUIRED_COLUMNS: tuple[str, ...] = (
    "image_id", "path", "subject", "label", "masked", "pair_id", "source",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("landmarks", "mask_polygon", "landmark_layout", "evidence", "mask_polygon_source")
POLYGON_SOURCES: tuple[str, ...] = ("exact", "estimated")
"""Values of ``mask_polygon_source`` (besides empty)."""
PATH_COLUMNS: tuple[str, ...] = ("path", "evidence")
"""Columns holding a file path relative to the dataset root (rebased together)."""
GEOMETRY_COLUMNS: tuple[str, ...] = ("landmarks", "mask_polygon")
"""Columns holding inline JSON points or a path relative to the dataset root (paths are rebased)."""
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
STRING_COLUMNS: tuple[str, ...] = ("image_id", "path", "subject", "label", "pair_id", "source")

_TRUE = {"true", "1", "yes", "y", "t", "masked", "m"}
_FALSE = {"false", "0", "no", "n", "f", "unmasked", "non-masked", "nm", ""}


@dataclass
class Manifest:
    """A manifest table and the dataset root its ``path`` column is relative to.

    Attributes
    ----------
    table
        One row per image with at least :data:`REQUIRED_COLUMNS`; extra columns (``fold``,
        ``face_box``, ...) are kept.
    root
        Absolute folder that relative paths start from.
    """

    table: pd.DataFrame
    root: Path = field(default_factory=Path.cwd)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.table = normalise_table(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def abspath(self, relative: str) -> Path:
        """Absolute path of one ``path`` value."""
        return self.root / relative

    def abspaths(self) -> list[Path]:
        """Absolute paths of all images, in table order."""
        return [self.root / p for p in self.table["path"]]

    def with_table(self, table: pd.DataFrame) -> "Manifest":
        """A manifest over the same root with another table (e.g. a subset)."""
        return Manifest(table.reset_index(drop=True), self.root)

    def rebased(self, new_root: str | os.PathLike) -> "Manifest":
        """The same images with paths made relative to ``new_root``."""
        new_root = Path(new_root).resolve()
        table = self.table.copy()

        def rebase(relative: str) -> str:
            return Path(os.path.relpath(self.root / relative, new_root)).as_posix()

        for column in PATH_COLUMNS:
            table[column] = [rebase(p) if p else "" for p in table[column]]
        for column in GEOMETRY_COLUMNS:  # a cell is inline JSON or a file path
            table[column] = [rebase(c) if c and not c.lstrip().startswith("[") else c for c in table[column]]
        return Manifest(table, new_root)

    def save(self, target: str | os.PathLike) -> Path:
        """Write atomically as CSV or Parquet (by suffix), paths relative to the file's folder."""
        target = Path(target)
        rebased = self.rebased(target.parent.resolve() if target.parent.exists() else _mkparent(target))
        with atomic_path(target) as tmp:
            if target.suffix.lower() == ".parquet":
                rebased.table.to_parquet(tmp, index=False)
            elif target.suffix.lower() == ".csv":
                rebased.table.to_csv(tmp, index=False)
            else:
                raise DataError(f"{target}: manifest files end in .csv or .parquet")
        return target

    @classmethod
    def load(cls, source: str | os.PathLike) -> "Manifest":
        """Read a manifest written by :meth:`save` (or by hand) and check its schema.

        Raises
        ------
        DataError
            When the file is missing, unreadable, or lacks a required column or has a bad value;
            the message names the file, the row and the fix.
        """
        source = Path(source)
        if not source.is_file():
            raise DataError(f"{source}: manifest file not found")
        try:
            if source.suffix.lower() == ".parquet":
                table = pd.read_parquet(source)
            else:
                table = pd.read_csv(source, dtype=str, keep_default_na=False)
        except Exception as exc:  # pandas raises many types for bad files
            raise DataError(f"{source}: cannot read manifest ({exc})") from exc
        try:
            return cls(table, source.parent)
        except DataError as exc:
            raise DataError(f"{source}: {exc}") from exc


def _mkparent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent.resolve()


def parse_masked(value: object) -> bool:
    """Parse a masked flag from a bool, number or word."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"masked flag {value!r} is not a boolean (use true/false)")


def normalise_table(table: pd.DataFrame, numeric: NumericOrder | None = None) -> pd.DataFrame:
    """Return a copy with canonical dtypes and labels; raise :class:`DataError` on bad rows.

    ``masked`` becomes bool, string columns become ``str`` with ``""`` for missing, labels are
    normalised through :func:`normalise_label`, optional geometry columns are added empty.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"manifest lacks column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    table = table.copy().reset_index(drop=True)
    for column in STRING_COLUMNS + OPTIONAL_COLUMNS:
        if column not in table.columns:
            table[column] = ""
        table[column] = table[column].map(_as_text)
    for row, value in enumerate(table["label"]):
        if value == "":  # an unlabelled photo: audits take it, training refuses it
            continue
        try:
            table.at[row, "label"] = normalise_label(value, numeric)
        except ValueError as exc:
            raise DataError(f"row {row + 2} (image_id {table.at[row, 'image_id']}): {exc}") from exc
    masked = []
    for row, value in enumerate(table["masked"]):
        try:
            masked.append(parse_masked(value))
        except ValueError as exc:
            raise DataError(f"row {row + 2} (image_id {table.at[row, 'image_id']}): {exc}") from exc
    table["masked"] = pd.Series(masked, dtype=bool)
    unknown = sorted(set(table["landmark_layout"]) - {""} - set(LAYOUTS))
    if unknown:
        row = int(table.index[table["landmark_layout"] == unknown[0]][0])
        raise DataError(f"row {row + 2} (image_id {table.at[row, 'image_id']}): unknown landmark_layout "
                        f"{unknown[0]!r}; use one of: {', '.join(LAYOUTS)}")
    sources = ~table["mask_polygon_source"].isin(("",) + POLYGON_SOURCES)
    if sources.any():
        row = int(table.index[sources][0])
        raise DataError(f"row {row + 2} (image_id {table.at[row, 'image_id']}): mask_polygon_source "
                        f"{table.at[row, 'mask_polygon_source']!r} is not one of {', '.join(POLYGON_SOURCES)} or empty")
    ordered = list(COLUMNS) + [c for c in table.columns if c not in COLUMNS]
    return table[ordered]


def _as_text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (list, tuple, np.ndarray)):
        return json.dumps(np.asarray(value).tolist())
    return str(value)


def parse_points(value: str, root: Path | None = None) -> np.ndarray | None:
    """Parse a ``landmarks`` or ``mask_polygon`` cell into an ``(n, 2)`` float array.

    The cell holds a JSON list of ``[x, y]`` pairs, or a path (relative to ``root``) to a ``.json``
    or ``.npy`` file with the same; an empty cell gives ``None``.
    """
    if not value:
        return None
    text = value.strip()
    try:
        if text.startswith("["):
            points = np.asarray(json.loads(text), dtype=float)
        else:
            path = Path(root or ".") / text
            if path.suffix == ".npy":
                points = np.load(path, allow_pickle=False).astype(float)
            else:
                points = np.asarray(json.loads(path.read_text()), dtype=float)
    except (OSError, ValueError) as exc:  # missing file, bad JSON, ragged or non-numeric lists
        raise DataError(f"geometry {text[:40]!r} cannot be read ({exc})") from exc
    if points.ndim != 2 or points.shape[1] < 2:
        raise DataError(f"geometry {text[:40]!r} is not a list of [x, y] points")
    return points[:, :2]


def format_points(points: np.ndarray, decimals: int = 2) -> str:
    """Inline JSON for a ``landmarks`` or ``mask_polygon`` cell."""
    return json.dumps(np.round(np.asarray(points, dtype=float), decimals).tolist(), separators=(",", ":"))


def content_hash(manifest: Manifest) -> str:
    """SHA-256 of the manifest's rows (sorted by image_id) and each image file's size.

    File sizes, not bytes, keep hashing fast on multi-megapixel photos while still catching a
    replaced or truncated file; any change to a label, subject, pair or geometry changes the hash.
    """
    table = manifest.table[list(COLUMNS)].sort_values("image_id", kind="stable")
    digest = hashlib.sha256(table.to_csv(index=False).encode())
    for relative in table["path"]:
        path = manifest.root / relative
        digest.update(f"{relative}:{path.stat().st_size if path.exists() else -1}\n".encode())
    return digest.hexdigest()


def summary(manifest: Manifest) -> pd.DataFrame:
    """Per-class counts shaped like the paper's Table 2.

    Columns ``non-masked``, ``masked``, ``total``, ``pairs`` (pairs whose two images carry this
    label); one row per class in :data:`CLASSES` order, then ``total``.
    """
    table = manifest.table
    rows = {}
    pair_labels = complete_pairs(table)
    for name in CLASSES:
        of_class = table[table["label"] == name]
        rows[name] = {
            "non-masked": int((~of_class["masked"]).sum()),
            "masked": int(of_class["masked"].sum()),
            "total": len(of_class),
            "pairs": int((pair_labels == name).sum()),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.loc["total"] = frame.sum()
    return frame


def complete_pairs(table: pd.DataFrame) -> pd.Series:
    """Label of every pair that has one non-masked and one masked image with the same label.

    Returns a Series indexed by ``pair_id``.
    """
    paired = table[table["pair_id"] != ""]
    grouped = paired.groupby("pair_id")
    ok = grouped.agg(n=("image_id", "size"), n_masked=("masked", "sum"), n_labels=("label", "nunique"), label=("label", "first"))
    ok = ok[(ok["n"] == 2) & (ok["n_masked"] == 1) & (ok["n_labels"] == 1)]
    return ok["label"]
