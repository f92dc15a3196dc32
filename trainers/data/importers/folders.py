"""Class folders: ``<label>/<file>`` or ``<masked|unmasked>/<label>/<file>``."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from trainers.data.check import Problem
from trainers.data.importers import ImportedTable, compile_regex, image_files, register_importer, rows_table
from trainers.data.labels import normalise_label
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

MASK_STATES = {"masked": True, "unmasked": False, "nonmasked": False, "non-masked": False, "non_masked": False}


@dataclass
class FoldersOptions:
    """How subjects, pairs and labels are read from folder and file names."""

    subject_regex: str = field(
        default="",
        metadata={
            "help": "regex on the file name with a named group 'subject', for trees whose file names carry subject "
            "ids, e.g. '^(?P<subject>[^_]+)_' (default: none - each image, or each pair, is its own subject)"
        },
    )
    pair_regex: str = field(
        default="",
        metadata={
            "help": "regex on the file name whose named group 'pair' (or whole match) is the pose key: a masked "
            "and an unmasked image with the same subject, label and key form a pair (default: the same file stem)"
        },
    )
    label_order: Literal["names", "rafdb0", "rafdb1"] = field(
        default="names",
        metadata={"help": "label coding: class names (default), rafdb0 = 0-6 or rafdb1 = 1-7 in RAF-DB order"},
    )
    masked: bool = field(default=False, metadata={"help": "<label>/<file> layout only: the images are masked"})
    unlabelled: bool = field(
        default=False,
        metadata={
            "help": "the photos carry no expression labels: every image under SRC (or under masked/ and unmasked/) "
            "is imported with an empty label, whatever folder it is in; for `python -m interp.audit`, not training"
        },
    )


@register_importer("folders", options=FoldersOptions)
def read_folders(src: Path, out_dir: Path, options: FoldersOptions) -> ImportedTable:
    """Class folders <label>/<file> or <masked|unmasked>/<label>/<file>, e.g. a torchvision ImageFolder tree.

    Label folders are class names (or numbers with ``--label-order``). Without ``--subject-regex``
    the tree has no subject ids: each image is its own subject (each pose, masked and unmasked
    together, in the two-level layout), with a warning that subject-disjoint folds then cannot keep
    one person's images apart. In the two-level layout a masked and an unmasked image are paired
    by ``--pair-regex`` (default: same subject, label folder and file stem).
    """
    if not src.is_dir():
        raise DataError(f"{src}: the folders format reads a folder of class folders; give that folder as SRC")
    subject_regex = None
    if options.subject_regex:
        subject_regex = compile_regex(options.subject_regex, "subject_regex", ("subject",))
    pair_regex = compile_regex(options.pair_regex, "pair_regex") if options.pair_regex else None
    numeric = None if options.label_order == "names" else options.label_order
    top = sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith("."))
    two_level = bool(top) and all(p.name.lower() in MASK_STATES for p in top)
    states = [(p, MASK_STATES[p.name.lower()]) for p in top] if two_level else [(src, options.masked)]
    rows, problems = [], []
    for state_dir, masked in states:
        for path in image_files(state_dir):
            relative = path.relative_to(src).as_posix()
            match = subject_regex.search(path.name) if subject_regex is not None else None
            try:
                label_dir, label = _label(path, state_dir, options.unlabelled, numeric)
                if subject_regex is not None and match is None:
                    raise ValueError(f"file name does not match --subject-regex {options.subject_regex!r}")
            except ValueError as exc:
                fix = "move it into a class folder, rename it, or change --subject-regex / --label-order"
                problems.append(Problem(str(path), str(exc), fix, relative, relative))
                continue
            pose = _pose(path, state_dir, pair_regex, not options.unlabelled)
            # Without subject ids the pose (label folder and pose key) stands for the subject, so that
            # the masked and unmasked image of one pose share it.
            key = pose or _pose(path, state_dir, None, not options.unlabelled)
            subject = match["subject"] if match is not None else (f"{label_dir}/{key}" if label_dir else key)
            pair_key = f"{subject}/{label}/{pose}" if match is not None else subject
            rows.append(
                {
                    "image_id": relative,
                    "path": relative,
                    "subject": subject,
                    "label": label,
                    "masked": masked,
                    "pair_id": pair_key if two_level and pose else "",
                    "source": "folders",
                }
            )
    log.info("%s: %s layout, %d image(s)", src, "<masked|unmasked>/<label>" if two_level else "<label>", len(rows))
    if subject_regex is None and rows:
        log.warning(
            "%s: no --subject-regex, so the tree has no subject ids and each %s is its own subject: subject-disjoint "
            "folds cannot keep one person's images apart (the same person may appear in training and validation); "
            "give --subject-regex when the file names carry subject ids",
            src, "pose (its masked and unmasked image)" if two_level else "image",
        )
    return ImportedTable(_keep_complete_pairs(rows_table(rows), src), src.resolve(), problems)


def _label(path: Path, state_dir: Path, unlabelled: bool, numeric: str | None) -> tuple[str, str]:
    """The label folder of one image and its class (both empty for unlabelled photos: folders are then just
    folders, and the pose key keeps the whole relative path).

    Raises
    ------
    ValueError
        When a labelled tree has the image outside a label folder, or the folder names no class.
    """
    if unlabelled:
        return "", ""
    parts = path.relative_to(state_dir).parts
    if len(parts) < 2:
        raise ValueError("image is not inside a label folder")
    return parts[0], normalise_label(parts[0], numeric)


def _pose(path: Path, state_dir: Path, pair_regex: re.Pattern | None, labelled: bool = True) -> str:
    """Pose key of an image: the pair regex's match, else its path under the label folder (under
    ``state_dir`` when not ``labelled``) without suffix; ``""`` when a pair regex is given and does not
    match the file name."""
    if pair_regex is None:
        return Path(*path.relative_to(state_dir).parts[int(labelled):]).with_suffix("").as_posix()
    match = pair_regex.search(path.name)
    if match is None:
        return ""
    return match["pair"] if "pair" in pair_regex.groupindex else match[0]


def _keep_complete_pairs(table: pd.DataFrame, src: Path) -> pd.DataFrame:
    """Clear keys that do not join exactly one masked and one unmasked image."""
    counts = Counter(zip(table["pair_id"], table["masked"], strict=True))
    complete = {key for key, masked in counts if key and counts[(key, True)] == 1 and counts[(key, False)] == 1}
    ambiguous = {key for (key, _), n in counts.items() if key and n > 1}
    if ambiguous:
        log.warning(
            "%s: %d pose key(s) match several images in one tree; those images stay unpaired", src, len(ambiguous)
        )
    unpaired = int((~table["pair_id"].isin(complete)).sum())
    if unpaired and complete:
        log.info("%s: %d image(s) without a partner are imported unpaired", src, unpaired)
    table["pair_id"] = [key if key in complete else "" for key in table["pair_id"]]
    return table
