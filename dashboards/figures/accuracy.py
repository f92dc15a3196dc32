"""Overview figures: accuracy per arm and view with CIs, the NM-M gap per arm."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import base, empty
from interp import present


def accuracy(table: pd.DataFrame, colours: dict[str, str], metric: str = "accuracy") -> go.Figure:
    """Mean ``metric`` (accuracy or macro_f1) per subset (x) and arm (colour) with its CI over folds,
    from ``Results.accuracy()``."""
    if table.empty:
        return empty("no accuracy rows")
    fig = go.Figure()
    subsets = list(dict.fromkeys(table["subset"]))
    for arm, rows in table.groupby("model", sort=False):
        mean, low, high = (rows[f"{metric}_{part}"] * 100 for part in ("mean", "ci_low", "ci_high"))
        fig.add_trace(go.Scatter(
            x=rows["subset"], y=mean, name=arm, mode="markers", marker={"size": 11, "color": colours.get(arm)},
            error_y={"type": "data", "symmetric": False, "array": high - mean, "arrayminus": mean - low},
            customdata=[[present.interval(lo, hi), n] for lo, hi, n in
                        zip(rows[f"{metric}_ci_low"], rows[f"{metric}_ci_high"], rows["n_folds"])],
            hovertemplate=f"{arm} %{{x}}: %{{y:.{present.PERCENT_DECIMALS}f}}% CI %{{customdata[0]}} "
                          "(%{customdata[1]} folds)<extra></extra>"))
    fig.update_layout(scattermode="group", xaxis={"categoryorder": "array", "categoryarray": subsets})
    fig.update_yaxes(title=f"{metric.replace('_', '-')} % (95% CI over folds)", range=[-5, 105])
    return base(fig, "Accuracy per arm and view" if metric == "accuracy" else "Macro-F1 per arm and view")


def gap(comparisons: pd.DataFrame, colours: dict[str, str], test: str) -> go.Figure:
    """The NM-M accuracy gap of each arm (family ``NM-vs-M`` of ``Results.comparisons()``) for one test,
    a dot per arm with its interval; positive = the mask costs accuracy."""
    rows = comparisons[(comparisons["family"] == "NM-vs-M") & (comparisons["test"] == test)]
    if rows.empty:
        return empty(f"no NM-vs-M comparison with test {test!r}")
    fig = go.Figure()
    for row in rows.itertuples(index=False):
        has_ci = pd.notna(row.ci_low) and pd.notna(row.ci_high)
        fig.add_trace(go.Scatter(
            x=[row.effect], y=[row.model_a], mode="markers", name=row.model_a, showlegend=False,
            marker={"size": 12, "color": colours.get(row.model_a)},
            error_x={"type": "data", "symmetric": False, "array": [row.ci_high - row.effect if has_ci else 0],
                     "arrayminus": [row.effect - row.ci_low if has_ci else 0], "visible": has_ci},
            hovertemplate=(f"{row.model_a}: NM - M = %{{x:.2f}} points, CI [{row.ci_low:.2f}, {row.ci_high:.2f}], "
                           f"p adj. {present.p_value(row.p_adjusted)}<extra></extra>")))
    fig.add_vline(x=0, line={"color": "#888", "dash": "dot"})
    fig.update_xaxes(title=f"NM - M accuracy (points), {test}")
    fig.update_yaxes(autorange="reversed")
    return base(fig, "What the mask costs each arm", height=120 + 40 * len(rows))
