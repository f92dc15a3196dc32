"""The tidy comparison table: every registered test over every comparison of each declared family.

A family is a declared set of hypotheses whose p-values are adjusted together; which families a
study has, their kind (confirmatory, table, mechanism, exploratory) and their adjustment are
declared in :mod:`interp.stats.families` from the arms' own description in ``study.json``. Each
hypothesis is in exactly one family (:func:`interp.stats.families.check_unique`).

Multiplicity: each family declares one primary test (``primary``, the corrected resampled t-test;
the non-inferiority family's is the one-sided non-inferiority test); the other tests are secondary
(``role``), reported for robustness and adjusted within their own test. A test with a floor on the
folds (Wilcoxon: 6) gives no row below it. Friedman's omnibus test runs over all models per view;
its post-hoc rows (exploratory) exist only where it rejects at ``alpha`` (Holm over views), unless
``posthoc_gate`` is off, in which case they are all produced and marked ``posthoc-ungated``.
A comparison of two arms whose recorded training budgets (steps or images per epoch) differ by more
than 1% says so in ``budget_differs`` and ``budget``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from interp.stats import OMNIBUS_TESTS, PAIRWISE_TESTS, build_test, default_tests
from interp.stats.base import PairedScores
from interp.stats.families import (
    FALLBACK_BASELINES, KIND_ADJUSTMENT, NONINFERIORITY_TEST, PE_BASELINE, WITHIN, ArmInfo, Comparison, Family, budget_note,
    check_unique, declared_families, describe_arms, without_declared,
)
from interp.stats.friedman import model_pairs
from interp.stats.multiple import adjust, check_family
from interp.tables import FULL_VIEWS, SUBSET_ORDER
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

PRIMARY_TEST = "corrected-t"
COLUMNS: tuple[str, ...] = (
    "family", "family_kind", "comparison", "model_a", "model_b", "subset", "test", "role", "primary", "effect",
    "ci_low", "ci_high", "statistic", "p_raw", "p_adjusted", "adjustment", "p_holm", "p_bh", "reachable", "margin",
    "k", "n_train", "n_test", "n_units", "budget_differs", "budget", "note",
)
ROLES: dict[str, str] = {
    "primary": "the family's declared test: read its adjusted p-value",
    "secondary": "another test of the same comparison, for robustness; not the family's decision",
    "omnibus": "Friedman's test over all models of a view; gates the post-hoc rows",
    "posthoc": "post-hoc pair after Friedman rejected in the view",
    "posthoc-ungated": "post-hoc pair produced without Friedman's gate (posthoc_gate off)",
}
FoldSizes = Callable[[str | None], pd.DataFrame]
__all__ = ["COLUMNS", "Comparison", "ComparisonConfig", "Family", "FoldSizes", "PE_BASELINE", "PRIMARY_TEST", "ROLES",
           "comparison_table", "default_families", "family_rows", "friedman_rows", "paired_scores", "pick_baseline",
           "posthoc_family", "run_family", "table5_methods"]


@dataclass
class ComparisonConfig:
    """Options of the comparison table.

    Attributes
    ----------
    baseline
        Baseline of Tables 3-4 for both NM and M; empty uses the view-matched baseline (the arm the
        study records as the baseline for the view, :func:`interp.stats.families.view_baseline`).
    tests
        Pairwise tests to run in the families that do not name theirs (registry names); empty runs
        every default test.
    margin
        Non-inferiority margin in accuracy points: "keeps the non-masked accuracy" means loses less
        than this against ``baseline-pe`` on PE-NM (one-sided, corrected standard error).
    min_folds
        Fewest paired folds that get a p-value from a test over folds: with 2 folds the t-test has
        1 degree of freedom and a lucky near-zero variance makes anything "significant"; below
        this a row keeps its effect and interval and its p-value is NaN.
    primary_test
        The declared primary test of every family (``primary`` True); other tests are secondary.
        A family that does not run it takes its first test as primary.
    posthoc_gate
        Produce Friedman's post-hoc pairs only where Friedman rejects (at ``alpha``, Holm over
        views); off produces them always, marked ``posthoc-ungated``.
    """

    baseline: str = ""
    tests: tuple[str, ...] = ()
    alpha: float = 0.05
    margin: float = 2.0
    n_boot: int = 2000
    seed: int = 0
    confidence: float = 0.95
    friedman: bool = True
    min_folds: int = 2
    primary_test: str = PRIMARY_TEST
    posthoc_gate: bool = True


def pick_baseline(models: list[str], baseline: str = "") -> str | None:
    """The configured baseline (checked), else baseline-mix, else baseline-nm, else None (the audit's
    single reference arm; the accuracy tables use the view-matched baseline of each view)."""
    if baseline and baseline not in models:
        raise DataError(f"baseline {baseline!r} is not a model of the run ({', '.join(models)})")
    return baseline or next((name for name in FALLBACK_BASELINES if name in models), None)


def table5_methods(models: list[str], arms: Mapping[str, ArmInfo] | None = None) -> list[str]:
    """Models of the run compared with ``baseline-pe`` (Table 5): arms of roles ``ours`` and
    ``reference`` (CL, KD, RAN, SCAN), without ablations."""
    arms = arms or describe_arms({}, models)
    return [m for m in models if m in arms and arms[m].role in ("ours", "reference") and m != PE_BASELINE]


def default_families(models: list[str], baseline: str = "",
                     arms: Mapping[str, ArmInfo] | None = None) -> list[Family]:
    """The declared families (:func:`interp.stats.families.declared_families`) of the arms of ``models``;
    ``arms`` from the study's ``study.json`` (:func:`interp.stats.families.describe_arms`), else from the names."""
    described = describe_arms({}, models) if arms is None else {m: arms[m] for m in models if m in arms}
    return declared_families(described, baseline)


