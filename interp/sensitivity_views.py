"""Mask sensitivity as text cells, the same in the dashboard and the report (light: pandas only, so the
dashboard does not pay for the statistics imports of :mod:`interp.audit.sensitivity`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

NO_LABELS = "no labels"


def sensitivity_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary table as text cells, the same in the dashboard and the report: ``model``, ``class``,
    ``pairs``, ``flip rate [95% CI]``, ``drop``, ``KL`` and ``accuracy``/``ECE``/``Brier``/``mask fraction``
    as ``NM / M`` (``no labels`` where the pairs have none)."""
    def pair(row: pd.Series, name: str) -> str:
        nm, m = row.get(f"{name}_nm", np.nan), row.get(f"{name}_m", np.nan)
        if pd.isna(nm) and pd.isna(m):
            return NO_LABELS if name in ("accuracy", "ece", "brier") else "-"
        return " / ".join("n/a" if pd.isna(value) else f"{value:.3f}" for value in (nm, m))

    rows = []
    for _, row in summary.iterrows():
        rows.append({
            "model": row["model"], "class": row["class"], "pairs": int(row["n_pairs"]),
            "flip rate [95% CI]": f"{100 * row['flip_rate']:.1f}% [{100 * row['flip_ci_low']:.1f}, "
                                  f"{100 * row['flip_ci_high']:.1f}]",
            "drop": f"{row['drop_mean']:.3f}", "KL": f"{row['kl_mean']:.3f}",
            "accuracy NM / M": pair(row, "accuracy"), "ECE NM / M": pair(row, "ece"),
            "Brier NM / M": pair(row, "brier"),
            "mask fraction NM / M": pair(row.rename(lambda c: c.removesuffix("_mean")), "mask_fraction"),
        })
    return pd.DataFrame(rows)
