"""Per-image region metrics -> per class, fold and model, with CIs and tests across folds.

The unit of inference is the fold: every (model, fold) contributes one mean per metric, class
and subset, and comparisons between models pair folds (the same validation subjects). Tests use
Nadeau and Bengio's corrected resampled t-test (:func:`interp.stats.corrected_resampled_ttest`),
because the training sets of k folds overlap, and adjust within a family (Holm and BH).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from interp.regions import REGION_METRICS
from interp.stats import adjust, corrected_resampled_ttest
from trainers.errors import DataError
from trainers.methods import arm_names

log = logging.getLogger(__name__)

ALL_CLASSES = "all"
SUBSETS = {"NM": False, "M": True}
KEYS = ("model", "fold", "image_id", "label", "pred", "correct", "masked")


def metric_columns(images: pd.DataFrame) -> list[str]:
    """Registered region metrics present in a per-image table, in registry order."""
    return [name for name in REGION_METRICS if name in images.columns]


def check_images(images: pd.DataFrame) -> None:
    """Raise :class:`DataError` when a per-image table lacks a key column or every metric."""
    missing = [column for column in KEYS if column not in images.columns]
    if missing or not metric_columns(images):
        raise DataError(f"per-image attribution table lacks {missing or 'every region metric'}; "
                        "recompute it with `python -m interp.analyze RUN --only attributions`")


def fold_means(images: pd.DataFrame) -> pd.DataFrame:
    """Long table: model, fold, subset, class, metric, value (mean over images), n_images.

    ``class`` is each label and :data:`ALL_CLASSES`; NaN scores (undefined for an image) are skipped.
    """
    check_images(images)
    metrics = metric_columns(images)
    table = images.assign(subset=np.where(images["masked"].astype(bool), "M", "NM"))
    long = table.melt(id_vars=["model", "fold", "subset", "label"], value_vars=metrics,
                      var_name="metric", value_name="value").dropna(subset=["value"])
    frames = [long.assign(label=ALL_CLASSES), long]
    grouped = pd.concat(frames).groupby(["model", "fold", "subset", "label", "metric"], sort=True)["value"]
    out = grouped.agg(value="mean", n_images="size").reset_index()
    return out.rename(columns={"label": "class"})


def summarise(images: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per model, subset, class and metric: fold mean, sd, t-interval over folds, k, images.

    Returns
    -------
    pandas.DataFrame
        Columns model, subset, class, metric, direction, mean, sd, ci_low, ci_high, k, n_images.
        The interval is the plain t-interval of the fold means (k - 1 df): a description of
        fold-to-fold spread, not a test.
    """
    folds = fold_means(images)
    rows = []
    for key, group in folds.groupby(["model", "subset", "class", "metric"], sort=True):
        values = group["value"].to_numpy(dtype=float)
        k = len(values)
        mean, sd = float(values.mean()), float(values.std(ddof=1)) if k > 1 else np.nan
        half = float(stats.t.ppf(0.5 + confidence / 2, k - 1)) * sd / np.sqrt(k) if k > 1 else np.nan
        rows.append(dict(zip(("model", "subset", "class", "metric"), key), mean=mean, sd=sd,
                         ci_low=mean - half, ci_high=mean + half, k=k, n_images=int(group["n_images"].sum())))
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame.insert(4, "direction", frame["metric"].map(lambda m: REGION_METRICS[m].direction))
    return frame


@dataclass(frozen=True)
class BaselineTest:
    """Which comparisons :func:`compare_to_baseline` runs.

    Attributes
    ----------
    baseline
        The reference model (e.g. ``baseline-mix``).
    methods
        Models compared with it (default: the arms registered as ours, :func:`trainers.methods.arm_names`);
        those missing from the table are skipped.
    metric
        Region metric compared (default the mask-region fraction).
    subset
        ``"M"`` (masked images) or ``"NM"``.
    per_class
        Also compare within each class (each class adds one test per method to the family).
    confidence
        Level of the corrected interval of the difference.
    min_folds
        Fewest paired folds that get a p-value: with 2 folds the t-test has 1 degree of freedom
        and a lucky near-zero variance makes anything "significant", so below this the row keeps
        its effect and interval and p is NaN.
    """

    baseline: str
    methods: Sequence[str] = field(default_factory=lambda: tuple(arm_names("ours")))
    metric: str = "mask_fraction"
    subset: str = "M"
    per_class: bool = True
    confidence: float = 0.95
    min_folds: int = 3


