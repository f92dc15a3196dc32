"""Small layout pieces shared by the pages: filter rows, tables, notes for missing analysis steps."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboards import data

GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def missing(message: str) -> dbc.Alert:
    """A note that a table is not there yet, with the ``interp.analyze`` command that writes it."""
    return dbc.Alert([html.Strong("Not analysed yet. "), html.Span(message)], color="warning",
                     className="missing-step")


def dropdown(id_: str | dict, label: str, values: Sequence[str], value: str,
             labels: dict[str, str] | None = None) -> html.Div:
    """A labelled single-choice dropdown (no clearing: a filter always has a value)."""
    options = [{"label": (labels or {}).get(v, v), "value": v} for v in values]
    return html.Div([dbc.Label(label, className="small mb-0"),
                     dcc.Dropdown(id=id_, options=options, value=value, clearable=False, searchable=len(values) > 8)],
                    className="filter")


def radio(id_: str | dict, label: str, values: Sequence[str], value: str,
          labels: dict[str, str] | None = None) -> html.Div:
    """A labelled inline radio group."""
    options = [{"label": (labels or {}).get(v, v), "value": v} for v in values]
    return html.Div([dbc.Label(label, className="small mb-0 d-block"),
                     dbc.RadioItems(id=id_, options=options, value=value, inline=True)], className="filter")


def filters(*items: html.Div) -> dbc.Row:
    """A row of filter widgets."""
    return dbc.Row([dbc.Col(item, xs=6, md="auto") for item in items], className="g-3 mb-3 align-items-end")


def table(id_: str, frame: pd.DataFrame, tooltips: dict[str, str] | None = None, height: int | None = None,
          page_size: int | None = None) -> dag.AgGrid:
    """A sortable, filterable AG Grid of ``frame`` (text cells as they are; ``tooltips`` maps a column to
    the column holding its hover text)."""
    columns = []
    for name in frame.columns:
        if tooltips and name in tooltips.values():
            continue
        spec = {"field": str(name), "headerName": str(name), "filter": True, "sortable": True}
        if tooltips and name in tooltips:
            spec["tooltipField"] = tooltips[name]
        columns.append(spec)
    options = {"tooltipShowDelay": 200, "domLayout": "autoHeight" if height is None else "normal"}
    if page_size:
        options.update(pagination=True, paginationPageSize=page_size, paginationPageSizeSelector=False)
    return dag.AgGrid(id=id_, rowData=frame.astype(object).where(frame.notna(), None).to_dict("records"),
                      columnDefs=columns, defaultColDef={"resizable": True, "minWidth": 80, "flex": 1},
                      dashGridOptions=options,
                      style={"height": f"{height}px"} if height else {})


def plain_table(id_: str, frame: pd.DataFrame) -> dbc.Table:
    """A small static table as plain HTML (no AG Grid: the Overview draws without loading the grid)."""
    cells = frame.astype(object).where(frame.notna(), "")
    return dbc.Table([html.Thead(html.Tr([html.Th(str(name)) for name in frame.columns])),
                      html.Tbody([html.Tr([html.Td(str(value)) for value in row]) for row in cells.itertuples(index=False)])],
                     id=id_, striped=True, hover=True, size="sm", responsive=True, className="small")


def section(title: str, *children, note: str | None = None) -> html.Section:
    """A titled block of a page."""
    head = [html.H4(title, className="mt-4")]
    if note:
        head.append(html.P(note, className="text-muted small"))
    return html.Section(head + list(children))


def graph(id_: str, figure, **kwargs) -> dcc.Graph:
    """A plotly graph with the shared toolbar settings."""
    return dcc.Graph(id=id_, figure=figure, config=GRAPH_CONFIG, **kwargs)


def study_picker(id_: str, names: Sequence[str], value: str) -> html.Div:
    """The study dropdown (hidden when the dashboard shows a single study)."""
    picker = dropdown(id_, "study", names, value)
    if len(names) < 2:
        picker.style = {"display": "none"}
    return picker


def analysis_status(results) -> dbc.Alert | None:
    """A warning listing the analysis steps that have not run, each with its command; ``None`` when all ran."""
    missing_steps = results.missing_steps(data.STEPS)
    if not missing_steps:
        return None
    whole = f"python -m interp.analyze {results.run}"
    items = [html.Li([html.Code(step), ": ", html.Code(results.command(step))]) for step in missing_steps]
    return dbc.Alert([html.Strong("Analysis incomplete. "),
                      html.Span(["Run ", html.Code(whole), " (everything), or one step:"]),
                      html.Ul(items, className="mb-0")],
                     color="warning", id="analysis-status")


def follow_study(picker_id: str) -> None:
    """Register the callback that reopens the page for the study chosen in ``picker_id`` (its filters and
    their allowed values depend on the study, so the page layout is rebuilt from ``?run=NAME``)."""

    @callback(Output("_pages_location", "search", allow_duplicate=True), Input(picker_id, "value"),
              prevent_initial_call=True)
    def open_study(run: str) -> str:
        return f"?{urlencode({'run': run})}"
