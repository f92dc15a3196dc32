"""The study's headline hypotheses, read from the comparisons table: what ``make demo`` prints, the report's
statistics section opens with and the dashboard's statistics page marks.

Nothing here names a test or a family: the primary test of each family is the row the stats step marked
``primary``, and the headline families are those of kinds ``confirmatory`` and ``mechanism`` plus the
non-inferiority rows (:mod:`interp.stats.families` declares them).
"""

from __future__ import annotations

import pandas as pd

from interp.present import p_value, points

HEADLINE_KINDS: tuple[str, ...] = ("confirmatory", "mechanism")
NONINFERIORITY = "noninferiority"
OMNIBUS_ROLE = "omnibus"


def primary_rows(comparisons: pd.DataFrame, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The primary-test rows of every family (Friedman's omnibus rows left out), of ``kinds`` when given,
    in table order. A table without a ``family_kind`` column (analysed before families had kinds) has no
    rows of any kind."""
    if comparisons.empty or "primary" not in comparisons:
        return comparisons.iloc[0:0]
    keep = comparisons["primary"].fillna(False).astype(bool) & (comparisons["role"] != OMNIBUS_ROLE)
    if kinds is not None:
        keep &= comparisons.get("family_kind", pd.Series("", index=comparisons.index)).isin(kinds)
    return comparisons[keep].reset_index(drop=True)


def primary_test(comparisons: pd.DataFrame) -> str | None:
    """The test most families declare primary (the table's, not a constant); None for an empty table."""
    rows = primary_rows(comparisons)
    rows = rows[rows["test"] != NONINFERIORITY] if len(rows) else rows
    return str(rows["test"].mode().iloc[0]) if len(rows) else None


def headline_rows(comparisons: pd.DataFrame) -> pd.DataFrame:
    """The confirmatory family, the mechanism family and the non-inferiority rows (primary test), in
    that order."""
    rows = primary_rows(comparisons)
    if rows.empty or "family_kind" not in rows:
        return rows
    parts = [rows[(rows["family_kind"] == kind) & (rows["test"] != NONINFERIORITY)] for kind in HEADLINE_KINDS]
    parts.append(rows[rows["test"] == NONINFERIORITY])
    return pd.concat(parts, ignore_index=True)


def verdict(row: pd.Series, alpha: float = 0.05) -> str:
    """The row's answer in words at ``alpha`` on its adjusted p-value."""
    p = row.get("p_adjusted")
    if pd.isna(p):
        return "no p-value"
    if row["test"] == NONINFERIORITY:
        return (f"non-inferior (margin {row['margin']:g})" if p < alpha
                else f"non-inferiority not shown (margin {row['margin']:g})")
    return "significant" if p < alpha else "not significant"


def headline_cells(comparisons: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`headline_rows` as text cells: family, kind, comparison, view, test, effect (points, a - b), interval,
    p, adjusted p, verdict and, where the arms' budgets differ, a flag."""
    rows = headline_rows(comparisons)
    columns = ["family", "kind", "comparison", "view", "test", "effect", "interval", "p", "p adjusted", "verdict",
               "budget"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    differs = rows.get("budget_differs", pd.Series(False, index=rows.index)).fillna(False).astype(bool)
    budget = rows.get("budget", pd.Series("", index=rows.index)).fillna("").astype(str)
    return pd.DataFrame({
        "family": rows["family"], "kind": rows["family_kind"], "comparison": rows["comparison"],
        "view": rows["subset"], "test": rows["test"], "effect": rows["effect"].map(points),
        "interval": [f"> {points(low)} (one-sided)" if pd.isna(high) else f"[{points(low)}, {points(high)}]"
                     for low, high in zip(rows["ci_low"], rows["ci_high"])],
        "p": rows["p_raw"].map(p_value),
        "p adjusted": [f"{p_value(p)} ({method})" for p, method in zip(rows["p_adjusted"], rows["adjustment"])],
        "verdict": [verdict(row, alpha) for _, row in rows.iterrows()],
        "budget": [f"DIFFERS: {text}" if flag else text for flag, text in zip(differs, budget)],
    })
