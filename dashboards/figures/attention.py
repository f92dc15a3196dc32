"""Attention-audit figures: distributions of a region metric per arm, sanity-check curves."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import base, empty

UNIFORM = "uniform map"
RANDOMISED = "randomised model"


def distribution(images: pd.DataFrame, metric: str, colours: dict[str, str], reference: bool,
                 randomised: dict[str, float] | None = None) -> go.Figure:
    """Box plot of ``metric`` per arm over the images of ``Results.attention()`` (already filtered);
    ``reference`` adds the value a map uniform over the whole input image would get (the mask polygon's share
    of the image, over the images with a score), and
    ``randomised`` (arm -> value) the mean mask fraction of each arm's fully randomised model."""
    if images.empty or metric not in images.columns:
        return empty("no audited image for this selection")
    fig = go.Figure()
    for arm, rows in images.groupby("model", sort=False):
        fig.add_trace(go.Box(y=rows[metric], name=arm, marker_color=colours.get(arm), boxpoints="all",
                             jitter=0.4, pointpos=0, customdata=rows["image_id"],
                             hovertemplate="%{customdata}: %{y:.3f}<extra>" + arm + "</extra>"))
    shown = {arm: value for arm, value in (randomised or {}).items()
             if arm in set(images["model"]) and pd.notna(value)}
    if shown:
        fig.add_trace(go.Scatter(x=list(shown), y=list(shown.values()), name=RANDOMISED, mode="markers",
                                 marker={"symbol": "diamond-open", "size": 14, "color": "#333333"},
                                 hovertemplate="%{x}, randomised model: %{y:.3f}<extra></extra>"))
    if reference and "mask_share" in images.columns:
        shares = images[images[metric].notna()].drop_duplicates("image_id")["mask_share"]  # the images scored
        fig.add_trace(go.Box(y=shares, name=UNIFORM, marker_color="#999999", boxpoints=False,
                             hovertemplate="uniform map: %{y:.3f}<extra>mask share of the image</extra>"))
    fig.update_yaxes(title=metric.replace("_", " "))
    return base(fig, f"{metric.replace('_', ' ')} per arm", height=400)


def randomisation(summary: pd.DataFrame, colours: dict[str, str], measure: str = "spearman") -> go.Figure:
    """Model-randomisation sanity check (Adebayo et al. 2018): similarity of the map to the trained
    model's map as layers are randomised top-down, one line per (arm, fold) of
    ``Results.sanity("randomisation_summary")``. A faithful method falls towards 0."""
    if summary.empty:
        return empty("no randomisation check")
    fig = go.Figure()
    order = summary.sort_values("stage").drop_duplicates("stage")["layer"].tolist()
    for (arm, fold), rows in summary.groupby(["model", "fold"], sort=False):
        rows = rows.sort_values("stage")
        fig.add_trace(go.Scatter(x=rows["layer"], y=rows[measure], mode="lines+markers", name=f"{arm} fold {fold}",
                                 legendgroup=arm, line={"color": colours.get(arm)},
                                 hovertemplate=f"{arm} fold {fold}, %{{x}}: %{{y:.3f}}<extra></extra>"))
    fig.add_hline(y=0, line={"color": "#888", "dash": "dot"})
    fig.update_xaxes(title="randomised down to", categoryorder="array", categoryarray=order)
    fig.update_yaxes(title=f"{measure} with the trained map")
    return base(fig, "Model randomisation (should fall to 0)", height=380)
