"""Accuracy, macro-F1, per-class recall and confusion matrices on runs with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from interp.runs import open_run
from interp.tables import accuracy_table, confusion_tables, fold_scores, mean_ci, per_class_recall
from tests.interp.conftest import make_manifest, write_run
from trainers.data.labels import CLASSES


def test_per_class_recall_is_the_known_diagonal(known_run):
    folds, summary = per_class_recall(open_run(known_run).predictions())
    base = summary[summary["model"] == "baseline-mix"].set_index(["subset", "true"])
    expected_nm = {c: 0.0 if c == "fear" else 1.0 for c in CLASSES}
    expected_m = {c: 0.0 if c in ("fear", "disgust") else 1.0 for c in CLASSES}
    for subset, expected in (("NM", expected_nm), ("M", expected_m)):
        for name, value in expected.items():
            row = base.loc[(subset, name)]
            assert row["recall_mean"] == value and row["recall_pooled"] == value and row["recall_sd"] == 0
            assert row["n_folds"] == 3
    assert (folds["n"] == 2).all()
    assert (summary.query("model == 'cl'")["recall_mean"] == 1.0).all()


def test_confusion_pooled_and_per_fold(known_run):
    per_fold, pooled = confusion_tables(open_run(known_run).predictions())
    cell = pooled.set_index(["model", "subset", "true", "pred"])
    assert cell.loc[("baseline-mix", "NM", "fear", "surprise"), "count"] == 6
    assert cell.loc[("baseline-mix", "M", "disgust", "angry"), "count"] == 6
    assert cell.loc[("baseline-mix", "M", "disgust", "disgust"), "count"] == 0
    assert cell.loc[("baseline-mix", "M", "fear", "surprise"), "rate"] == 1.0
    assert len(per_fold) == 3 * 2 * 3 * 49
    summed = per_fold.groupby(["model", "subset", "true", "pred"])["count"].sum()
    assert (summed.loc[list(cell.index)].to_numpy() == cell["count"].to_numpy()).all()


def test_accuracy_table_known_values(known_run):
    table = accuracy_table(open_run(known_run).predictions()).set_index(["model", "subset"])
    assert table.loc[("baseline-mix", "NM"), "accuracy_mean"] == pytest.approx(6 / 7)
    assert table.loc[("baseline-mix", "M"), "accuracy_mean"] == pytest.approx(5 / 7)
    assert table.loc[("cl", "M"), "macro_f1_mean"] == pytest.approx(1.0)
    assert list(table.index.get_level_values("subset")[:2]) == ["NM", "M"]


def test_accuracy_spread_over_folds(tmp_path):
    """Fold 0 all right, folds 1 and 2 wrong on one subject: sd and CI from the three fold accuracies."""
    manifest = make_manifest()

    def rule(row: pd.Series) -> str:
        wrong = row["subject"] in ("s10", "s20") and row["label"] == "happy"
        return "sad" if wrong else row["label"]

    run = open_run(write_run(tmp_path / "spread", {"m": rule}, manifest))
    accuracies = fold_scores(run.predictions()).query("subset == 'NM'")["accuracy"].to_numpy()
    assert accuracies == pytest.approx([1.0, 13 / 14, 13 / 14])
    mean, sd, low, high = mean_ci(accuracies)
    half = stats.t.ppf(0.975, 2) * np.std(accuracies, ddof=1) / np.sqrt(3)
    assert (mean, sd) == pytest.approx((np.mean(accuracies), np.std(accuracies, ddof=1)))
    assert (low, high) == pytest.approx((mean - half, mean + half))
    assert np.isnan(mean_ci([0.5])[1])


def test_recall_is_nan_for_an_absent_class(tmp_path):
    manifest = make_manifest()
    manifest = manifest[~((manifest["fold"] == 0) & (manifest["label"] == "sad"))]
    folds, summary = per_class_recall(open_run(write_run(tmp_path / "r", {"m": lambda r: r["label"]},
                                                         manifest)).predictions())
    sad = folds[(folds["true"] == "sad") & (folds["subset"] == "NM")]
    assert np.isnan(sad.query("fold == 0")["recall"].iat[0]) and (sad.query("fold > 0")["recall"] == 1).all()
    assert summary.query("true == 'sad' and subset == 'NM'")["n_folds"].iat[0] == 2

