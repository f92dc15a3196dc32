"""Per-image region metrics -> per class, fold and model, with CIs and tests across folds.

The unit of inference is the fold: every (model, fold) contributes one mean per metric, class
and subset, and comparisons between models pair folds (the same validation subjects). The tests
run through the statistics package like the accuracy comparisons
(:func:`interp.stats.comparisons.run_family`): Nadeau and Bengio's corrected resampled t-test,
because the training sets of k folds overlap. The all-classes row of each method is one family
(kind ``table``, Holm); the per-class rows are another (kind ``exploratory``, Benjamini-Hochberg), so
adding classes never dilutes the overall answer. Summaries carry the same corrected interval as the
accuracy tables when the fold sizes are given.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from interp.regions import REGION_METRICS
from interp.stats.comparisons import Comparison, ComparisonConfig, FoldSizes, paired_scores, run_family
from interp.tables import PE_PREFIX, corrected_interval, mean_ci
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

ALL_CLASSES = "all"
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


def with_views(images: pd.DataFrame) -> pd.DataFrame:
    """``images`` with a ``subset`` column (``NM``/``M``) and, for the images of complete validated pairs
    (a true ``pe`` column), a second row each under ``PE-NM``/``PE-M`` (the evaluation views of
    :mod:`interp.tables`)."""
    table = images.assign(subset=np.where(images["masked"].astype(bool), "M", "NM"))
    if "pe" not in table.columns:
        return table
    pe = table[table["pe"].astype(bool)]
    return pd.concat([table, pe.assign(subset=PE_PREFIX + pe["subset"])], ignore_index=True)


def fold_means(images: pd.DataFrame) -> pd.DataFrame:
    """Long table: model, fold, subset, class, metric, value (mean over images), n_images.

    ``subset`` is each evaluation view (:func:`with_views`); ``class`` is each label and
    :data:`ALL_CLASSES`; NaN scores (undefined for an image) are skipped.
    """
    check_images(images)
    metrics = metric_columns(images)
    table = with_views(images)
    long = table.melt(id_vars=["model", "fold", "subset", "label"], value_vars=metrics,
                      var_name="metric", value_name="value").dropna(subset=["value"])
    frames = [long.assign(label=ALL_CLASSES), long]
    grouped = pd.concat(frames).groupby(["model", "fold", "subset", "label", "metric"], sort=True)["value"]
    out = grouped.agg(value="mean", n_images="size").reset_index()
    return out.rename(columns={"label": "class"})


def summarise(images: pd.DataFrame, confidence: float = 0.95, sizes: FoldSizes | None = None) -> pd.DataFrame:
    """Per model, subset, class and metric: fold mean, sd, interval over folds, k, images.

    Parameters
    ----------
    sizes
        ``subset -> DataFrame(fold, n_train, n_test)`` (:meth:`interp.runs.Run.fold_sizes`): with it the
        interval is Nadeau and Bengio's corrected one (:func:`interp.tables.corrected_interval`, ratio
        ``n_test / n_train`` of the view's folds), as in the accuracy tables; without it the plain
        t-interval (``ci_method`` says which).

    Returns
    -------
    pandas.DataFrame
        Columns model, subset, class, metric, direction, mean, sd, ci_low, ci_high, ci_method, k, n_images.
        A model and view whose images have no score for a
        metric (e.g. every map all-negative) keeps its all-classes row, NaN with ``k`` = ``n_images`` = 0,
        so the arm is reported as unmeasured rather than left out.
    """
    folds = fold_means(images)
    keys = ["model", "subset", "class", "metric"]
    rows = []
    ratios = {} if sizes is None else {view: _ratio(sizes, view) for view in set(folds["subset"])}
    for key, group in folds.groupby(keys, sort=True):
        mean, sd, low, high = mean_ci(group["value"].to_numpy(dtype=float), confidence)
        method = "t"
        if key[1] in ratios and np.isfinite(ratios[key[1]]):
            low, high = corrected_interval(mean, sd, len(group), ratios[key[1]], confidence)
            method = "nadeau-bengio"
        rows.append(dict(zip(keys, key), mean=mean, sd=sd, ci_low=low, ci_high=high, ci_method=method,
                         k=len(group), n_images=int(group["n_images"].sum())))
    covered = with_views(images)[["model", "subset"]].drop_duplicates()
    overall = folds[folds["class"] == ALL_CLASSES]
    scored = set(zip(overall["model"], overall["subset"], overall["metric"]))
    nan = float("nan")
    rows += [{"model": model, "subset": subset, "class": ALL_CLASSES, "metric": metric, "mean": nan, "sd": nan,
              "ci_low": nan, "ci_high": nan, "ci_method": "t", "k": 0, "n_images": 0}
             for model, subset in covered.itertuples(index=False) for metric in metric_columns(images)
             if (model, subset, metric) not in scored]
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
        frame.insert(4, "direction", frame["metric"].map(lambda m: REGION_METRICS[m].direction))
    return frame


def _ratio(sizes: FoldSizes, view: str) -> float:
    """Mean validation over mean training images of a view's folds (NaN without training images)."""
    table = sizes(view)
    train = float(table["n_train"].mean()) if len(table) else math.nan
    return float(table["n_test"].mean()) / train if train > 0 else math.nan


