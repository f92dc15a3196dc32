"""Pure figure builders: (table from :mod:`interp.results`, options) -> ``plotly.graph_objects.Figure``.

Colours come from :mod:`interp.palette` (shared with the PDF report); nothing here reads files.
"""

from __future__ import annotations

import plotly.graph_objects as go

_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "automargin": True}
# A small white template: plotly's named templates are deep-copied and validated on every figure (~0.1 s).
TEMPLATE = go.layout.Template(layout={"paper_bgcolor": "white", "plot_bgcolor": "white", "xaxis": _AXIS,
                                      "yaxis": _AXIS, "font": {"color": "#2a3f5f"},
                                      "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A"]})


def base(fig: go.Figure, title: str | None = None, height: int = 380) -> go.Figure:
    """The shared look: white template, tight margins, legend on top."""
    fig.update_layout(template=TEMPLATE, title={"text": title, "y": 0.98, "yanchor": "top"}, height=height,
                      margin={"l": 50, "r": 20, "t": 80 if title else 40, "b": 40},
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0})
    return fig


def empty(message: str, height: int = 300) -> go.Figure:
    """A blank figure that says why it is blank (no rows after filtering, a missing table)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base(fig, height=height)
