"""Check a manifest hard: ids, fields, image files, geometry and pairs.

:func:`check_manifest` either raises one :class:`~trainers.common.errors.DataError` that lists every
problem (file, row and fix), or, with ``skip_bad``, drops the bad rows and reports them. A pair
whose partner was dropped or is missing loses its ``pair_id`` and its image stays, unpaired.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from trainers.data.landmarks import LAYOUTS
from trainers.data.manifest import Manifest, content_hash, parse_points, summary
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

MAX_LISTED = 20
"""Problems listed in an error message; the rest are counted."""

SKIPPED_COLUMNS = ("image_id", "path", "reason", "action")

FIX_MISSING = "restore the file or remove its row"
FIX_EMPTY_FILE = "copy the file again (it is empty) or remove its row"
FIX_DECODE = (
    "the file is not a complete image (truncated, corrupt or another format): export it again or remove its row"
)
FIX_GEOMETRY = "write the cell as JSON [[x, y], ...] or a path (relative to the dataset root) to a .json/.npy file"
FIX_PARTNER = "add the partner image or clear pair_id"
FIX_LAYOUT = "name the landmarks' layout in landmark_layout (see docs/data.md) or correct the landmarks"


@dataclass(frozen=True)
class Problem:
    """One bad row (or input line) found while importing or checking.

    Attributes
    ----------
    where
        Where the problem is, for a person: a file and a row or line number.
    reason
        What is wrong.
    fix
        What to do about it.
    image_id, path
        The manifest row concerned (empty when the problem precedes any row).
    """

    where: str
    reason: str
    fix: str
    image_id: str = ""
    path: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}; fix: {self.fix}"


@dataclass
class CheckResult:
    """Outcome of :func:`check_manifest`.

    Attributes
    ----------
    manifest
        The checked manifest (bad rows dropped when ``skip_bad``).
    skipped
        One row per dropped image or cleared pair: ``image_id``, ``path``, ``reason`` and
        ``action`` (``"dropped"`` or ``"unpaired"``); empty when nothing was wrong.
    """

    manifest: Manifest
    skipped: pd.DataFrame


def check_manifest(
    manifest: Manifest,
    *,
    decode: bool = True,
    skip_bad: bool = False,
    earlier_problems: Sequence[Problem] = (),
) -> CheckResult:
    """Check every row of ``manifest``; raise on problems or drop the bad rows.

    Checks: non-empty ``image_id``/``path``/``subject``; unique ``image_id``; each file exists, is
    not empty and (with ``decode``) decodes fully with Pillow; ``landmarks``/``mask_polygon`` cells
    parse; each ``pair_id`` joins one non-masked and one masked image of the same subject.
    Labels and masked flags were already normalised when the :class:`Manifest` was built.

    Parameters
    ----------
    manifest
        The manifest to check.
    decode
        Decode every image (slow on large photos); ``False`` checks existence and size only.
    skip_bad
        Drop bad rows instead of raising. An image whose pair partner is missing or dropped is
        kept with ``pair_id`` cleared; both images of an inconsistent pair are dropped.
    earlier_problems
        Problems an importer found in rows it could not turn into manifest rows; they are
        listed in the error, or reported as skipped.

    Raises
    ------
    DataError
        Without ``skip_bad``, when anything is wrong; the message lists each problem.
    """
    table = manifest.table
    row_problems = _row_problems(manifest, decode)
    if not skip_bad:
        problems = list(earlier_problems) + [p for _, p in row_problems] + [p for _, p, _ in _pair_problems(table)]
        if problems:
            raise DataError(format_problems(problems, f"dataset root {manifest.root}"))
        return CheckResult(manifest, _skipped_frame([], []))
    bad_rows = {row for row, _ in row_problems}
    kept = table.drop(index=sorted(bad_rows))
    pair_issues = _pair_problems(kept)
    dropped_pairs = {row for row, _, action in pair_issues if action == "dropped"}
    unpaired = [row for row, _, action in pair_issues if action == "unpaired"]
    kept = kept.drop(index=sorted(dropped_pairs))
    kept.loc[unpaired, "pair_id"] = ""
    dropped = list(earlier_problems) + [p for _, p in row_problems] + [p for _, p, a in pair_issues if a == "dropped"]
    cleared = [p for _, p, a in pair_issues if a == "unpaired"]
    for problem in dropped + cleared:
        log.warning("skipped %s", problem)
    return CheckResult(manifest.with_table(kept), _skipped_frame(dropped, cleared))


def format_problems(problems: Sequence[Problem], context: str) -> str:
    """One error message listing at most :data:`MAX_LISTED` problems and counting the rest."""
    lines = [f"{len(problems)} problem(s) in the dataset ({context}):"]
    lines += [f"  {p}" for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"  ... and {len(problems) - MAX_LISTED} more")
    lines.append("Fix these rows, or pass --skip-bad (skip_bad=True) to leave them out.")
    return "\n".join(lines)


def format_report(result: CheckResult) -> str:
    """Text for a person: counts, the Table-2 summary, the content hash and what was skipped."""
    table = result.manifest.table
    pairs = table.loc[table["pair_id"] != "", "pair_id"].nunique()
    lines = [
        f"{len(table)} images ({int((~table['masked']).sum())} non-masked, {int(table['masked'].sum())} masked), "
        f"{table['subject'].nunique()} subjects, {pairs} pairs",
        "",
        summary(result.manifest).to_string(),
        "",
        f"content hash: {content_hash(result.manifest)}",
    ]
    skipped = result.skipped
    if len(skipped):
        counts = skipped["action"].value_counts()
        lines += ["", f"skipped: {counts.get('dropped', 0)} image(s) dropped, {counts.get('unpaired', 0)} unpaired:"]
        lines += [f"  {r.action}: {r.path or r.image_id}: {r.reason}" for r in skipped.itertuples()]
    return "\n".join(lines)


def _where(table: pd.DataFrame, row: int) -> str:
    return f"{table.at[row, 'path'] or '(no path)'} (image_id {table.at[row, 'image_id'] or '?'}, row {row + 2})"


def _problem(table: pd.DataFrame, row: int, reason: str, fix: str) -> Problem:
    return Problem(_where(table, row), reason, fix, table.at[row, "image_id"], table.at[row, "path"])


def _row_problems(manifest: Manifest, decode: bool) -> list[tuple[int, Problem]]:
    """Problems of single rows, with their table index, in table order."""
    table = manifest.table
    found: list[tuple[int, Problem]] = []
    for column in ("image_id", "path", "subject"):
        for row in table.index[table[column].str.strip() == ""]:
            found.append((row, _problem(table, row, f"{column} is empty", f"fill in {column}")))
    first_row = {}
    for row, image_id in table["image_id"].items():
        if image_id and image_id in first_row:
            reason = f"duplicate image_id (also on row {first_row[image_id] + 2})"
            found.append((row, _problem(table, row, reason, "give every row its own image_id")))
        first_row.setdefault(image_id, row)
    file_issues = _file_problems(manifest, decode)
    for row, reason, fix in file_issues:
        found.append((row, _problem(table, row, reason, fix)))
    for column in ("landmarks", "mask_polygon"):
        for row, cell in table[column].items():
            try:
                points = parse_points(cell, manifest.root)
            except DataError as exc:
                found.append((row, _problem(table, row, f"{column}: {exc}", FIX_GEOMETRY)))
                continue
            layout = table.at[row, "landmark_layout"]
            if column == "landmarks" and points is not None and layout and len(points) != LAYOUTS[layout].size:
                reason = f"landmarks: {len(points)} points, landmark_layout {layout} has {LAYOUTS[layout].size}"
                found.append((row, _problem(table, row, reason, FIX_LAYOUT)))
    return sorted(found, key=lambda item: item[0])


def _file_problems(manifest: Manifest, decode: bool) -> list[tuple[int, str, str]]:
    """(row, reason, fix) for every missing, empty or undecodable image file."""
    table = manifest.table
    paths = [(row, manifest.root / rel) for row, rel in table["path"].items() if rel.strip()]
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda item: _file_issue(item[1], decode), paths)
        bar = tqdm(results, total=len(paths), desc="checking images", unit="img", disable=None)
        issues = [(row, *issue) for (row, _), issue in zip(paths, bar, strict=True) if issue is not None]
    return issues


def _file_issue(path: Path, decode: bool) -> tuple[str, str] | None:
    """(reason, fix) when ``path`` is not a complete image, else ``None``."""
    if not path.is_file():
        return ("file not found" if not path.exists() else "not a file"), FIX_MISSING
    if path.stat().st_size == 0:
        return "file is empty (0 bytes)", FIX_EMPTY_FILE
    if not decode:
        return None
    try:
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            # JPEG draft mode decodes every scan at 1/8 scale: truncation is still caught, 50 MP photos load fast.
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... for bad files
        return f"cannot decode image ({type(exc).__name__}: {exc})", FIX_DECODE
    return None


def _pair_problems(table: pd.DataFrame) -> list[tuple[int, Problem, str]]:
    """(row, problem, action) for rows of inconsistent pairs; action ``dropped`` or ``unpaired``."""
    found: list[tuple[int, Problem, str]] = []
    paired = table[table["pair_id"] != ""]
    for pair_id, group in paired.groupby("pair_id", sort=False):
        rows = list(group.index)
        if len(rows) == 1:
            reason = f"pair_id {pair_id!r} has no partner image (missing or dropped)"
            found.append((rows[0], _problem(table, rows[0], reason, FIX_PARTNER), "unpaired"))
            continue
        if len(rows) > 2:
            reason = f"pair_id {pair_id!r} joins {len(rows)} images (rows {', '.join(str(r + 2) for r in rows)})"
            fix = "a pair is exactly two images: give the extra images other pair_ids"
        elif group["subject"].nunique() > 1:
            reason = f"pair_id {pair_id!r} joins subjects {' and '.join(map(repr, group['subject']))}"
            fix = "both images of a pair show one person: correct subject or pair_id"
        elif group["masked"].sum() != 1:
            state = "masked" if group["masked"].all() else "non-masked"
            reason = f"pair_id {pair_id!r} joins two {state} images"
            fix = "a pair is one non-masked and one masked image: correct masked or pair_id"
        else:
            continue
        found += [(row, _problem(table, row, reason, fix), "dropped") for row in rows]
    return sorted(found, key=lambda item: item[0])


def _skipped_frame(dropped: Sequence[Problem], cleared: Sequence[Problem]) -> pd.DataFrame:
    records = [(p.image_id, p.path, f"{p.reason} ({p.where})", "dropped") for p in dropped]
    records += [(p.image_id, p.path, p.reason, "unpaired") for p in cleared]
    return pd.DataFrame.from_records(records, columns=list(SKIPPED_COLUMNS))
