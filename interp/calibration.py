"""Calibration under masking, from the stored logits: does a model know when the mask fools it?

Every fold's ``predictions.csv`` keeps the seven logits of every validation image; their softmax is the
model's class probabilities. Per arm, view (NM, M) and fold this module computes the expected
calibration error (15 equal-width bins) and the Brier score (:mod:`interp.stats.calibration`), then
summarises over folds with the corrected interval of the accuracy tables; the reliability table
(accuracy against confidence per bin) is pooled over folds for the diagram. The predicted-class
distribution puts the share of images predicted as each class beside the true share: which classes
masked faces collapse onto.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import softmax

from interp.stats.calibration import BINS, brier_score, expected_calibration_error, reliability_table
from interp.tables import FULL_VIEWS, FoldSizes, ordered, summarise
from trainers.common.errors import DataError
from trainers.data.labels import CLASSES

LOGIT_COLUMNS: tuple[str, ...] = tuple(f"logit_{name}" for name in CLASSES)
MEASURES: tuple[str, ...] = ("ece", "brier", "confidence", "accuracy")


def probabilities(predictions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Softmax of the stored logits (``(n, 7)``) and the true class indices of ``predictions``."""
    missing = [column for column in LOGIT_COLUMNS if column not in predictions.columns]
    if missing:
        raise DataError(f"predictions lack the logit columns {', '.join(missing)}; retrain the fold "
                        "(predictions.csv keeps every class logit) or skip the calibration step with --only")
    logits = predictions[list(LOGIT_COLUMNS)].to_numpy(dtype=np.float64)
    labels = predictions["label"].map({name: i for i, name in enumerate(CLASSES)}).to_numpy()
    return softmax(logits, axis=1), labels.astype(np.int64)


def calibration_folds(predictions: pd.DataFrame, sizes: FoldSizes | None = None, bins: int = BINS) -> pd.DataFrame:
    """Per model, view (NM, M) and fold: ``n``, ``ece``, ``brier``, mean top-label ``confidence`` and
    ``accuracy``, with the view's ``n_train``/``n_test`` of the fold when ``sizes`` is given."""
    rows = []
    views = predictions[predictions["subset"].isin(FULL_VIEWS) & (predictions["label"] != "")]  # "": unlabelled (an audit)
    for (model, subset, fold), group in views.groupby(["model", "subset", "fold"], sort=False):
        probs, labels = probabilities(group)
        rows.append({"model": model, "subset": subset, "fold": fold, "n": len(group),
                     "ece": expected_calibration_error(probs, labels, bins), "brier": brier_score(probs, labels),
                     "confidence": float(probs.max(1).mean()), "accuracy": float((probs.argmax(1) == labels).mean())})
    frame = pd.DataFrame(rows, columns=["model", "subset", "fold", "n", *MEASURES])  # no row: an unlabelled audit
    if sizes is not None and not frame.empty:
        counts = pd.concat([sizes(subset).assign(subset=subset) for subset in FULL_VIEWS], ignore_index=True)
        frame = frame.merge(counts, on=["subset", "fold"], how="left")
    return ordered(frame)


def calibration_summary(folds: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per model and view: mean, sd and (corrected, when the folds carry sizes) interval over folds of
    ECE, Brier, confidence and accuracy (:func:`interp.tables.summarise`)."""
    return summarise(folds, ["model", "subset"], list(MEASURES), confidence)


def reliability(predictions: pd.DataFrame, bins: int = BINS) -> pd.DataFrame:
    """Per model and view, the reliability table pooled over folds (:func:`interp.stats.calibration.reliability_table`):
    ``bin``, ``lower``, ``upper``, ``count``, ``confidence``, ``accuracy``."""
    frames = []
    views = predictions[predictions["subset"].isin(FULL_VIEWS) & (predictions["label"] != "")]  # "": unlabelled (an audit)
    for (model, subset), group in views.groupby(["model", "subset"], sort=False):
        probs, labels = probabilities(group)
        table = reliability_table(probs, labels, bins)
        table.insert(0, "subset", subset)
        table.insert(0, "model", model)
        frames.append(table)
    return ordered(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()


def predicted_classes(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per model, view (NM, M) and class, pooled over folds: how many images are of the class (``true``)
    and how many the model predicts as it (``predicted``), their shares of the view and
    ``excess`` = predicted share - true share (positive: the class attracts other classes' images)."""
    views = predictions[predictions["subset"].isin(FULL_VIEWS) & (predictions["label"] != "")]  # "": unlabelled (an audit)
    rows = []
    for (model, subset), group in views.groupby(["model", "subset"], sort=False):
        true, predicted = group["label"].value_counts(), group["pred"].value_counts()
        for name in CLASSES:
            rows.append({"model": model, "subset": subset, "class": name, "n": len(group),
                         "true": int(true.get(name, 0)), "predicted": int(predicted.get(name, 0))})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["true_share"] = frame["true"] / frame["n"]
    frame["predicted_share"] = frame["predicted"] / frame["n"]
    frame["excess"] = frame["predicted_share"] - frame["true_share"]
    return ordered(frame)