def posthoc_family(models: list[str], subset: str) -> Family:
    """Friedman's post-hoc: every pair of models over folds (corrected t primary, Wilcoxon), adjusted together."""
    return Family(f"posthoc-{subset}", tuple(Comparison(a, b, subset) for a, b in model_pairs(models)),
                  "exploratory", (PRIMARY_TEST, "wilcoxon"))


def paired_scores(predictions: pd.DataFrame | None, scores: dict[tuple[str, str], pd.Series], sizes: FoldSizes,
                  comparison: Comparison) -> PairedScores:
    """Fold scores matched by fold, and matched images (or NM/M pairs) with their subjects.

    ``scores`` maps ``(model, subset)`` to a score per fold; without ``predictions`` there are no
    matched images (only the tests over folds apply).
    """
    a_key, b_key = _sides(comparison)
    folds = sorted(set(scores.get(a_key, pd.Series(dtype=float)).dropna().index)
                   & set(scores.get(b_key, pd.Series(dtype=float)).dropna().index))
    fold_a = scores[a_key].loc[folds].to_numpy() if folds else np.empty(0)
    fold_b = scores[b_key].loc[folds].to_numpy() if folds else np.empty(0)
    table = sizes(None if comparison.subset == WITHIN else comparison.subset)
    table = table[table["fold"].isin(folds)]
    matched = _matched_units(predictions, comparison) if predictions is not None else pd.DataFrame(
        {"correct_a": np.empty(0, bool), "correct_b": np.empty(0, bool), "subject": np.empty(0, str)})
    return PairedScores(
        fold_a=fold_a, fold_b=fold_b,
        n_train=float(table["n_train"].mean()) if len(table) else math.nan,
        n_test=float(table["n_test"].mean()) if len(table) else math.nan,
        correct_a=matched["correct_a"].to_numpy(), correct_b=matched["correct_b"].to_numpy(),
        clusters=matched["subject"].to_numpy(),
    )


def _sides(comparison: Comparison) -> tuple[tuple[str, str], tuple[str, str]]:
    if comparison.subset == WITHIN:
        return (comparison.model_a, "NM"), (comparison.model_a, "M")
    return (comparison.model_a, comparison.subset), (comparison.model_b, comparison.subset)


def _matched_units(predictions: pd.DataFrame, comparison: Comparison) -> pd.DataFrame:
    """Same image under both models, or (within a model) the NM and M images of one pair."""
    columns = ["fold", "image_id", "pair_id", "subject", "correct"]
    if comparison.subset == WITHIN:
        own = predictions[(predictions["model"] == comparison.model_a) & (predictions["pair_id"] != "")
                          & predictions["subset"].isin(FULL_VIEWS)]
        left, right, key = own[~own["masked"]], own[own["masked"]], ["fold", "pair_id"]
    else:
        subset = predictions[predictions["subset"] == comparison.subset]
        left = subset[subset["model"] == comparison.model_a]
        right = subset[subset["model"] == comparison.model_b]
        key = ["fold", "image_id"]
    merged = left[columns].merge(right[columns], on=key, suffixes=("_a", "_b"), validate="one_to_one")
    return merged.rename(columns={"subject_a": "subject"})


