"""Accuracy tables like the paper's Tables 3-6, with fold spread and confidence intervals.

Every number is computed per fold first (a fold is one trained model), then summarised over folds:
mean, sample standard deviation and a 95% confidence interval. The interval uses Nadeau and
Bengio's corrected variance ``(1/k + n_test/n_train) * sd**2`` (training sets of k folds overlap, so
fold scores are not independent and the naive ``sd**2 / k`` is too small); the naive t-interval
stays beside it (``_ci_low_naive``/``_ci_high_naive``). Per-class recall is the diagonal of the
row-normalised confusion matrix (the paper's Table 6). Confusion matrices are given per fold and
pooled over folds (counts summed), in long form.

Evaluation views (the ``subset`` column): ``NM`` and ``M`` are all validation images, ``PE-NM``
and ``PE-M`` the images of complete validated pairs (:func:`trainers.data.manifest.complete_pairs`,
the paper's MSD-PE, Table 5), defined once in :mod:`trainers.data.views`; :func:`evaluation_views` adds
the PE rows to the predictions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import confusion_matrix, f1_score

from trainers.data.labels import CLASSES
from trainers.data.manifest import complete_pairs
from trainers.data.views import FULL_VIEWS, PE_PREFIX, PE_VIEWS, VIEWS  # noqa: F401  (PE_VIEWS: re-exported)

SUBSET_ORDER: tuple[str, ...] = VIEWS  # the views in table order (defined in trainers.data.views)
CORRECTED, NAIVE = "nadeau-bengio", "t"


def pe_image_ids(manifest: pd.DataFrame) -> set[str]:
    """Image ids of the complete validated pairs of a manifest (one NM and one M image, same label)."""
    pairs = complete_pairs(manifest)
    return set(manifest.loc[manifest["pair_id"].isin(pairs.index), "image_id"])


def evaluation_views(predictions: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """Predictions with the PE views added: rows of complete-pair images again, ``subset`` ``PE-NM``/``PE-M``.

    Every row of ``predictions`` (``subset`` ``NM``/``M``) stays; an image of a complete validated
    pair of ``manifest`` appears a second time under ``PE-`` + its subset.
    """
    pe = predictions[predictions["image_id"].isin(pe_image_ids(manifest))
                     & predictions["subset"].isin(FULL_VIEWS)].copy()
    pe["subset"] = PE_PREFIX + pe["subset"]
    return pd.concat([predictions, pe], ignore_index=True)


def view_rows(table: pd.DataFrame, subset: str | None) -> pd.DataFrame:
    """Manifest rows of one evaluation view (``None``: all rows)."""
    if subset is None:
        return table
    if subset not in SUBSET_ORDER:
        raise ValueError(f"unknown evaluation view {subset!r}; expected one of {', '.join(SUBSET_ORDER)}")
    if subset.startswith(PE_PREFIX):
        table = table[table["image_id"].isin(pe_image_ids(table))]
        subset = subset[len(PE_PREFIX):]
    return table[table["masked"] == (subset == "M")]


def with_init(frame: pd.DataFrame, inits: dict[str, str]) -> pd.DataFrame:
    """``frame`` with how each model's backbone was initialised: ``init`` after ``model``, or
    ``init_a``/``init_b`` after ``model_b`` (:meth:`interp.runs.Run.inits`)."""
    frame = frame.copy()
    for model, column in (("model", "init"), ("model_b", "init_b"), ("model_a", "init_a")):
        if model in frame.columns and column not in frame.columns:
            after = "model_b" if model == "model_a" and "model_b" in frame else model
            frame.insert(frame.columns.get_loc(after) + 1, column,
                         frame[model].map(lambda name: inits.get(name, "") if name else ""))
    return frame


def corrected_interval(mean: float, sd: float, k: int, ratio: float,
                       confidence: float = 0.95) -> tuple[float, float]:
    """Nadeau and Bengio's corrected t-interval of a mean over ``k`` folds.

    ``mean +- t(k-1) * sd * sqrt(1/k + ratio)`` with ``ratio = n_test / n_train`` of a fold; NaN
    with fewer than two folds or an unknown ratio.

    References
    ----------
    Nadeau, C. and Bengio, Y. (2003). Inference for the generalization error. Machine Learning, 52(3).
    """
    if k < 2 or not np.isfinite(ratio) or not np.isfinite(sd):
        return (np.nan, np.nan)
    half = float(stats.t.ppf(0.5 + confidence / 2, k - 1)) * sd * np.sqrt(1.0 / k + ratio)
    return (mean - half, mean + half)


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
    """Per group of ``by``: ``n_folds`` and ``<value>_mean/_sd/_ci_low/_ci_high`` for each value column.

    When ``frame`` has ``n_train`` and ``n_test`` per fold, ``_ci_low/_ci_high`` is the corrected
    interval (:func:`corrected_interval`, ratio = mean n_test / mean n_train of the group's folds,
    as the corrected t-test of the comparisons), the naive t-interval is kept as
    ``_ci_low_naive/_ci_high_naive`` and ``ci_method`` says ``nadeau-bengio``; without sizes the
    interval is the naive one and ``ci_method`` says ``t``.
    """
    # no training images (an audited model, fold "all"): nothing overlaps, the naive interval stands
    corrected = {"n_train", "n_test"} <= set(frame.columns) and bool((frame["n_train"] > 0).all())
    rows = []
    for key, group in frame.groupby(by, sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row["n_folds"] = int(group[values[0]].notna().sum())
        row["ci_method"] = CORRECTED if corrected else NAIVE
        if corrected:
            row["test_train_ratio"] = float(group["n_test"].mean() / group["n_train"].mean())
        for column in values:
            mean, sd, low, high = mean_ci(group[column].to_numpy(), confidence)
            row.update({f"{column}_mean": mean, f"{column}_sd": sd, f"{column}_ci_low": low,
                        f"{column}_ci_high": high})
            if corrected:
                k = int(group[column].notna().sum())
                row[f"{column}_ci_low"], row[f"{column}_ci_high"] = corrected_interval(
                    mean, sd, k, row["test_train_ratio"], confidence)
                row.update({f"{column}_ci_low_naive": low, f"{column}_ci_high_naive": high})
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


FoldSizes = Callable[[str | None], pd.DataFrame]


def with_sizes(frame: pd.DataFrame, sizes: FoldSizes | None) -> pd.DataFrame:
    """``frame`` (with ``subset`` and ``fold``) plus each view's ``n_train`` and ``n_test`` of the fold.

    ``sizes`` is :meth:`interp.runs.Run.fold_sizes`; ``None`` leaves ``frame`` as it is (the
    summaries then give only the naive interval).
    """
    if sizes is None or frame.empty:
        return frame
    table = pd.concat([sizes(subset).assign(subset=subset) for subset in dict.fromkeys(frame["subset"])],
                      ignore_index=True)
    return frame.merge(table[["subset", "fold", "n_train", "n_test"]], on=["subset", "fold"], how="left")


def fold_scores(predictions: pd.DataFrame, sizes: FoldSizes | None = None) -> pd.DataFrame:
    """Accuracy and macro-F1 per model, subset and fold (with ``n_train``/``n_test`` given ``sizes``).

    Macro-F1 averages over the classes present in the fold's labels or predictions (scikit-learn's
    default), counting an undefined precision or recall as 0. Both count labelled images only (an
    audit of unlabelled photos has ``label`` empty): ``n`` is the images scored, NaN when none is labelled.
    """
    rows = []
    for (model, subset, fold), group in predictions.groupby(["model", "subset", "fold"], sort=False):
        group = group[group["label"] != ""]
        rows.append({
            "model": model, "subset": subset, "fold": int(fold), "n": len(group),
            "accuracy": float(group["correct"].mean()) if len(group) else float("nan"),
            "macro_f1": (float(f1_score(group["label"], group["pred"], average="macro", zero_division=0))
                         if len(group) else float("nan")),
        })
    return ordered(with_sizes(pd.DataFrame(rows), sizes))


def accuracy_table(predictions: pd.DataFrame, confidence: float = 0.95,
                   sizes: FoldSizes | None = None) -> pd.DataFrame:
    """Per model and subset: fold mean, sd and CI of accuracy and macro-F1 (Tables 3-5).

    With ``sizes`` (:meth:`interp.runs.Run.fold_sizes`) the interval is corrected (:func:`summarise`).
    """
    return summarise(fold_scores(predictions, sizes), ["model", "subset"], ["accuracy", "macro_f1"], confidence)


def confusion_counts(labels: Sequence[str], preds: Sequence[str]) -> np.ndarray:
    """7x7 count matrix (rows: true class, columns: predicted), classes in :data:`CLASSES` order; images
    without a label (an audit of unlabelled photos) are not counted."""
    labels, preds = np.asarray(labels, dtype=str), np.asarray(preds, dtype=str)
    keep = labels != ""
    if not keep.any():
        return np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    return confusion_matrix(labels[keep], preds[keep], labels=list(CLASSES))


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


def per_class_recall(predictions: pd.DataFrame, confidence: float = 0.95,
                     sizes: FoldSizes | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-class recall (Table 6): per fold, and summarised over folds.

    Returns
    -------
    folds
        ``model``, ``subset``, ``fold``, ``true`` (class), ``n`` (images of the class), ``recall``
        (NaN when the fold has no image of the class).
    summary
        ``model``, ``subset``, ``true``, ``n_folds`` and ``recall_mean/_sd/_ci_low/_ci_high`` over
        folds, plus ``recall_pooled`` from the pooled confusion matrix. With ``sizes`` the interval is
        corrected with the view's ``n_test/n_train`` (the correction is for overlapping training sets,
        which do not depend on the class) and the naive one kept (:func:`summarise`).
    """
    per_fold, pooled = confusion_tables(predictions)
    diagonal = per_fold[per_fold["true"] == per_fold["pred"]].copy()
    totals = per_fold.groupby(["model", "subset", "fold", "true"], sort=False)["count"].sum()
    keys = list(zip(diagonal["model"], diagonal["subset"], diagonal["fold"], diagonal["true"]))
    diagonal["n"] = totals.loc[keys].to_numpy()
    folds = ordered(diagonal[["model", "subset", "fold", "true", "n", "rate"]].rename(columns={"rate": "recall"}))
    summary = summarise(with_sizes(folds, sizes), ["model", "subset", "true"], ["recall"], confidence)
    pooled_diagonal = pooled[pooled["true"] == pooled["pred"]].set_index(["model", "subset", "true"])["rate"]
    keys = list(zip(summary["model"], summary["subset"], summary["true"]))
    summary["recall_pooled"] = pooled_diagonal.loc[keys].to_numpy()
    return folds, summary
