"""MSD-E reference layout: ``MSD-E/`` (non-masked), ``MSD-ME/`` (masked), ``Paired_files.txt``."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from trainers.data.check import Problem
from trainers.data.importers import ImportedTable, image_files, register_importer, rows_table
from trainers.data.labels import normalise_label
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

FOLDERS = (("MSD-E", False), ("MSD-ME", True))
PAIR_LIST = "Paired_files.txt"
NAME_PATTERN = re.compile(r"^(?P<subject>[^_]+)_(?P<label>[^_]+)_")


@dataclass
class MsdeOptions:
    """The MSD-E layout has no options."""


@register_importer("msd-e", options=MsdeOptions)
def read_msde(src: Path, out_dir: Path, options: MsdeOptions) -> ImportedTable:
    """MSD-E reference layout: MSD-E/ and MSD-ME/ folders, Paired_files.txt, <subject>_<label>_<rest>.<ext>.

    A pair is the same relative path in both folders, listed in ``Paired_files.txt`` (header-less,
    first column the relative file name). Images in one folder only, or not listed, are imported
    unpaired. Labels are 0-6 in RAF-DB order.
    """
    present = {masked: _relative_images(src / folder) for folder, masked in FOLDERS if (src / folder).is_dir()}
    if not present:
        raise DataError(
            f"{src}: expected the folders MSD-E/ (non-masked) and MSD-ME/ (masked); point SRC at their parent"
        )
    listed = _pair_list(src)
    in_both = set(present.get(False, ())) & set(present.get(True, ()))
    paired = in_both if listed is None else in_both & listed
    _log_pairing(src, present, in_both, listed)
    rows, problems = [], []
    for folder, masked in FOLDERS:
        for relative in present.get(masked, []):
            path = f"{folder}/{relative}"
            match = NAME_PATTERN.match(Path(relative).name)
            try:
                if match is None:
                    raise ValueError("file name is not <subject>_<label>_<rest>.<ext>")
                label = normalise_label(match["label"], "rafdb0")
            except ValueError as exc:
                problems.append(
                    Problem(
                        f"{src / path}", str(exc), "rename the file (label 0-6, RAF-DB order) or remove it", path, path
                    )
                )
                continue
            rows.append(
                {
                    "image_id": path,
                    "path": path,
                    "subject": match["subject"],
                    "label": label,
                    "masked": masked,
                    "pair_id": relative if relative in paired else "",
                    "source": "msd-e",
                }
            )
    return ImportedTable(rows_table(rows), src.resolve(), problems)


def _relative_images(folder: Path) -> list[str]:
    return [path.relative_to(folder).as_posix() for path in image_files(folder)]


def _pair_list(src: Path) -> set[str] | None:
    """Relative names listed in ``Paired_files.txt``, or ``None`` when there is no list."""
    path = src / PAIR_LIST
    if not path.is_file():
        log.warning("%s: no %s; pairing every image found under the same name in MSD-E/ and MSD-ME/", src, PAIR_LIST)
        return None
    names = set()
    for line in path.read_text().splitlines():
        first = re.split(r"[,\t ]+", line.strip(), maxsplit=1)[0]
        if first:
            names.add(re.sub(r"^(MSD-E|MSD-ME)/", "", first.replace("\\", "/")))
    return names


def _log_pairing(src: Path, present: dict[bool, list[str]], in_both: set[str], listed: set[str] | None) -> None:
    for folder, masked in FOLDERS:
        alone = len(set(present.get(masked, ())) - in_both)
        if alone:
            log.warning("%s: %d image(s) only in %s/ are imported unpaired", src, alone, folder)
    if listed is None:
        return
    unlisted = len(in_both - listed)
    if unlisted:
        log.warning(
            "%s: %d image pair(s) in both folders but not in %s are imported unpaired", src, unlisted, PAIR_LIST
        )
    absent = len(listed - in_both)
    if absent:
        log.warning("%s: %d name(s) in %s lack an image in MSD-E/ or MSD-ME/", src, absent, PAIR_LIST)