def _run_test(name: str, data: PairedScores, config: ComparisonConfig, scale: float) -> tuple[dict, str]:
    test = build_test(name, n_boot=config.n_boot, seed=config.seed, confidence=config.confidence,
                      margin=config.margin / scale)
    values = dict.fromkeys(("effect", "ci_low", "ci_high", "statistic", "p_raw"), math.nan)
    try:
        result = test.from_scores(data)
    except DataError as exc:
        return values, str(exc)
    values.update(effect=scale * result.effect, ci_low=scale * result.ci_low, ci_high=scale * result.ci_high,
                  statistic=result.statistic, p_raw=result.pvalue)
    if test.level == "folds" and len(data.fold_a) < config.min_folds:
        values.update(statistic=math.nan, p_raw=math.nan)
        return values, f"{len(data.fold_a)} paired folds, fewer than min_folds={config.min_folds}: no p-value"
    return values, ""


def run_family(name: str, comparisons: list[tuple[dict, PairedScores]], tests: tuple[str, ...],
               config: ComparisonConfig, scale: float = 100.0, kind: str = "exploratory") -> pd.DataFrame:
    """Every test on every comparison of one family, p-values adjusted within the family per test.

    Parameters
    ----------
    name
        The family (the ``family`` column).
    comparisons
        ``(columns, scores)``: the row's describing columns (``comparison``, ``model_a``, ...) and its
        paired scores.
    tests
        Registry names of the pairwise tests to run; ``config.primary_test`` (else the first) is
        the family's primary test (``primary``/``role`` columns), the others secondary. A test whose
        ``min_folds`` is above a comparison's paired folds gives no row for it.
    scale
        Factor applied to effects, intervals and the margin (100: accuracy in points).
    kind
        The family's kind (:data:`interp.stats.families.FAMILY_KINDS`): the ``family_kind`` column and
        the adjustment (Holm, or Benjamini-Hochberg for exploratory families) in ``p_adjusted``.
    """
    primary = config.primary_test if config.primary_test in tests else tests[0]
    rows = []
    for columns, data in comparisons:
        for test in tests:
            if len(data.fold_a) < PAIRWISE_TESTS[test].min_folds:
                continue
            values, note = _run_test(test, data, config, scale)
            rows.append({"family": name, "family_kind": kind, **columns, "test": test, "primary": test == primary,
                         "role": "primary" if test == primary else "secondary", "k": len(data.fold_a),
                         "margin": config.margin if test == NONINFERIORITY_TEST else math.nan,
                         "n_train": data.n_train, "n_test": data.n_test, "n_units": len(data.correct_a),
                         "note": "; ".join(part for part in (columns.get("note", ""), note) if part), **values})
    return _adjust_family(pd.DataFrame(rows), name, config, KIND_ADJUSTMENT[kind]) if rows else pd.DataFrame()


def family_rows(family: Family, predictions: pd.DataFrame, sizes: FoldSizes, config: ComparisonConfig,
                arms: Mapping[str, ArmInfo] | None = None) -> pd.DataFrame:
    """Rows of one family: every comparison x test, with p-values adjusted per test, and whether the
    two arms' recorded budgets differ (``arms``, :func:`interp.stats.families.budget_note`)."""
    scores = _fold_accuracy(predictions)
    comparisons = []
    for c in family.comparisons:
        differs, budget = budget_note(arms or {}, c)
        columns = {"comparison": c.label, "model_a": c.model_a, "model_b": c.model_b, "subset": c.subset,
                   "budget_differs": differs, "budget": budget,
                   "note": f"training budgets differ ({budget})" if differs else ""}
        comparisons.append((columns, paired_scores(predictions, scores, sizes, c)))
    tests = family.tests or config.tests or default_tests()
    frame = run_family(family.name, comparisons, tests, config, kind=family.kind)
    return frame.reindex(columns=list(COLUMNS))