def compare_to_baseline(images: pd.DataFrame, config: BaselineTest, n_train: float, n_test: float) -> pd.DataFrame:
    """Does each method change ``metric`` on ``subset`` images compared with the baseline?

    Fold means are paired by fold; the corrected resampled t-test (two-sided) gives the p-value,
    and Holm and Benjamini-Hochberg adjust over the whole family (methods x classes).

    Returns
    -------
    pandas.DataFrame
        comparison, subset, class, metric, direction, effect (method - baseline), ci_low, ci_high,
        statistic, p, p_holm, p_bh, test, k, and ``lower`` (effect < 0 with p_holm < 0.05).
    """
    if config.metric not in REGION_METRICS:
        raise DataError(f"unknown region metric {config.metric!r}; choose from {', '.join(REGION_METRICS)}")
    folds = fold_means(images)
    folds = folds[(folds["metric"] == config.metric) & (folds["subset"] == config.subset)]
    classes = [ALL_CLASSES] + (sorted(set(folds["class"]) - {ALL_CLASSES}) if config.per_class else [])
    rows = []
    for method in [m for m in config.methods if m in set(folds["model"]) and m != config.baseline]:
        for name in classes:
            rows.append(_compare(folds, method, config, name, n_train, n_test))
    frame = pd.DataFrame(rows)
    if frame.empty:
        log.info("no %s model next to baseline %s: nothing to compare", "/".join(config.methods), config.baseline)
        return frame
    frame["p_holm"] = adjust(frame["p"].to_numpy(), "holm")
    frame["p_bh"] = adjust(frame["p"].to_numpy(), "bh")
    frame["lower"] = (frame["effect"] < 0) & (frame["p_holm"] < 0.05)
    return frame


def _compare(folds: pd.DataFrame, method: str, config: BaselineTest, name: str,
             n_train: float, n_test: float) -> dict:
    of_class = folds[folds["class"] == name]
    wide = of_class.pivot_table(index="fold", columns="model", values="value")
    row = {"comparison": f"{method} vs {config.baseline}", "subset": config.subset, "class": name,
           "metric": config.metric, "direction": REGION_METRICS[config.metric].direction,
           "test": "corrected_resampled_ttest"}
    if method not in wide or config.baseline not in wide:
        return {**row, "k": 0, "effect": np.nan, "ci_low": np.nan, "ci_high": np.nan, "statistic": np.nan, "p": np.nan}
    paired = wide[[method, config.baseline]].dropna()
    if len(paired) < 2:
        return {**row, "k": len(paired), "effect": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                "statistic": np.nan, "p": np.nan}
    result = corrected_resampled_ttest(paired[method], paired[config.baseline], n_train, n_test, config.confidence)
    tested = len(paired) >= config.min_folds
    return {**row, "k": len(paired), "effect": result.effect, "ci_low": result.ci_low, "ci_high": result.ci_high,
            "statistic": result.statistic if tested else np.nan, "p": result.pvalue if tested else np.nan}


def fold_sizes(manifest: pd.DataFrame) -> tuple[float, float]:
    """Mean training and validation images per fold from a manifest with a ``fold`` column."""
    if "fold" not in manifest.columns:
        raise DataError("the run's manifest.csv has no fold column; it is written by `python -m trainers run`")
    counts = manifest["fold"].value_counts()
    n_test = float(counts.mean())
    return float(len(manifest) - n_test), n_test
