"""Embeddings figure: precomputed 2-D projections as SVG points, hover keyed by image id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import base, empty
from interp import palette

COLOUR_BY = ("class", "masked", "correct")


def _groups(points: pd.DataFrame, colour_by: str):
    if colour_by == "class":
        for label, rows in points.groupby("label", sort=False):
            yield str(label), palette.class_colour(str(label)), rows
    elif colour_by == "masked":
        for masked, rows in points.groupby("masked", sort=True):
            yield ("M" if masked else "NM"), palette.SUBSET_COLOURS["M" if masked else "NM"], rows
    else:
        for correct, rows in points.groupby(points["correct"].fillna(False).astype(bool), sort=True):
            yield ("correct" if correct else "wrong"), palette.CORRECT_COLOURS[bool(correct)], rows


def title(points: pd.DataFrame, arm: str, method: str, fold: str, scope: str) -> str:
    """``cl · t-SNE · fold 0 · 86 points (NM and M)``: what one projection shows."""
    name = {"tsne": "t-SNE"}.get(method, method.upper())
    images = {"both": "NM and M", "M": "masked", "NM": "non-masked"}.get(scope, scope)
    return f"{arm} · {name} · fold {fold} · {len(points)} points ({images})"


def scatter(points: pd.DataFrame, colour_by: str, pairs: bool = False, heading: str | None = None) -> go.Figure:
    """Scatter (SVG: the dashboard ships plotly.js's cartesian bundle, without WebGL traces; a fold's projection
    holds hundreds to a few thousand points, where SVG draws as fast) of one projection (one arm, fold, method and scope) of ``Results.embedding_projections()``
    (with ``pred``/``correct`` joined); ``customdata`` holds the image id, label, prediction and arm for the
    hover card; ``pairs`` draws a line between the NM and M image of each pair. One unit is as long on both
    axes (distances in a projection mean the same in every direction); ``heading`` is the title."""
    if points.empty:
        return empty("no projected points for this selection", height=560)
    fig = go.Figure()
    if pairs:
        xs, ys = [], []
        for _, rows in points.groupby(["model", "fold", "pair_id"], sort=False):
            if len(rows) == 2:
                xs += [*rows["x"], None]
                ys += [*rows["y"], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="NM-M pairs", hoverinfo="skip",
                                   line={"color": "rgba(120,120,120,0.45)", "width": 1}))
    for name, colour, rows in _groups(points, colour_by):
        custom = np.stack([rows["image_id"].astype(str), rows["label"].astype(str),
                           rows["pred"].astype(str).where(rows["pred"].notna(), "n/a"), rows["model"].astype(str),
                           rows["masked"].map({True: "M", False: "NM"})], axis=1)
        fig.add_trace(go.Scatter(
            x=rows["x"], y=rows["y"], mode="markers", name=name, customdata=custom,
            marker={"size": 7, "color": colour, "symbol": np.where(rows["masked"], "diamond", "circle"),
                    "line": {"width": 0.5, "color": "white"}}))
    fig.update_traces(hoverinfo="none", hovertemplate=None, selector={"mode": "markers"})
    fig.update_xaxes(showticklabels=False, title=None, constrain="domain")
    fig.update_yaxes(showticklabels=False, title=None, scaleanchor="x", scaleratio=1, constrain="domain")
    return base(fig, heading, height=560)