def _fold_accuracy(predictions: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """(model, subset) -> accuracy per fold."""
    accuracy = predictions.groupby(["model", "subset", "fold"], sort=False)["correct"].mean()
    return {key: group.droplevel([0, 1]) for key, group in accuracy.groupby(level=[0, 1], sort=False)}


def _adjust_family(frame: pd.DataFrame, name: str, config: ComparisonConfig, adjustment: str) -> pd.DataFrame:
    holm, bh = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
    reachable = np.ones(len(frame), dtype=bool)
    for test, positions in frame.groupby("test", sort=False).indices.items():
        raw = frame["p_raw"].to_numpy(dtype=float)[positions]
        holm[positions], bh[positions] = adjust(raw, "holm"), adjust(raw, "bh")
        present = int((~np.isnan(raw)).sum())
        k = int(frame["k"].to_numpy()[positions].max())
        if present:
            reachable[positions] = check_family(name, test, build_test(test).minimum_pvalue(k), present, k,
                                                config.alpha, adjustment)
    frame["p_holm"], frame["p_bh"], frame["reachable"] = holm, bh, reachable
    frame["p_adjusted"] = holm if adjustment == "holm" else bh
    frame["adjustment"] = adjustment
    return frame


def friedman_rows(predictions: pd.DataFrame, config: ComparisonConfig) -> tuple[pd.DataFrame, list[Family]]:
    """Friedman's test over all models per subset, and the post-hoc families where it ran."""
    scores = predictions.groupby(["model", "subset", "fold"], sort=False)["correct"].mean()
    scores = scores.rename("accuracy").reset_index()
    rows, families = [], []
    for subset in SUBSET_ORDER:
        table = scores[scores["subset"] == subset].pivot(index="fold", columns="model", values="accuracy")
        models = [m for m in dict.fromkeys(scores["model"]) if m in table.columns]
        if len(models) < 3:
            continue
        test = OMNIBUS_TESTS["friedman"]()
        try:
            result, note = test(table[models]), ""
        except DataError as exc:
            result, note = None, str(exc)
        rows.append({"family": "friedman", "family_kind": "exploratory", "comparison": "all models", "model_a": "",
                     "model_b": "", "subset": subset, "test": test.name, "role": "omnibus", "primary": True,
                     "statistic": result.statistic if result else math.nan,
                     "p_raw": result.pvalue if result else math.nan, "k": int(table[models].dropna().shape[0]),
                     "n_units": len(models), "note": note})
        if result is not None or not config.posthoc_gate:
            families.append(posthoc_family(models, subset))
    if not rows:
        return pd.DataFrame(columns=list(COLUMNS)), families
    frame = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    frame["adjustment"] = "holm"  # the gate of the post-hoc rows: Holm over the views
    frame["p_holm"], frame["p_bh"] = adjust(frame["p_raw"], "holm"), adjust(frame["p_raw"], "bh")
    frame["p_adjusted"] = frame["p_holm"]
    frame["reachable"], frame["budget_differs"], frame["budget"] = True, False, ""
    if config.posthoc_gate:
        rejected = set(frame.loc[frame["p_adjusted"] < config.alpha, "subset"])
        skipped = [f.name for f in families if f.name.removeprefix("posthoc-") not in rejected]
        if skipped:
            log.info("Friedman's test does not reject: no post-hoc rows for %s", ", ".join(skipped))
        families = [f for f in families if f.name.removeprefix("posthoc-") in rejected]
        frame["note"] = [note or ("rejects: post-hoc pairs follow" if subset in rejected
                                  else "does not reject: no post-hoc pairs")
                         for note, subset in zip(frame["note"].fillna(""), frame["subset"])]
    return frame, families


def comparison_table(predictions: pd.DataFrame, sizes: FoldSizes, models: list[str],
                     config: ComparisonConfig | None = None, families: list[Family] | None = None,
                     arms: Mapping[str, ArmInfo] | None = None) -> pd.DataFrame:
    """The one tidy table of comparisons (columns :data:`COLUMNS`; effects in accuracy points).

    Parameters
    ----------
    predictions
        Tidy predictions (:meth:`interp.runs.Run.predictions`), with the PE views
        (:func:`interp.tables.evaluation_views`) for the Table-5 and ablation families.
    sizes
        ``subset -> DataFrame(fold, n_train, n_test)`` (:meth:`interp.runs.Run.fold_sizes`).
    models
        Models in display order.
    config
        Options; defaults when None.
    families
        Families to test; :func:`default_families` (plus Friedman and its post-hoc) when None.
    arms
        The study's arms (:func:`interp.stats.families.describe_arms` of ``study.json``): roles,
        ablations, view-matched baselines and budgets; described from the model names when None.
    """
    config = config or ComparisonConfig()
    frames = []
    if families is None:
        families = default_families(models, config.baseline, arms)
        if config.friedman:
            omnibus, posthoc = friedman_rows(predictions, config)
            frames.append(omnibus)
            families = families + [without_declared(family, families) for family in posthoc]
    check_unique(families)
    for family in (family for family in families if family.comparisons):
        frame = family_rows(family, predictions, sizes, config, arms)
        if family.name.startswith("posthoc-") and not frame.empty:
            frame["role"] = (np.where(frame["primary"], "posthoc", "secondary") if config.posthoc_gate
                             else "posthoc-ungated")
        frames.append(frame)
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(COLUMNS)]
