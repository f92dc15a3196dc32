"""Statistics figures: a forest plot of comparison effects with their intervals."""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import base, empty
from interp import present

SIGNIFICANT, NOT_SIGNIFICANT, NO_P = "#C44E52", "#4C72B0", "#999999"


def _wrap(text: str) -> str:
    return "<br>".join(textwrap.wrap(str(text), 70))


def forest(comparisons: pd.DataFrame, tests: pd.DataFrame, alpha: float) -> go.Figure:
    """One row per comparison of ``comparisons`` (already filtered): effect with its interval, red when the
    adjusted p is below ``alpha``; the hover names the test's assumptions (``Results.tests()``)."""
    rows = comparisons[comparisons["effect"].notna()]
    if rows.empty:
        return empty("no comparison with an effect for this selection")
    assumptions = dict(zip(tests["test"], tests["assumptions"])) if not tests.empty else {}
    labels = [f"{r.family} · {r.comparison} · {r.test}" for r in rows.itertuples(index=False)]
    colours = [NO_P if pd.isna(p) else SIGNIFICANT if p < alpha else NOT_SIGNIFICANT for p in rows["p_adjusted"]]
    has_ci = rows["ci_low"].notna() & rows["ci_high"].notna()
    fig = go.Figure(go.Scatter(
        x=rows["effect"], y=labels, mode="markers", marker={"size": 10, "color": colours},
        error_x={"type": "data", "symmetric": False, "array": (rows["ci_high"] - rows["effect"]).where(has_ci, 0),
                 "arrayminus": (rows["effect"] - rows["ci_low"]).where(has_ci, 0)},
        customdata=[[present.p_value(p), present.p_value(q), _wrap(assumptions.get(t, "")), reach]
                    for p, q, t, reach in zip(rows["p_raw"], rows["p_adjusted"], rows["test"], rows["reachable"])],
        hovertemplate=("%{y}<br>effect %{x:.2f}; p raw %{customdata[0]}, adjusted %{customdata[1]}; "
                       "significance reachable: %{customdata[3]}<br>assumptions: %{customdata[2]}<extra></extra>")))
    fig.add_vline(x=0, line={"color": "#888", "dash": "dot"})
    fig.update_xaxes(title="effect (accuracy points; positive favours the first arm)")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return base(fig, f"Effects with intervals (red: adjusted p < {alpha:g})", height=120 + 28 * len(rows))
