"""Small layout pieces shared by the pages: filter rows, tables, notes for missing analysis steps."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from urllib.parse import urlencode

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboards import data, urlstate

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
          page_size: int | None = None, wide: Sequence[str] = ()) -> dag.AgGrid:
    """A sortable, filterable AG Grid of ``frame`` (text cells as they are; ``tooltips`` maps a column to
    the column holding its hover text; ``wide`` columns, e.g. a value with its interval, get room for it)."""
    columns = []
    for name in frame.columns:
        if tooltips and name in tooltips.values():
            continue
        spec = {"field": str(name), "headerName": str(name), "filter": True, "sortable": True}
        if tooltips and name in tooltips:
            spec["tooltipField"] = tooltips[name]
        if name in wide:
            spec["minWidth"] = 170
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


def section(title: str, *children, note: str | list | None = None) -> html.Section:
    """A titled block of a page (``note``: text, or a list of text and links, under the title)."""
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


def on_change(*dependencies, options: Callable[[dict], urlstate.Options]) -> Callable:
    """Register a page's callback for changes of its widgets, not for the page's first render.

    Dash ignores ``prevent_initial_call`` for widgets the page router adds when one of the callback's
    outputs lies outside the page (the address bar, the router's location), and it then lists every input
    as triggered: on each page load the callback would run once more, send back what the page already
    shows and redraw its figures (and a gallery opened on page 3 would jump to page 1). The page is built
    from its address, so a call whose widget state equals the state the address encodes changes nothing;
    the registered wrapper compares the two (the function's parameter names are the filter names, and
    ``options(query)`` gives their allowed values) and answers such a call with no update.

    The function's last output is the address it writes (``?a=1...``); the wrapper also records it with the
    page's path in the app's ``shown`` store, which tells the back button's callback (:mod:`dashboards.app`)
    what the page shows. The function itself is returned unwrapped (tests call it directly)."""
    def register(function: Callable) -> Callable:
        names = list(inspect.signature(function).parameters)

        @functools.wraps(function)
        def changed_only(*args):
            *values, search, path = args
            query = dict(zip(names, values))
            if urlstate.shows(search, query, options(query)):
                raise PreventUpdate
            result = function(*values)
            answer = result if isinstance(result, tuple) else (result,)
            return *answer, f"{path}{answer[-1]}"

        outputs = [item for item in dependencies if isinstance(item, Output)]
        dash.callback(*outputs, Output("shown", "data", allow_duplicate=True),
                      *[item for item in dependencies if not isinstance(item, Output)],
                      State("url-state", "search"), State("url-state", "pathname"),
                      prevent_initial_call=True)(changed_only)
        return function
    return register


def follow_study(picker_id: str) -> None:
    """Register the callback that reopens the page for the study chosen in ``picker_id`` (its filters and
    their allowed values depend on the study, so the page layout is rebuilt from ``?run=NAME``)."""

    @on_change(Output("_pages_location", "search", allow_duplicate=True), Input(picker_id, "value"),
               options=lambda query: {"run": data.studies().names})
    def open_study(run: str) -> str:
        return f"?{urlencode({'run': run})}"
