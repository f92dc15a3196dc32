"""Calibration figures: reliability diagram per arm (NM and M), predicted against true class shares, and
the ECE/Brier table, from ``Results.reliability()``, ``predicted_classes()`` and ``calibration()``."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import base, empty
from interp import present
from trainers.data.labels import CLASSES

DASH = {"NM": "solid", "M": "dash"}


def reliability(bins: pd.DataFrame, colours: dict[str, str]) -> go.Figure:
    """Accuracy against mean confidence per filled bin, one line per arm and view (NM solid, M dashed)."""
    filled = bins[bins["count"] > 0]
    if filled.empty:
        return empty("no reliability bins")
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": "#AAAAAA", "width": 1},
                               name="calibrated", hoverinfo="skip"))
    for (arm, subset), part in filled.groupby(["model", "subset"], sort=False):
        fig.add_trace(go.Scatter(
            x=part["confidence"], y=part["accuracy"], name=f"{arm} {subset}", mode="lines+markers",
            line={"color": colours.get(arm), "dash": DASH.get(subset, "dot")}, customdata=part["count"],
            hovertemplate=f"{arm} {subset}: confidence %{{x:.2f}}, accuracy %{{y:.2f}}, "
                          "%{customdata} images<extra></extra>"))
    fig.update_xaxes(title="mean confidence of the bin", range=[0, 1])
    fig.update_yaxes(title="accuracy of the bin", range=[0, 1.02])
    return base(fig, "Reliability (15 bins, pooled over folds): below the diagonal = over-confident", height=460)


def predicted(classes: pd.DataFrame, colours: dict[str, str], subset: str = "M") -> go.Figure:
    """Share of ``subset`` images predicted as each class per arm (bars) against the true share (line)."""
    rows = classes[classes["subset"] == subset]
    if rows.empty:
        return empty(f"no predictions on {subset} images")
    order = [name for name in CLASSES if name in set(rows["class"])]
    fig = go.Figure()
    for arm, part in rows.groupby("model", sort=False):
        part = part.set_index("class").reindex(order)
        fig.add_trace(go.Bar(x=order, y=part["predicted_share"] * 100, name=arm, marker_color=colours.get(arm),
                             customdata=part["excess"] * 100,
                             hovertemplate=f"{arm}: %{{y:.1f}}% predicted as %{{x}} "
                                           "(%{customdata:+.1f} points vs true)<extra></extra>"))
    truth = rows.groupby("class")["true_share"].first().reindex(order) * 100
    fig.add_trace(go.Scatter(x=order, y=truth, name="true share", mode="markers",
                             marker={"symbol": "line-ew-open", "size": 30, "color": "black"}))
    fig.update_yaxes(title=f"share of {subset} images (%)")
    return base(fig, f"Predicted against true class shares, {subset} images (pooled over folds)")


def scores(summary: pd.DataFrame) -> pd.DataFrame:
    """ECE and Brier per arm and view as text cells (``Results.calibration()``)."""
    return pd.DataFrame({
        "arm": summary["model"], "images": summary["subset"],
        "ECE %": [f"{present.percent(m)} {present.interval(lo, hi)}"
                  for m, lo, hi in zip(summary["ece_mean"], summary["ece_ci_low"], summary["ece_ci_high"])],
        "Brier": summary["brier_mean"].round(3), "confidence %": summary["confidence_mean"].map(present.percent),
        "accuracy %": summary["accuracy_mean"].map(present.percent),
    })
