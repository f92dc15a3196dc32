"""Classes figures: confusion matrix, per-class recall with CIs, the classes a mask hurts most."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import base, empty
from interp import present
from trainers.data.labels import CLASSES


def _order(labels) -> list[str]:
    present_labels = set(labels)
    return [c for c in CLASSES if c in present_labels] + sorted(present_labels - set(CLASSES))


def confusion(cells: pd.DataFrame, normalise: bool, title: str) -> go.Figure:
    """A heat map of long-form confusion cells (``true``, ``pred``, ``count``) of one arm and subset, summed
    over the rows given (one fold, or the pooled table); ``normalise`` shows each true class's row share."""
    if cells.empty:
        return empty("no predictions for this selection")
    matrix = cells.pivot_table(index="true", columns="pred", values="count", aggfunc="sum", fill_value=0)
    order = _order(list(matrix.index) + list(matrix.columns))
    matrix = matrix.reindex(index=order, columns=order, fill_value=0)
    counts = matrix.to_numpy()
    shown = counts / counts.sum(axis=1, keepdims=True).clip(min=1) if normalise else counts
    text = [[present.percent(v, 0) + "%" if normalise else str(int(v)) for v in row] for row in shown]
    fig = go.Figure(go.Heatmap(
        z=shown, x=order, y=order, text=text, texttemplate="%{text}", colorscale="Blues",
        zmin=0, zmax=1 if normalise else None, customdata=counts,
        hovertemplate="true %{y}, predicted %{x}: %{customdata} images<extra></extra>",
        colorbar={"title": "row share" if normalise else "images"}))
    fig.update_xaxes(title="predicted", side="bottom")
    fig.update_yaxes(title="true", autorange="reversed")
    return base(fig, title, height=460)


def recall(table: pd.DataFrame, colours: dict[str, str], subset: str) -> go.Figure:
    """Recall per class (x) and arm (colour) with its CI over folds, from ``Results.per_class_recall()``."""
    rows = table[table["subset"] == subset]
    if rows.empty:
        return empty(f"no per-class recall for subset {subset}")
    fig = go.Figure()
    for arm, part in rows.groupby("model", sort=False):
        mean = part["recall_mean"] * 100
        fig.add_trace(go.Scatter(
            x=part["true"], y=mean, name=arm, mode="markers", marker={"size": 10, "color": colours.get(arm)},
            error_y={"type": "data", "symmetric": False, "array": part["recall_ci_high"] * 100 - mean,
                     "arrayminus": mean - part["recall_ci_low"] * 100},
            customdata=[present.interval(lo, hi) for lo, hi in zip(part["recall_ci_low"], part["recall_ci_high"])],
            hovertemplate=f"{arm} %{{x}}: recall %{{y:.1f}}% CI %{{customdata}}<extra></extra>"))
    fig.update_layout(scattermode="group",
                      xaxis={"categoryorder": "array", "categoryarray": _order(rows["true"])})
    fig.update_yaxes(title=f"recall % on {subset} (95% CI over folds)", range=[-5, 105])
    return base(fig, f"Per-class recall, {subset} images")


def mask_cost(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm and class: recall on NM and on M and their difference (points), largest drop first -
    the classes a mask hurts most (display of ``Results.per_class_recall()``, text cells)."""
    wide = table.pivot_table(index=["model", "true"], columns="subset", values="recall_mean").reset_index()
    if not {"NM", "M"} <= set(wide.columns):
        return pd.DataFrame(columns=["arm", "class", "NM recall %", "M recall %", "drop (points)"])
    wide["drop"] = (wide["NM"] - wide["M"]) * 100
    wide = wide.sort_values("drop", ascending=False)
    return pd.DataFrame({"arm": wide["model"], "class": wide["true"], "NM recall %": wide["NM"].map(present.percent),
                         "M recall %": wide["M"].map(present.percent),
                         "drop (points)": wide["drop"].round(2)})
