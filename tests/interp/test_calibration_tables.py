"""Calibration under masking (interp.calibration, the calibration step) on known runs and the smoke study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax

import interp.results
from interp.calibration import calibration_folds, calibration_summary, predicted_classes, reliability
from interp.runs import open_run
from interp.stats.calibration import brier_score, expected_calibration_error
from tests.interp.conftest import known_rule, perfect_rule, write_run
from tests.study_fixture import smoke_study  # noqa: F401  (pytest fixture)
from trainers.data.labels import CLASSES


def test_calibration_tables_from_the_stored_logits(tmp_path):
    run = open_run(write_run(tmp_path / "cal", {"baseline-mix": known_rule, "cl": perfect_rule}))
    predictions = run.predictions()
    folds = calibration_folds(predictions, run.fold_sizes)
    assert len(folds) == 2 * 2 * 3 and set(folds["subset"]) == {"NM", "M"}
    one = predictions[(predictions["model"] == "cl") & (predictions["subset"] == "M") & (predictions["fold"] == 1)]
    probs = softmax(one[[f"logit_{c}" for c in CLASSES]].to_numpy(float), axis=1)
    labels = one["label"].map(CLASSES.index).to_numpy()
    row = folds[(folds["model"] == "cl") & (folds["subset"] == "M") & (folds["fold"] == 1)].iloc[0]
    assert row["ece"] == pytest.approx(expected_calibration_error(probs, labels))
    assert row["brier"] == pytest.approx(brier_score(probs, labels)) and row["accuracy"] == 1.0
    assert row["n_train"] == 28 and row["n_test"] == 14
    summary = calibration_summary(folds)
    assert set(summary["ci_method"]) == {"nadeau-bengio"} and len(summary) == 4
    bins = reliability(predictions)
    assert (bins.groupby(["model", "subset"])["count"].sum() == 42).all() and len(bins) == 4 * 15
    classes = predicted_classes(predictions).set_index(["model", "subset", "class"])
    # known_rule calls fear "surprise" on both views and masked disgust "angry"
    assert classes.loc[("baseline-mix", "NM", "surprise"), "predicted"] == 12
    assert classes.loc[("baseline-mix", "M", "fear"), "predicted"] == 0
    assert classes.loc[("baseline-mix", "M", "angry"), "excess"] == pytest.approx(6 / 42)
    assert classes.loc[("cl", "M", "angry"), "excess"] == 0


def test_calibration_on_the_smoke_study(smoke_study: Path):  # noqa: F811
    results = interp.results.load(smoke_study)
    summary = results.calibration()
    assert {(arm, view) for arm in results.arms for view in ("NM", "M")} == set(zip(summary["model"],
                                                                                    summary["subset"]))
    assert summary["ece_mean"].between(0, 1).all() and summary["brier_mean"].between(0, 2).all()
    folds = results.calibration(folds=True)
    accuracy = results.accuracy(folds=True).set_index(["model", "subset", "fold"])["accuracy"]
    matched = folds.set_index(["model", "subset", "fold"])["accuracy"]
    assert np.allclose(matched, accuracy.loc[matched.index])  # the logits' argmax is the stored prediction
    bins = results.reliability()
    counts = bins.groupby(["model", "subset"])["count"].sum()
    assert (counts == results.predicted_classes().groupby(["model", "subset"])["true"].sum()).all()
    shares = results.predicted_classes().groupby(["model", "subset"])[["true_share", "predicted_share"]].sum()
    assert np.allclose(shares, 1.0)
