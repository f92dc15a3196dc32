"""Subject-disjoint, label-stratified cross-validation folds.

Every subject lands in exactly one validation fold, so no identity is seen in both training and
validation (the reference code's folds share one subject at every boundary). Both images of a pair
belong to one subject, so a pair never straddles two folds. Within those constraints the class
mix of each fold follows the whole dataset's as closely as scikit-learn's
:class:`~sklearn.model_selection.StratifiedGroupKFold` can make it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from trainers.data.labels import CLASSES
from trainers.common.errors import DataError

log = logging.getLogger(__name__)


def assign_folds(table: pd.DataFrame, k: int, seed: int = 0) -> pd.Series:
    """Give every image the index of the fold in which it is validated.

    Parameters
    ----------
    table
        A manifest table (needs ``subject``, ``label`` and ``pair_id``).
    k
        Number of folds, at least 2 and at most the number of subjects.
    seed
        Shuffles subjects that are otherwise tied; the same seed gives the same folds, whatever
        the row order of ``table``.

    Returns
    -------
    pandas.Series
        Integer fold ``0..k-1`` per row, named ``fold``, index aligned with ``table``.

    Raises
    ------
    DataError
        When ``k`` is out of range or a pair spans two subjects.
    """
    subjects = table["subject"].astype(str).to_numpy()
    n_subjects = len(np.unique(subjects))
    if k < 2:
        raise DataError(f"--k {k}: cross-validation needs at least 2 folds")
    if k > n_subjects:
        raise DataError(
            f"--k {k} is more folds than subjects ({n_subjects}); folds are subject-disjoint, "
            f"so use --k {n_subjects} or fewer"
        )
    _check_pairs_share_subject(table)
    labels = table["label"].astype(str).to_numpy()
    if np.all(pd.Series(labels).value_counts().to_numpy() < k):
        # scikit-learn refuses to stratify when every class is smaller than k; split by subject only.
        log.info("every class has fewer than %d images: folds are subject-disjoint but not stratified", k)
        labels = np.zeros(len(labels), dtype=int)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    folds = np.full(len(table), -1, dtype=int)
    with warnings.catch_warnings():
        # "The least populated class has only n members": expected for rare classes, not an error.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        for fold, (_, validation) in enumerate(splitter.split(subjects, labels, subjects)):
            folds[validation] = fold
    folds = _fill_empty_folds(folds, subjects, k)
    return pd.Series(folds, index=table.index, name="fold")


FOLD_FILE_COLUMNS: tuple[str, ...] = ("subject", "fold")
"""Columns a fold file needs (``trainers data folds --out`` also writes ``image_id``)."""


def read_fold_file(path: Path) -> tuple[dict[str, int], int]:
    """The subject -> fold assignment of a fold file and its number of folds ``k`` (largest fold + 1).

    Raises
    ------
    DataError
        When the file is missing or unreadable, lacks a :data:`FOLD_FILE_COLUMNS` column, has a fold
        that is not a non-negative integer, or puts one subject in two folds.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"--fold-file {path}: file not found (write it with `python -m trainers data folds "
                        "MANIFEST --out FILE`)")
    try:
        frame = pd.read_csv(path, dtype={"subject": str, "image_id": str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"--fold-file {path}: cannot read it as CSV ({exc})") from exc
    missing = [column for column in FOLD_FILE_COLUMNS if column not in frame.columns]
    if missing:
        raise DataError(f"--fold-file {path}: no {', '.join(missing)} column; write it again with "
                        "`python -m trainers data folds MANIFEST --out FILE` (columns image_id, subject, fold)")
    folds = pd.to_numeric(frame["fold"], errors="coerce")
    bad = frame.index[folds.isna() | (folds < 0) | (folds != folds.round())]
    if len(bad):
        raise DataError(f"--fold-file {path}: row {int(bad[0]) + 2}: fold {frame.loc[bad[0], 'fold']!r} is not a "
                        "non-negative integer")
    frame = frame.assign(fold=folds.astype(int), subject=frame["subject"].astype(str))
    per_subject = frame.groupby("subject")["fold"].unique()
    split = per_subject[per_subject.map(len) > 1]
    if len(split):
        raise DataError(f"--fold-file {path}: subject {split.index[0]!r} is in folds "
                        f"{sorted(int(f) for f in split.iloc[0])}; a subject belongs to one fold")
    return {subject: int(values[0]) for subject, values in per_subject.items()}, int(frame["fold"].max()) + 1


def folds_from_file(table: pd.DataFrame, path: Path) -> tuple[pd.Series, int]:
    """Each row's fold from a fold file's subject -> fold assignment (:func:`read_fold_file`), and ``k``.

    The table may hold any subset of the file's subjects (and other images of them).

    Raises
    ------
    DataError
        When a subject of ``table`` is not in the file (or the file is bad, see :func:`read_fold_file`).
    """
    assignment, k = read_fold_file(path)
    subjects = table["subject"].astype(str)
    absent = sorted(set(subjects) - set(assignment))
    if absent:
        raise DataError(f"--fold-file {path}: {len(absent)} subject(s) of the manifest are not in it "
                        f"(e.g. {', '.join(absent[:5])}); write the fold file from a manifest that holds them")
    return pd.Series(subjects.map(assignment).to_numpy(dtype=int), index=table.index, name="fold"), k


def _check_pairs_share_subject(table: pd.DataFrame) -> None:
    paired = table[table["pair_id"].astype(str) != ""]
    per_pair = paired.groupby("pair_id")["subject"].nunique()
    split = per_pair[per_pair > 1]
    if len(split):
        pair_id = split.index[0]
        names = sorted(paired.loc[paired["pair_id"] == pair_id, "subject"].astype(str).unique())
        raise DataError(
            f"pair {pair_id!r} has images of subjects {', '.join(names)}; both images of a pair must "
            f"show the same subject (fix the subject or pair_id columns; {len(split)} pair(s) affected)"
        )


def _fill_empty_folds(folds: np.ndarray, subjects: np.ndarray, k: int) -> np.ndarray:
    """Move one subject into each empty fold (the greedy splitter can leave one empty when k is
    close to the number of subjects): the smallest subject of the fold with most subjects."""
    folds = folds.copy()
    for empty in range(k):
        if np.any(folds == empty):
            continue
        frame = pd.DataFrame({"subject": subjects, "fold": folds})
        per_fold = frame.groupby("fold")["subject"].nunique()
        donor = int(per_fold.sort_values(ascending=False, kind="stable").index[0])
        sizes = frame[frame["fold"] == donor].groupby("subject").size().sort_values(kind="stable")
        moved = sizes.index[0]
        log.debug("fold %d was empty: moved subject %s from fold %d", empty, moved, donor)
        folds[subjects == moved] = empty
    return folds


def fold_sizes(table: pd.DataFrame, folds: pd.Series) -> pd.DataFrame:
    """Per-fold counts for printing and checking balance.

    Returns
    -------
    pandas.DataFrame
        Index ``fold``; columns ``subjects``, ``images``, ``non-masked``, ``masked``, ``pairs``
        (pairs with both images in the fold) and one column per class in :data:`CLASSES` order.
    """
    frame = table.assign(fold=folds.to_numpy())
    rows = {}
    for fold in range(int(folds.max()) + 1 if len(folds) else 0):
        part = frame[frame["fold"] == fold]
        pair_counts = part.loc[part["pair_id"] != "", "pair_id"].value_counts()
        row = {
            "subjects": part["subject"].nunique(),
            "images": len(part),
            "non-masked": int((~part["masked"].astype(bool)).sum()),
            "masked": int(part["masked"].astype(bool).sum()),
            "pairs": int((pair_counts == 2).sum()),
        }
        row.update({name: int((part["label"] == name).sum()) for name in CLASSES})
        rows[fold] = row
    sizes = pd.DataFrame.from_dict(rows, orient="index")
    sizes.index.name = "fold"
    return sizes
