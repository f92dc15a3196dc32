"""From per-image shift indices to per-pair differences: d = U(masked) - U(non-masked), and its nulls.

Both images of a pair are explained by the same model (the fold model that held the pair out) for the
same class (the audit's ``target``, the true class by default), so d says how far masking moves that
model's evidence up the face. The same difference is taken on the randomised networks' maps (one per
draw: the null) and on the model-free content map (:mod:`interp.audit.nulls`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PAIR_KEYS = ["model", "fold", "pair_id"]
SIDES = {False: "nm", True: "m"}


def _sides(table: pd.DataFrame, columns: list[str], keys: list[str]) -> pd.DataFrame:
    """One row per complete pair with ``<column>_nm`` and ``<column>_m`` of every column."""
    paired = table[table["pair_id"].astype(str) != ""].assign(side=lambda t: t["masked"].astype(bool).map(SIDES))
    complete = paired.groupby(keys, sort=False)["side"].transform("nunique") == 2
    wide = paired[complete].drop_duplicates(keys + ["side"]).set_index(keys + ["side"])[columns].unstack("side")
    wide.columns = [f"{column}_{side}" for column, side in wide.columns]
    needed = [f"{column}_{side}" for column in columns for side in SIDES.values()]
    return wide.reindex(columns=needed).reset_index()


def shift_pairs(images: pd.DataFrame) -> pd.DataFrame:
    """Per model, fold and complete pair: the shift indices, shares and d of the trained maps.

    Parameters
    ----------
    images
        The audit's per-image table with ``shift_index``, ``share_upper``, ``share_lower``, ``correct``,
        ``content_index``, ``masked``, ``pair_id``, ``subject``, ``label``, ``target``.

    Returns
    -------
    pandas.DataFrame
        model, fold, pair_id, subject, label, target, correct_nm, correct_m, correct_both, u_nm, u_m, d,
        share_upper_nm/_m, share_lower_nm/_m, content_d. A pair with a NaN index keeps its row (d NaN).
    """
    columns = ["shift_index", "share_upper", "share_lower", "content_index", "correct"]
    present = [column for column in columns if column in images.columns]
    table = images.assign(shift_index=images["shift_index"].astype(float))
    if "correct" in present:
        table["correct"] = table["correct"].astype(float)
    pairs = _sides(table, present, PAIR_KEYS)
    facts = images.drop_duplicates(PAIR_KEYS)[PAIR_KEYS + ["subject", "label", "target"]]
    pairs = pairs.merge(facts, on=PAIR_KEYS, how="left")
    pairs = pairs.rename(columns={"shift_index_nm": "u_nm", "shift_index_m": "u_m"})
    pairs["d"] = pairs["u_m"] - pairs["u_nm"]
    if "content_index" in present:
        pairs["content_d"] = pairs["content_index_m"] - pairs["content_index_nm"]
        pairs = pairs.drop(columns=["content_index_nm", "content_index_m"])
    if "correct" in present:
        pairs["correct_nm"], pairs["correct_m"] = pairs["correct_nm"] == 1, pairs["correct_m"] == 1
        pairs["correct_both"] = pairs["correct_nm"] & pairs["correct_m"]
    front = PAIR_KEYS + ["subject", "label", "target"]
    return pairs[front + [c for c in pairs.columns if c not in front]]


def null_pairs(nulls: pd.DataFrame, images: pd.DataFrame) -> pd.DataFrame:
    """Per model, fold, pair and draw: d of the randomised networks' maps (``d``).

    ``nulls`` has one row per (model, fold, image_id, draw) with ``shift_index``; ``images`` gives each
    image's pair, side and subject.
    """
    facts = images[["model", "fold", "image_id", "pair_id", "masked"]]
    table = nulls.merge(facts, on=["model", "fold", "image_id"], how="inner")
    pairs = _sides(table.assign(shift_index=table["shift_index"].astype(float)), ["shift_index"],
                   PAIR_KEYS + ["draw"])
    pairs["d"] = pairs["shift_index_m"] - pairs["shift_index_nm"]
    return pairs[PAIR_KEYS + ["draw", "d"]]


def with_null(pairs: pd.DataFrame, draws: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """``pairs`` with the randomised networks' d: ``null_d`` (mean over draws of the same pair; NaN for a pair
    the null did not explain), ``null_d_low``/``_high`` (its percentiles over draws), ``null_fold_d`` (the mean
    over every null pair and draw of the model's fold) and ``learned_d`` = d - ``null_fold_d``."""
    if draws.empty:
        return pairs.assign(null_d=np.nan, null_d_low=np.nan, null_d_high=np.nan, null_fold_d=np.nan,
                            learned_d=np.nan)
    tail = (1 - confidence) / 2
    grouped = draws.groupby(PAIR_KEYS, sort=False)["d"]
    summary = pd.DataFrame({"null_d": grouped.mean(), "null_d_low": grouped.quantile(tail),
                            "null_d_high": grouped.quantile(1 - tail)}).reset_index()
    fold = draws.groupby(["model", "fold"], sort=False)["d"].mean().rename("null_fold_d").reset_index()
    out = pairs.merge(summary, on=PAIR_KEYS, how="left").merge(fold, on=["model", "fold"], how="left")
    out["learned_d"] = out["d"] - out["null_fold_d"]
    return out
