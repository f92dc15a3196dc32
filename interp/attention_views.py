"""The attention shift as the dashboard and the report both draw it: the rows behind each figure.

Pure functions from :mod:`interp.results` tables to the small frames a plot needs, shared by the
dashboard's attention page and the report's attention section so both show the same numbers:

- :func:`forest_rows`: per arm, the mean within-pair shift ``d`` with its corrected-t interval over
  folds, its subject cluster-bootstrap interval, and the randomised-network null band;
- :func:`subject_shares`: per arm and subject, the mean upper-face and lower-face shares on the
  non-masked (NM) and masked (M) image of its pairs;
- :func:`difference_grid`: one arm's mean M - NM map on the common face frame as a 2-D array.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SHIFT = "shift"
"""``quantity`` of the ``attention_shift`` rows that test d itself."""
REGION_SHARES = {"upper face": "share_upper", "lower face": "share_lower"}
"""Panel title -> column stem of the pairs table (``<stem>_nm``, ``<stem>_m``)."""


def forest_rows(shift: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """One row per arm (in ``arms`` order) of the all-class test of ``d``.

    Parameters
    ----------
    shift
        ``Results.attention_shift()``: ``quantity``, ``class``, ``model``, ``effect``, ``ci_low``,
        ``ci_high``, ``boot_low``, ``boot_high``, ``null_low``, ``null_high``, ``null_mean`` (and ``family``).
    arms
        Arms to show, in order; arms without a row are left out.

    Returns
    -------
    pandas.DataFrame
        model, family, effect, ci_low, ci_high, boot_low, boot_high, null_mean, null_low, null_high,
        p_raw, n_subjects, k (whichever of them the table has).
    """
    rows = shift[(shift["quantity"] == SHIFT) & (shift["class"].astype(str) == "all")]
    rows = rows.drop_duplicates("model").set_index("model")
    columns = [c for c in ("family", "effect", "ci_low", "ci_high", "boot_low", "boot_high", "null_mean",
                           "null_low", "null_high", "p_raw", "p_holm", "n_subjects", "k") if c in rows.columns]
    shown = [arm for arm in arms if arm in rows.index] + [arm for arm in rows.index if arm not in arms]
    return rows.loc[shown, columns].reset_index()


def subject_shares(pairs: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """Per arm, subject and region (upper face, lower face): the mean share on NM and on M over its pairs.

    Parameters
    ----------
    pairs
        ``Results.attention_shift(pairs=True)``: ``model``, ``subject``, ``share_upper_nm``, ``share_upper_m``,
        ``share_lower_nm``, ``share_lower_m``.

    Returns
    -------
    pandas.DataFrame
        model, subject, region, nm, m, n_pairs (pairs with both shares defined); arms in ``arms`` order.
    """
    frames = []
    for region, stem in REGION_SHARES.items():
        both = pairs.dropna(subset=[f"{stem}_nm", f"{stem}_m"])
        means = both.groupby(["model", "subject"], sort=False).agg(
            nm=(f"{stem}_nm", "mean"), m=(f"{stem}_m", "mean"), n_pairs=(f"{stem}_nm", "size")).reset_index()
        frames.append(means.assign(region=region))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame(columns=["model", "subject", "region", "nm", "m", "n_pairs"])
    order = {arm: index for index, arm in enumerate(arms)}
    frame = frame.sort_values("model", key=lambda s: s.map(order).fillna(len(order)), kind="stable")
    return frame[["model", "subject", "region", "nm", "m", "n_pairs"]].reset_index(drop=True)


def difference_grid(cells: pd.DataFrame, model: str, value: str = "difference") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One arm's ``value`` (``difference``, ``nm`` or ``m``) of ``Results.attention_difference_map()`` as a
    ``(rows, cols)`` array with the frame's ``u`` (columns) and ``v`` (rows) coordinates."""
    own = cells[cells["model"] == model]
    grid = own.pivot(index="row", columns="col", values=value).sort_index().sort_index(axis=1)
    u = own.drop_duplicates("col").sort_values("col")["u"].to_numpy()
    v = own.drop_duplicates("row").sort_values("row")["v"].to_numpy()
    return grid.to_numpy(dtype=float), u, v


FAITHFULNESS_LABELS = {
    "auc_deletion": "deletion AUC (lower = more faithful)", "auc_insertion": "insertion AUC (higher = more faithful)",
    "p_target": "probability of the explained class", "drop_upper": "drop, upper face removed",
    "drop_upper_control": "drop, equal-area control (upper)", "excess_upper": "upper-face drop - control",
    "drop_lower": "drop, lower face removed", "drop_lower_control": "drop, equal-area control (lower)",
    "excess_lower": "lower-face drop - control",
}
"""Readable names of the faithfulness measures (``Results.faithfulness()``'s ``measure``)."""


def faithfulness_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """``Results.faithfulness()`` as text cells: arm, subset, measure, mean, 95% subject-bootstrap CI, images."""
    return pd.DataFrame({
        "arm": summary["model"], "subset": summary["subset"],
        "measure": summary["measure"].map(FAITHFULNESS_LABELS).fillna(summary["measure"]),
        "mean": [f"{value:.3f}" if pd.notna(value) else "n/a" for value in summary["mean"]],
        "95% CI": [f"[{low:.3f}, {high:.3f}]" if pd.notna(low) else "n/a"
                   for low, high in zip(summary["ci_low"], summary["ci_high"])],
        "images": summary["n_images"], "subjects": summary["n_subjects"],
    })


def agreement_cells(agreement: pd.DataFrame) -> pd.DataFrame:
    """``Results.attention_agreement()`` as text cells, one row per arm and subset."""
    def number(value: float, digits: int = 3) -> str:
        return f"{value:.{digits}f}" if pd.notna(value) else "n/a"

    return pd.DataFrame({
        "arm": agreement["model"], "subset": agreement["subset"],
        "methods": agreement["method_a"] + " vs " + agreement["method_b"],
        "images": agreement["n_images"], "Spearman of U": agreement["spearman_u"].map(number),
        "pairs": agreement["n_pairs"], "mean d (a)": agreement["mean_d_a"].map(number),
        "mean d (b)": agreement["mean_d_b"].map(number),
        "rank (a / b)": [f"{int(a)} / {int(b)}" if pd.notna(a) and pd.notna(b) else "n/a"
                         for a, b in zip(agreement["rank_a"], agreement["rank_b"])],
        "arm order holds": ["yes" if same else "no" for same in agreement["same_order"]],
    })
