"""The frozen manifest of a cross-dataset run: train on one dataset, evaluate on another.

Both manifests go into one table over a common root, told apart by the run directory's ``role``
column (:data:`ROLE_COLUMN`): the training dataset's rows keep their folds, the
test dataset's rows get fold :data:`TEST_FOLD` and ``test:``-prefixed image ids,
subjects and pair ids (two datasets share no person, and their ids may collide). Labels match by
name (every manifest holds class names); classes present on only one side are reported.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

TEST_PREFIX = "test:"


ROLE_COLUMN = "role"
"""Frozen-manifest column of a cross-dataset run: ``train`` (the training dataset, with folds) or
``test`` (the dataset every fold is evaluated on, with fold :data:`TEST_FOLD`)."""
TRAIN_ROLE, TEST_ROLE = "train", "test"
TEST_FOLD = -1


def cross_dataset_table(train: Manifest, test: Manifest) -> Manifest:
    """One manifest (rooted at ``train``'s root) of both datasets, with the ``role`` column.

    The test rows get fold :data:`TEST_FOLD` and ``test:``-prefixed image ids,
    subjects and pair ids; the train rows get their folds later (:func:`trainers.runner`). Classes
    present on one side only are logged.

    Raises
    ------
    DataError
        When the two datasets share no class.
    """
    other = test.rebased(train.root).table
    test_table = other.assign(
        image_id=TEST_PREFIX + other["image_id"], subject=TEST_PREFIX + other["subject"],
        pair_id=np.where(other["pair_id"] != "", TEST_PREFIX + other["pair_id"], ""),
        fold=TEST_FOLD, **{ROLE_COLUMN: TEST_ROLE},
    )
    train_table = train.table.assign(**{ROLE_COLUMN: TRAIN_ROLE})
    report = class_report(train.table, test.table)
    if not set(report["train_classes"]) & set(report["test_classes"]):
        raise DataError("--data and --test-data share no class: a model trained on one cannot be scored on the other")
    for side, missing in (("training", report["missing_in_train"]), ("test", report["missing_in_test"])):
        if missing:
            log.warning("cross-dataset: class(es) %s absent from the %s dataset", ", ".join(missing), side)
    return Manifest(pd.concat([train_table, test_table], ignore_index=True), train.root)


def class_report(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, list[str]]:
    """Classes of each side (in :data:`CLASSES` order) and those missing on either."""
    train_classes = [c for c in CLASSES if c in set(train["label"])]
    test_classes = [c for c in CLASSES if c in set(test["label"])]
    return {"train_classes": train_classes, "test_classes": test_classes,
            "missing_in_train": [c for c in test_classes if c not in train_classes],
            "missing_in_test": [c for c in train_classes if c not in test_classes]}
