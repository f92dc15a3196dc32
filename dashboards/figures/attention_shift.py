"""Attention-shift figures: the forest of d per arm, subject shares NM -> M, the common-frame difference
maps, the faithfulness curves. Rows come from :mod:`interp.attention_views` (shared with the report)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards.figures import base, empty
from interp.attention_views import REGION_SHARES, difference_grid

NULL_COLOUR = "rgba(150, 150, 150, 0.35)"
MAPS_PER_ROW = 5


def shift_forest(rows: pd.DataFrame, colours: dict[str, str]) -> go.Figure:
    """Per arm (one row each) the mean within-pair shift d: dot, thick line = corrected-t CI over folds,
    thin line below it = subject cluster-bootstrap CI, grey bar = the randomised-network null band."""
    if rows.empty:
        return empty("no attention-shift test in this audit")
    fig = go.Figure()
    arms = list(rows["model"])
    for position, row in enumerate(rows.itertuples(index=False)):
        colour = colours.get(row.model, "#333333")
        if {"null_low", "null_high"} <= set(rows.columns) and pd.notna(row.null_low) and pd.notna(row.null_high):
            fig.add_shape(type="rect", x0=row.null_low, x1=row.null_high, y0=position - 0.35, y1=position + 0.35,
                          fillcolor=NULL_COLOUR, line={"width": 0}, layer="below")
        if pd.notna(row.ci_low) and pd.notna(row.ci_high):
            fig.add_trace(go.Scatter(x=[row.ci_low, row.ci_high], y=[position, position], mode="lines",
                                     line={"color": colour, "width": 5}, showlegend=False,
                                     hovertemplate=f"{row.model}: t-interval over folds %{{x:.3f}}<extra></extra>"))
        if {"boot_low", "boot_high"} <= set(rows.columns) and pd.notna(row.boot_low) and pd.notna(row.boot_high):
            fig.add_trace(go.Scatter(x=[row.boot_low, row.boot_high], y=[position - 0.2, position - 0.2],
                                     mode="lines", line={"color": colour, "width": 1.5, "dash": "dot"},
                                     showlegend=False,
                                     hovertemplate=f"{row.model}: subject bootstrap %{{x:.3f}}<extra></extra>"))
        fig.add_trace(go.Scatter(x=[row.effect], y=[position], mode="markers", name=row.model,
                                 marker={"color": colour, "size": 11}, showlegend=False,
                                 hovertemplate=f"{row.model}: d = %{{x:.3f}}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#555555", "dash": "dash", "width": 1})
    fig.update_yaxes(tickvals=list(range(len(arms))), ticktext=arms, autorange="reversed")
    fig.update_xaxes(title="d = U(M) - U(NM): shift of evidence up the face (log ratio)")
    return base(fig, "Attention shift per arm: d with t-interval (thick), bootstrap (dotted), null band (grey)",
                height=120 + 45 * len(arms))


def subject_slopes(shares: pd.DataFrame, colours: dict[str, str]) -> go.Figure:
    """Upper-face and lower-face share of each subject (lines) on NM then M, arm by arm."""
    if shares.empty:
        return empty("no pair with both shares in this audit")
    arms = list(dict.fromkeys(shares["model"]))
    fig = make_subplots(rows=1, cols=len(REGION_SHARES), subplot_titles=[f"{name} share" for name in REGION_SHARES],
                        shared_yaxes=True)
    for column, region in enumerate(REGION_SHARES, start=1):
        own = shares[shares["region"] == region]
        for index, arm in enumerate(arms):
            rows = own[own["model"] == arm]
            xs, ys, names = [], [], []
            for row in rows.itertuples(index=False):
                xs += [index - 0.2, index + 0.2, None]
                ys += [row.nm, row.m, None]
                names += [row.subject, row.subject, None]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", text=names, showlegend=False,
                                     line={"color": colours.get(arm, "#333333"), "width": 1}, marker={"size": 4},
                                     hovertemplate=f"{arm} · %{{text}}: %{{y:.3f}}<extra></extra>"), row=1, col=column)
            if len(rows):
                fig.add_trace(go.Scatter(x=[index - 0.2, index + 0.2], y=[rows["nm"].mean(), rows["m"].mean()],
                                         mode="lines", line={"color": "#000000", "width": 3}, showlegend=False,
                                         hovertemplate=f"{arm} mean: %{{y:.3f}}<extra></extra>"), row=1, col=column)
        fig.update_xaxes(tickvals=list(range(len(arms))), ticktext=arms, row=1, col=column)
    fig.update_yaxes(title="share of the positive mass on the face", row=1, col=1)
    return base(fig, "Subject means, non-masked (left end) -> masked (right end); black: mean over subjects",
                height=420)


def difference_maps(cells: pd.DataFrame, arms: list[str]) -> go.Figure:
    """Per arm, the mean M - NM map on the common face frame (eyes at the two crosses), one colour scale."""
    shown = [arm for arm in arms if arm in set(cells["model"])]
    if not shown:
        return empty("no pair with eye landmarks in this audit")
    columns = min(MAPS_PER_ROW, len(shown))
    rows = math.ceil(len(shown) / columns)
    limit = float(np.nanmax(np.abs(cells["difference"]))) or 1.0
    pairs = cells.drop_duplicates("model").set_index("model")["n_pairs"]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[f"{arm} ({int(pairs[arm])} pairs)" for arm in shown],
                        horizontal_spacing=0.03, vertical_spacing=0.08)
    for index, arm in enumerate(shown):
        grid, u, v = difference_grid(cells, arm)
        row, column = index // columns + 1, index % columns + 1
        fig.add_trace(go.Heatmap(z=grid, x=u, y=v, zmin=-limit, zmax=limit, colorscale="RdBu_r", zmid=0,
                                 showscale=index == 0, colorbar={"title": "M - NM"},
                                 hovertemplate=f"{arm} u=%{{x:.2f}} v=%{{y:.2f}}: %{{z:.4f}}<extra></extra>"),
                      row=row, col=column)
        fig.add_trace(go.Scatter(x=[-0.5, 0.5], y=[0, 0], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker={"symbol": "x-thin", "size": 9, "line": {"width": 2, "color": "#000000"}}),
                      row=row, col=column)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{index + 1 if index else ''}", showticklabels=False,
                         row=row, col=column)
        fig.update_xaxes(showticklabels=False, row=row, col=column)
    return base(fig, "Mean M - NM map on a common face frame (red: evidence gained on masked faces)",
                height=80 + 230 * rows)


def faithfulness_curves(curves: pd.DataFrame, colours: dict[str, str]) -> go.Figure:
    """Mean deletion and insertion curves per arm (solid: M, dotted: NM)."""
    if curves.empty:
        return empty("no faithfulness curves in this audit")
    fig = make_subplots(rows=1, cols=2, subplot_titles=["deletion (lower area = more faithful)",
                                                        "insertion (higher area = more faithful)"],
                        shared_yaxes=True)
    for column, curve in enumerate(("deletion", "insertion"), start=1):
        for (arm, subset), rows in curves[curves["curve"] == curve].groupby(["model", "subset"], sort=False):
            fig.add_trace(go.Scatter(x=rows["fraction"], y=rows["probability"], mode="lines+markers",
                                     name=f"{arm} {subset}", legendgroup=arm, showlegend=column == 1,
                                     line={"color": colours.get(arm, "#333333"),
                                           "dash": "solid" if subset == "M" else "dot"}), row=1, col=column)
        fig.update_xaxes(title="share of pixels removed" if curve == "deletion" else "share of pixels kept",
                         row=1, col=column)
    fig.update_yaxes(title="probability of the explained class", row=1, col=1)
    return base(fig, "Deletion and insertion curves (ROAD imputation)", height=400)
