"""Mask sensitivity figure: the share of pairs each arm predicts as each class on non-masked and masked faces."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import base, empty


def class_shares(shares: pd.DataFrame) -> go.Figure:
    """Grouped bars per arm and class of ``Results.mask_sensitivity("classes")``: NM share beside M share."""
    shown = shares[(shares["n_nm"] > 0) | (shares["n_m"] > 0)]
    if shown.empty:
        return empty("no pair was scored")
    fig = go.Figure()
    for column, name, colour in (("share_nm", "non-masked", "#4c72b0"), ("share_m", "masked", "#dd8452")):
        fig.add_bar(x=[shown["model"], shown["class"]], y=shown[column], name=name, marker_color=colour,
                    customdata=shown[["n_nm", "n_m"]],
                    hovertemplate="%{x}<br>share %{y:.1%}<br>pairs NM %{customdata[0]}, M %{customdata[1]}<extra></extra>")
    fig.update_layout(barmode="group", yaxis_title="share of pairs", yaxis_tickformat=".0%")
    return base(fig, "Predicted class of each pair, non-masked vs masked")
