"""Embeddings figure: precomputed 2-D projections as WebGL points, hover keyed by image id."""

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


def scatter(points: pd.DataFrame, colour_by: str, pairs: bool = False) -> go.Figure:
    """Scattergl of one projection (one arm, fold, method and scope) of ``Results.embedding_projections()``
    (with ``pred``/``correct`` joined); ``customdata`` holds the image id, label, prediction and arm for the
    hover card; ``pairs`` draws a line between the NM and M image of each pair."""
    if points.empty:
        return empty("no projected points for this selection", height=560)
    fig = go.Figure()
    if pairs:
        xs, ys = [], []
        for _, rows in points.groupby(["model", "fold", "pair_id"], sort=False):
            if len(rows) == 2:
                xs += [*rows["x"], None]
                ys += [*rows["y"], None]
        fig.add_trace(go.Scattergl(x=xs, y=ys, mode="lines", name="NM-M pairs", hoverinfo="skip",
                                   line={"color": "rgba(120,120,120,0.45)", "width": 1}))
    for name, colour, rows in _groups(points, colour_by):
        custom = np.stack([rows["image_id"].astype(str), rows["label"].astype(str),
                           rows["pred"].astype(str).where(rows["pred"].notna(), "n/a"), rows["model"].astype(str),
                           rows["masked"].map({True: "M", False: "NM"})], axis=1)
        fig.add_trace(go.Scattergl(
            x=rows["x"], y=rows["y"], mode="markers", name=name, customdata=custom,
            marker={"size": 7, "color": colour, "symbol": np.where(rows["masked"], "diamond", "circle"),
                    "line": {"width": 0.5, "color": "white"}}))
    fig.update_traces(hoverinfo="none", hovertemplate=None, selector={"mode": "markers"})
    fig.update_xaxes(showticklabels=False, title=None)
    fig.update_yaxes(showticklabels=False, title=None, scaleanchor="x")
    return base(fig, height=560)
