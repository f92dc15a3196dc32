"""``create_app(runs)``: the Dash Pages app over one or several studies.

One ``dcc.Location`` (``url-state``, ``refresh=False``) holds every page's filters in the query string,
apart from the Pages router, so a filter change updates the address bar (a sharable link, a history
entry for the back button) without rebuilding the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from dashboards import data, delivery, images, urlstate

PAGES = Path(__file__).parent / "pages"
TITLE = "maskfer"


def _navbar(studies: data.Studies) -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact",
                                     id={"type": "nav", "index": page["path"]}))
             for page in dash.page_registry.values() if page.get("nav", True)]
    label = studies.names[0] if len(studies.names) == 1 else f"{len(studies.names)} studies"
    return dbc.Navbar(dbc.Container([dbc.NavbarBrand(f"{TITLE} · {label}", href=dash.get_relative_path("/")),
                                     dbc.Nav(links, navbar=True)], fluid=True),
                      color="dark", dark=True, className="mb-3")


def create_app(runs: Iterable[str | Path] | data.Studies, **dash_kwargs) -> dash.Dash:
    """Build the dashboard over ``runs`` (run directories or folders of runs).

    Parameters
    ----------
    runs
        Run directories (``runs/NAME``), folders holding several, or already opened :class:`data.Studies`.
    dash_kwargs
        Passed to :class:`dash.Dash` (e.g. ``requests_pathname_prefix`` behind a proxy).

    Raises
    ------
    trainers.common.errors.DataError
        When a path is not a run directory; a run without ``analysis/`` opens and its pages name the command.
    """
    studies = runs if isinstance(runs, data.Studies) else data.open_studies(runs)
    data.install(studies)
    # Pages keep a process-wide registry; a second app in one process starts from a clean one.
    dash._pages.PAGE_REGISTRY.clear()
    dash._pages.CONFIG.clear()
    prefix = dash_kwargs.get("requests_pathname_prefix") or "/"
    # Bootstrap's stylesheet from an installed wheel: the dashboard works offline (no CDN).
    app = dash.Dash(__name__, use_pages=True, pages_folder=str(PAGES), title=TITLE,
                    external_stylesheets=[delivery.stylesheet_url(prefix)], suppress_callback_exceptions=True,
                    **dash_kwargs)
    delivery.install(app)
    images.register(app.server)
    app.layout = html.Div([
        dcc.Location(id="url-state", refresh=False),
        _navbar(studies),
        dbc.Container(dash.page_container, fluid=True, className="pb-5"),
    ])
    app.callback(Output({"type": "nav", "index": dash.ALL}, "href"), Input("url-state", "search"),
                 State({"type": "nav", "index": dash.ALL}, "id"))(keep_study_in_links)
    return app


def keep_study_in_links(search: str | None, ids: list[dict]) -> list[str]:
    """Navbar links carry the chosen study (``?run=``) from page to page."""
    run = urlstate.parse(search).get("run")
    suffix = urlstate.state_to_search({}, {}, keep={"run": run}) if run else ""
    return [dash.get_relative_path(item["index"]) + suffix for item in ids]
