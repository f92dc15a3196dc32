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
        dcc.Store(id="shown"),
        _navbar(studies),
        dbc.Container(dash.page_container, fluid=True, className="pb-5"),
    ])
    app.callback(Output({"type": "nav", "index": dash.ALL}, "href"), Input("url-state", "search"),
                 State({"type": "nav", "index": dash.ALL}, "id"))(keep_study_in_links)
    app.clientside_callback(FOLLOW_HISTORY, Output("_pages_location", "search", allow_duplicate=True),
                            Output("shown", "data", allow_duplicate=True), Input("url-state", "search"),
                            State("url-state", "pathname"), State("shown", "data"), prevent_initial_call=True)
    return app


# The back and forward buttons inside one page: a page's filter callbacks write the address bar through
# ``url-state`` (a history entry per change, the page left in place) and record what they wrote in ``shown``.
# When the address changes to something else on the same path, the browser went back or forward: the page is
# rebuilt from its address by handing the address to the router's location. A new path is the router's own
# work (it only records it).
FOLLOW_HISTORY = """
function(search, pathname, shown) {
    const here = pathname + (search || "");
    const none = window.dash_clientside.no_update;
    if (shown === here) { return [none, none]; }
    if (!shown || shown.split("?")[0] !== pathname) { return [none, here]; }
    return [search || "", here];
}
"""


def keep_study_in_links(search: str | None, ids: list[dict]) -> list[str]:
    """Navbar links carry the chosen study (``?run=``) from page to page."""
    run = urlstate.parse(search).get("run")
    suffix = urlstate.state_to_search({}, {}, keep={"run": run}) if run else ""
    return [dash.get_relative_path(item["index"]) + suffix for item in ids]
