"""Do two attribution methods of different families tell the same story about the attention shift?

The audit's primary maps come from one method (Grad-CAM by default: a layer-gradient map). A second
method of another family - integrated gradients (a path integral of input gradients) or occlusion (a
perturbation method) - explains the same images and classes, and both maps get the same shift index
``U`` (:func:`interp.audit.shift.shift_shares`). Two questions:

- per image: does the second method rank the images' shift indices like the first (Spearman's rank
  correlation of ``U`` over the images of an arm and subset)?
- per study: does the arm ordering hold - ranking the arms by their mean within-pair shift
  ``d = U(M) - U(NM)`` gives the same order under both methods (Kendall's tau between the two
  orderings, and whether the orders are identical)?

A claim that rests on one method's maps and flips under another is a claim about the method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

SUBSETS = ("all", "NM", "M")


def pair_differences(images: pd.DataFrame) -> pd.DataFrame:
    """Per model, fold and complete pair: ``d_a`` and ``d_b`` = U(M) - U(NM) under each method.

    Parameters
    ----------
    images
        One row per (model, fold, image): ``model``, ``fold``, ``pair_id``, ``masked``, ``u_a``, ``u_b``.
    """
    paired = images[images["pair_id"].astype(str) != ""]
    rows = []
    for (model, fold, pair), members in paired.groupby(["model", "fold", "pair_id"], sort=False):
        side = {bool(masked): row for masked, row in zip(members["masked"], members.itertuples(index=False))}
        if set(side) != {False, True}:
            continue
        rows.append({"model": model, "fold": fold, "pair_id": pair,
                     "d_a": side[True].u_a - side[False].u_a, "d_b": side[True].u_b - side[False].u_b})
    return pd.DataFrame(rows, columns=["model", "fold", "pair_id", "d_a", "d_b"])


def _spearman(a: pd.Series, b: pd.Series) -> float:
    both = pd.concat([a, b], axis=1).dropna()
    if len(both) < 3 or both.iloc[:, 0].nunique() < 2 or both.iloc[:, 1].nunique() < 2:
        return np.nan
    return float(stats.spearmanr(both.iloc[:, 0], both.iloc[:, 1]).statistic)


def agreement_summary(images: pd.DataFrame, method_a: str, method_b: str) -> pd.DataFrame:
    """Per model and subset (all, NM, M): the rank agreement of the shift index between two methods,
    and per model the mean pair shift under each with the arm ordering it implies.

    Parameters
    ----------
    images
        One row per (model, fold, image): ``model``, ``fold``, ``pair_id``, ``masked``, ``u_a`` (shift
        index under ``method_a``), ``u_b`` (under ``method_b``).

    Returns
    -------
    pandas.DataFrame
        model, subset, method_a, method_b, n_images (both indices defined), spearman_u; and per model
        (repeated on its subset rows): n_pairs, mean_d_a, mean_d_b, rank_a, rank_b (1 = the largest mean
        shift up the face), and for the whole study kendall_tau (between the two arm orderings) and
        same_order (the orders are identical; NaN/False with fewer than two ranked arms).
    """
    rows = []
    for model, own in images.groupby("model", sort=False):
        for subset in SUBSETS:
            chosen = own if subset == "all" else own[own["masked"].astype(bool) == (subset == "M")]
            defined = chosen[["u_a", "u_b"]].dropna()
            rows.append({"model": model, "subset": subset, "method_a": method_a, "method_b": method_b,
                         "n_images": len(defined), "spearman_u": _spearman(chosen["u_a"], chosen["u_b"])})
    frame = pd.DataFrame(rows)
    pairs = pair_differences(images)
    per_model = pairs.groupby("model", sort=False).agg(n_pairs=("d_a", "size"), mean_d_a=("d_a", "mean"),
                                                      mean_d_b=("d_b", "mean"))
    ranked = per_model.dropna(subset=["mean_d_a", "mean_d_b"])
    per_model["rank_a"] = ranked["mean_d_a"].rank(ascending=False, method="min")
    per_model["rank_b"] = ranked["mean_d_b"].rank(ascending=False, method="min")
    if len(ranked) >= 2:
        tau = float(stats.kendalltau(ranked["mean_d_a"], ranked["mean_d_b"]).statistic)
        same = bool((ranked["mean_d_a"].rank(method="first") == ranked["mean_d_b"].rank(method="first")).all())
    else:
        tau, same = np.nan, False
    frame = frame.merge(per_model.reset_index(), on="model", how="left")
    frame["n_pairs"] = frame["n_pairs"].fillna(0).astype(int)
    frame["kendall_tau"] = tau
    frame["same_order"] = same
    return frame
