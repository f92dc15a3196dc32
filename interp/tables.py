"""Accuracy tables like the paper's Tables 3-6, with fold spread and confidence intervals.

Every number is computed per fold first (a fold is one trained model), then summarised over folds:
mean, sample standard deviation and a t-based 95% confidence interval. Per-class recall is the
diagonal of the row-normalised confusion matrix (the paper's Table 6). Confusion matrices are given
per fold and pooled over folds (counts summed), in long form.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import confusion_matrix, f1_score

from trainers.atomic import atomic_path
from trainers.data.labels import CLASSES

SUBSET_ORDER: tuple[str, ...] = ("NM", "M")


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, sample sd (ddof 1) and t-based confidence interval over folds, ignoring NaN.

    Returns NaN for the sd and interval with fewer than two values.
    """
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    mean = float(array.mean())
    if array.size < 2:
        return (mean, np.nan, np.nan, np.nan)
    sd = float(array.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, array.size - 1)) * sd / np.sqrt(array.size)
    return (mean, sd, mean - half, mean + half)


def summarise(frame: pd.DataFrame, by: list[str], values: list[str], confidence: float = 0.95) -> pd.DataFrame:
    """Per group of ``by``: ``n_folds`` and ``<value>_mean/_sd/_ci_low/_ci_high`` for each value column."""
    rows = []
    for key, group in frame.groupby(by, sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row["n_folds"] = int(group[values[0]].notna().sum())
        for column in values:
            mean, sd, low, high = mean_ci(group[column].to_numpy(), confidence)
            row.update({f"{column}_mean": mean, f"{column}_sd": sd,
                        f"{column}_ci_low": low, f"{column}_ci_high": high})
        rows.append(row)
    return ordered(pd.DataFrame(rows))


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by model (first appearance), subset (NM before M), then fold and class if present."""
    keys = [c for c in ("model", "subset", "fold", "true") if c in frame.columns]
    if frame.empty or not keys:
        return frame.reset_index(drop=True)
    rank = {
        "model": {m: i for i, m in enumerate(dict.fromkeys(frame["model"]))} if "model" in frame else {},
        "subset": {s: i for i, s in enumerate(SUBSET_ORDER)},
        "true": {c: i for i, c in enumerate(CLASSES)},
    }

    def sort_key(column: pd.Series) -> pd.Series:
        return column.map(rank[column.name]) if column.name in rank else column

    return frame.sort_values(keys, key=sort_key, kind="stable").reset_index(drop=True)


def fold_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """Accuracy and macro-F1 per model, subset and fold.

    Macro-F1 averages over the classes present in the fold's labels or predictions (scikit-learn's
    default), counting an undefined precision or recall as 0.
    """
    rows = []
    for (model, subset, fold), group in predictions.groupby(["model", "subset", "fold"], sort=False):
        rows.append({
            "model": model, "subset": subset, "fold": int(fold), "n": len(group),
            "accuracy": float(group["correct"].mean()),
            "macro_f1": float(f1_score(group["label"], group["pred"], average="macro", zero_division=0)),
        })
    return ordered(pd.DataFrame(rows))


def accuracy_table(predictions: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per model and subset: fold mean, sd and CI of accuracy and macro-F1 (Tables 3-5)."""
    return summarise(fold_scores(predictions), ["model", "subset"], ["accuracy", "macro_f1"], confidence)


def confusion_counts(labels: Sequence[str], preds: Sequence[str]) -> np.ndarray:
    """7x7 count matrix (rows: true class, columns: predicted), classes in :data:`CLASSES` order."""
    return confusion_matrix(labels, preds, labels=list(CLASSES))


def row_normalise(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum; rows of a class absent from the labels are NaN, not 0."""
    totals = counts.sum(axis=1, keepdims=True).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / np.where(totals > 0, totals, 1), np.nan)


def _long(counts: np.ndarray, **keys: object) -> pd.DataFrame:
    rates = row_normalise(counts)
    true, pred = np.meshgrid(np.arange(len(CLASSES)), np.arange(len(CLASSES)), indexing="ij")
    frame = pd.DataFrame({
        "true": np.asarray(CLASSES)[true.ravel()], "pred": np.asarray(CLASSES)[pred.ravel()],
        "count": counts.ravel().astype(int), "rate": rates.ravel(),
    })
    for offset, (name, value) in enumerate(keys.items()):
        frame.insert(offset, name, value)
    return frame


def confusion_tables(predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Confusion matrices in long form: per fold, and pooled over folds (counts summed).

    Columns: ``model``, ``subset``, (``fold``), ``true``, ``pred``, ``count``, ``rate`` (the
    row-normalised value: the share of class ``true`` predicted as ``pred``).
    """
    per_fold, pooled = [], []
    for (model, subset), group in predictions.groupby(["model", "subset"], sort=False):
        total = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
        for fold, part in group.groupby("fold", sort=True):
            counts = confusion_counts(part["label"], part["pred"])
            total += counts
            per_fold.append(_long(counts, model=model, subset=subset, fold=int(fold)))
        pooled.append(_long(total, model=model, subset=subset))
    return ordered(pd.concat(per_fold, ignore_index=True)), ordered(pd.concat(pooled, ignore_index=True))


def per_class_recall(predictions: pd.DataFrame, confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-class recall (Table 6): per fold, and summarised over folds.

    Returns
    -------
    folds
        ``model``, ``subset``, ``fold``, ``true`` (class), ``n`` (images of the class), ``recall``
        (NaN when the fold has no image of the class).
    summary
        ``model``, ``subset``, ``true``, ``n_folds`` and ``recall_mean/_sd/_ci_low/_ci_high`` over
        folds, plus ``recall_pooled`` from the pooled confusion matrix.
    """
    per_fold, pooled = confusion_tables(predictions)
    diagonal = per_fold[per_fold["true"] == per_fold["pred"]].copy()
    totals = per_fold.groupby(["model", "subset", "fold", "true"], sort=False)["count"].sum()
    keys = list(zip(diagonal["model"], diagonal["subset"], diagonal["fold"], diagonal["true"]))
    diagonal["n"] = totals.loc[keys].to_numpy()
    folds = ordered(diagonal[["model", "subset", "fold", "true", "n", "rate"]].rename(columns={"rate": "recall"}))
    summary = summarise(folds, ["model", "subset", "true"], ["recall"], confidence)
    pooled_diagonal = pooled[pooled["true"] == pooled["pred"]].set_index(["model", "subset", "true"])["rate"]
    keys = list(zip(summary["model"], summary["subset"], summary["true"]))
    summary["recall_pooled"] = pooled_diagonal.loc[keys].to_numpy()
    return folds, summary


def write_table(frame: pd.DataFrame, directory: Path, name: str) -> list[Path]:
    """Write ``frame`` as ``<name>.parquet`` and ``<name>.csv`` in ``directory`` (atomically)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{name}.parquet", directory / f"{name}.csv"]
    with atomic_path(paths[0]) as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic_path(paths[1]) as tmp:
        frame.to_csv(tmp, index=False)
    return paths
