"""The attention-shift tests: per arm, the learned part, the difference in differences, sensitivity rows.

Every row tests one per-pair quantity with pairs nested in subjects nested in folds
(:mod:`interp.stats.subject_tests`): the corrected resampled t over fold means (the primary test,
adjusted across the rows of its family), the subject-level sign-flip permutation test and the
subject cluster bootstrap interval. Quantities (``quantity`` column):

- ``shift``: d = U(M) - U(NM) of one arm (does masking move its evidence up the face?);
- ``learned``: d minus the mean d of the arm's randomised networks on its fold (what training added);
- ``did``: d(arm) - d(reference) on the same pairs, the reference ``baseline-pe`` where the study has it
  (the paper's comparative claim: CL and KD shift more than the pair-trained baseline);
- ``shift-correct-both``: d on the pairs the arm gets right on both images (sensitivity);
- ``shift`` per class (``class`` column): descriptive rows with their n.

Families hold maps of one kind (``map_kind``: the model class and Grad-CAM layer, so ResNet-18 layer
maps are tested together and RAN's and SCAN's maps in their own families). ``family_kind`` uses the
study's vocabulary (:data:`FAMILY_KINDS`): the difference in differences is the confirmatory claim.
Every row carries the null band: the same effect computed on each randomised draw (2.5 and 97.5%).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from interp.audit.shift_pairs import PAIR_KEYS
from interp.stats.fold_tests import corrected_resampled_ttest
from interp.stats.multiple import adjust
from interp.stats.subject_tests import nested_means, sign_flip_test, subject_bootstrap_ci

ALL = "all"
FAMILY_KINDS: dict[str, str] = {"did": "confirmatory", "shift": "table", "learned": "mechanism",
                                "shift-correct-both": "exploratory", "shift-by-class": "exploratory"}
"""Quantity -> family kind (the vocabulary of the study's comparison families, issue 21)."""
KIND_ADJUSTMENT: dict[str, str] = {"confirmatory": "holm", "table": "holm", "mechanism": "holm",
                                   "exploratory": "bh"}


@dataclass(frozen=True)
class ShiftTestConfig:
    """How the shift rows are tested.

    Attributes
    ----------
    compare
        Arms of the difference in differences (default the arms registered as ours).
    reference
        Their reference arm (``baseline-pe`` where present, else the audit's baseline).
    n_train, n_test
        Mean training and validation images per fold (the corrected t's overlap term).
    min_folds
        Fewest folds that get a p-value from the corrected t (3: with 2 folds it has 1 degree of freedom).
    """

    compare: Sequence[str]
    reference: str | None
    n_train: float
    n_test: float
    min_folds: int = 3
    confidence: float = 0.95
    n_boot: int = 2000
    n_perm: int = 10000
    seed: int = 0


@dataclass(frozen=True)
class RowSpec:
    quantity: str
    family: str
    model: str
    reference: str = ""
    klass: str = ALL


def _select(pairs: pd.DataFrame, spec: RowSpec, column: str, by: Sequence[str] = ()) -> pd.DataFrame:
    """``fold``, ``subject`` (and ``by``) and ``value`` of the pairs behind one row."""
    own = pairs[pairs["model"] == spec.model]
    if spec.klass != ALL:
        own = own[own["label"] == spec.klass]
    if spec.quantity == "shift-correct-both":
        own = own[own["correct_both"].astype(bool)]
    if spec.quantity == "did":
        keys = ["fold", "pair_id", *by]
        reference = pairs.loc[pairs["model"] == spec.reference, keys + [column]]
        if "draw" in by and len(reference):  # arms may share a fold's draws: pair each with another network
            reference = reference.assign(draw=(reference["draw"] + 1) % (int(reference["draw"].max()) + 1))
        own = own.merge(reference, on=keys, suffixes=("", "_reference"))
        return own.assign(value=own[column] - own[f"{column}_reference"])
    return own.assign(value=own[column])


def _test(values: pd.DataFrame, config: ShiftTestConfig) -> dict:
    means = nested_means(values, "value")
    k = len(means.folds)
    row = dict.fromkeys(("ci_low", "ci_high", "statistic", "df", "p_raw"), math.nan)
    row.update(effect=means.effect, k=k, n_pairs=int(values["value"].notna().sum()),
               n_missing=int(values["value"].isna().sum()), n_subjects=int(means.subjects["subject"].nunique()),
               note="")
    if k >= 2:
        fold_values = means.folds["value"].to_numpy()
        result = corrected_resampled_ttest(fold_values, np.zeros(k), config.n_train, config.n_test, config.confidence)
        row.update(ci_low=result.ci_low, ci_high=result.ci_high, statistic=result.statistic, df=result.df,
                   p_raw=result.pvalue if k >= config.min_folds else math.nan)
    if k < config.min_folds:
        row["note"] = f"{k} fold(s), fewer than min_folds={config.min_folds}: no corrected-t p-value"
    per_subject = means.subjects.groupby("subject")["value"].mean().to_numpy()
    row["p_perm"], row["perm_exact"] = sign_flip_test(per_subject, n_perm=config.n_perm, seed=config.seed)
    row["boot_low"], row["boot_high"] = subject_bootstrap_ci(means.subjects, n_boot=config.n_boot,
                                                             seed=config.seed, confidence=config.confidence)
    return row


def _null_band(draws: pd.DataFrame, spec: RowSpec, confidence: float) -> dict:
    """Mean and percentile band over draws of the row's effect computed on the randomised maps."""
    if draws.empty:
        return {"null_mean": math.nan, "null_low": math.nan, "null_high": math.nan, "n_draws": 0}
    values = _select(draws, spec, "d", by=("draw",)).dropna(subset=["value"])
    subjects = values.groupby(["draw", "fold", "subject"])["value"].mean()
    effects = subjects.groupby(level=["draw", "fold"]).mean().groupby(level="draw").mean()
    if spec.quantity == "learned":
        effects = effects - effects.mean()
    if effects.empty:
        return {"null_mean": math.nan, "null_low": math.nan, "null_high": math.nan, "n_draws": 0}
    tail = (1 - confidence) / 2
    low, high = np.quantile(effects.to_numpy(), [tail, 1 - tail])
    return {"null_mean": float(effects.mean()), "null_low": float(low), "null_high": float(high),
            "n_draws": len(effects)}


def _specs(pairs: pd.DataFrame, map_kinds: dict[str, str], config: ShiftTestConfig) -> list[RowSpec]:
    models = list(dict.fromkeys(pairs["model"]))
    specs = [RowSpec(quantity, f"attention-{quantity}-{map_kinds.get(model, '')}", model)
             for quantity in ("shift", "learned", "shift-correct-both") for model in models]
    reference = config.reference
    if reference in models:
        kind = map_kinds.get(reference, "")
        specs += [RowSpec("did", f"attention-did-vs-{reference}-{kind}", model, reference)
                  for model in config.compare if model in models and model != reference
                  and map_kinds.get(model, "") == kind]
    classes = sorted(set(pairs["label"].dropna()) - {""})
    specs += [RowSpec("shift-by-class", f"attention-shift-by-class-{map_kinds.get(model, '')}", model, klass=name)
              for model in models for name in classes]
    return specs


def shift_tests(pairs: pd.DataFrame, draws: pd.DataFrame, map_kinds: dict[str, str],
                config: ShiftTestConfig) -> pd.DataFrame:
    """The ``attention_shift`` table (see the module docstring).

    Parameters
    ----------
    pairs
        :func:`interp.audit.shift_pairs.shift_pairs` with the null columns of ``with_null``.
    draws
        :func:`interp.audit.shift_pairs.null_pairs` (empty without a null).
    map_kinds
        Model -> the kind of map it gives (e.g. ``ResNet18Classifier:backbone.layer2``).
    """
    facts = pairs[PAIR_KEYS + ["subject", "label", "correct_both"]] if "correct_both" in pairs else pairs[
        PAIR_KEYS + ["subject", "label"]].assign(correct_both=False)
    draws = draws.merge(facts, on=PAIR_KEYS, how="inner") if not draws.empty else draws
    rows = []
    for spec in _specs(pairs, map_kinds, config):
        column = "learned_d" if spec.quantity == "learned" else "d"
        values = _select(pairs, spec, column)
        content = _select(pairs, spec, "content_d") if "content_d" in pairs else None
        rows.append({"family": spec.family, "family_kind": FAMILY_KINDS[spec.quantity], "quantity": spec.quantity,
                     "model": spec.model, "reference": spec.reference, "map_kind": map_kinds.get(spec.model, ""),
                     "class": spec.klass, **_test(values, config),
                     **_null_band(draws, spec, config.confidence),
                     "content_d": nested_means(content, "value").effect if content is not None else math.nan})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["quantity"] = frame["quantity"].replace({"shift-by-class": "shift"})
    frame["adjustment"] = frame["family_kind"].map(KIND_ADJUSTMENT)
    frame["p_adjusted"] = np.nan
    for index in frame.groupby("family", sort=False).groups.values():
        method = frame.loc[index, "adjustment"].iloc[0]
        frame.loc[index, "p_adjusted"] = adjust(frame.loc[index, "p_raw"].to_numpy(dtype=float), method)
    return frame