@dataclass(frozen=True)
class BaselineTest:
    """Which comparisons :func:`compare_to_baseline` runs.

    Attributes
    ----------
    baseline
        The reference model (e.g. ``baseline-mix``).
    methods
        Models compared with it (the study's arms of role ``ours``, or the audit's ``compare`` option);
        those missing from the table are skipped.
    metric
        Region metric compared (default the mask-region fraction).
    subset
        ``"M"`` (masked images), ``"NM"``, or a PE view (``"PE-M"``, ``"PE-NM"``).
    per_class
        Also compare within each class (a second family, exploratory, adjusted apart from the overall rows).
    stats
        Options of the tests (confidence, alpha, adjustment, ``min_folds``: fewest paired folds that
        get a p-value, 3 here because with 2 folds the t-test has 1 degree of freedom).
    """

    baseline: str
    methods: Sequence[str]
    metric: str = "mask_fraction"
    subset: str = "M"
    per_class: bool = True
    stats: ComparisonConfig = field(default_factory=lambda: ComparisonConfig(min_folds=3))


FOLD_TEST = "corrected-t"


def compare_to_baseline(images: pd.DataFrame, config: BaselineTest, sizes: FoldSizes) -> pd.DataFrame:
    """Does each method change ``metric`` on ``subset`` images compared with the baseline?

    Fold means are paired by fold; the corrected resampled t-test (two-sided) gives the p-value. The
    all-classes rows (one per method) are one family, adjusted with Holm (``family_kind`` ``table``);
    the per-class rows (methods x classes) another, ``<family>-per-class``, adjusted with
    Benjamini-Hochberg (``exploratory``); both through :func:`interp.stats.comparisons.run_family`.

    Parameters
    ----------
    sizes
        ``subset -> DataFrame(fold, n_train, n_test)`` (:meth:`interp.runs.Run.fold_sizes`).

    Returns
    -------
    pandas.DataFrame
        The comparison table's columns (family, comparison, model_a, model_b, subset, test, effect
        = method - baseline, ci_low, ci_high, statistic, p_raw, p_adjusted, p_holm, p_bh, k, note,
        ...) plus class, metric, direction, and ``lower`` (effect < 0 with p_adjusted < alpha).
    """
    if config.metric not in REGION_METRICS:
        raise DataError(f"unknown region metric {config.metric!r}; choose from {', '.join(REGION_METRICS)}")
    folds = fold_means(images)
    folds = folds[(folds["metric"] == config.metric) & (folds["subset"] == config.subset)]
    classes = [ALL_CLASSES] + (sorted(set(folds["class"]) - {ALL_CLASSES}) if config.per_class else [])
    methods = [m for m in config.methods if m in set(folds["model"]) and m != config.baseline]
    family = f"attention-{config.metric}-vs-{config.baseline}-{config.subset}"
    frames = []
    for scope, names, kind in (("", classes[:1], "table"), ("-per-class", classes[1:], "exploratory")):
        comparisons = []
        for name in names:
            of_class = folds[folds["class"] == name]
            scores = {(model, config.subset): group.set_index("fold")["value"]
                      for model, group in of_class.groupby("model")}
            for method in methods:
                comparison = Comparison(method, config.baseline, config.subset)
                if (config.baseline, config.subset) not in scores or (method, config.subset) not in scores:
                    continue
                columns = {"comparison": comparison.label, "model_a": method, "model_b": config.baseline,
                           "subset": config.subset, "class": name, "metric": config.metric,
                           "direction": REGION_METRICS[config.metric].direction}
                comparisons.append((columns, paired_scores(None, scores, sizes, comparison)))
        frames.append(run_family(family + scope, comparisons, (FOLD_TEST,), config.stats, scale=1.0, kind=kind))
    frame = pd.concat([f for f in frames if not f.empty] or [pd.DataFrame()], ignore_index=True)
    if frame.empty:
        log.info("no %s model next to baseline %s: nothing to compare", "/".join(config.methods), config.baseline)
        return frame
    frame["lower"] = (frame["effect"] < 0) & (frame["p_adjusted"] < config.stats.alpha)
    return frame

