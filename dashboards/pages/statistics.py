"""Statistics: the headline hypotheses (confirmatory, mechanism, non-inferiority), the comparisons table with
each family's kind, a forest plot of effects, the Friedman result, each test's assumptions on hover. The
primary test is read from the table (:mod:`interp.headline`), never from a constant."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, html

from dashboards import components as ui
from dashboards import data, urlstate
from dashboards.figures import empty
from dashboards.figures import statistics as figures
from interp import present
from interp.headline import headline_cells, primary_test

dash.register_page(__name__, path="/statistics", name="Statistics", order=2)

ALL = "all"
DEFAULT_ALPHA = 0.05


def options(run: str | None = None) -> dict[str, list[str]]:
    """Allowed filter values for the study ``run`` (first = default)."""
    studies = data.studies()
    comparisons, _ = data.read(studies.get(run).comparisons)
    families = [] if comparisons is None else list(dict.fromkeys(comparisons["family"]))
    tests = [] if comparisons is None else list(dict.fromkeys(comparisons["test"]))
    primary = None if comparisons is None else primary_test(comparisons)
    return {"run": studies.names, "family": [ALL] + [f for f in families if f != "friedman"],
            "test": ([primary] if primary else []) + [ALL] + [t for t in tests if t != primary],
            "primary": ["no", "yes"]}


def alpha(results) -> float:
    """The significance level the stats step used (``index.json``), 0.05 when not recorded."""
    steps = results.steps()
    config = steps.loc[steps["step"] == "stats", "config"]
    return float(config.iloc[0].get("alpha", DEFAULT_ALPHA)) if len(config) else DEFAULT_ALPHA


def cells(comparisons: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """The comparisons as text cells, with each test's assumptions as hover text."""
    assumptions = dict(zip(tests["test"], tests["assumptions"])) if not tests.empty else {}
    return pd.DataFrame({
        "family": comparisons["family"],
        "kind": comparisons.get("family_kind", ""),
        "comparison": comparisons["comparison"], "subset": comparisons["subset"],
        "test": comparisons["test"], "assumptions": comparisons["test"].map(assumptions).fillna(""),
        "effect": comparisons["effect"].round(3),
        "95% CI": [f"[{lo:.2f}, {hi:.2f}]" if pd.notna(lo) else "n/a"
                   for lo, hi in zip(comparisons["ci_low"], comparisons["ci_high"])],
        "p raw": comparisons["p_raw"].map(present.p_value),
        "p adjusted": comparisons["p_adjusted"].map(present.p_value),
        "adjustment": comparisons["adjustment"],
        "role": (comparisons["role"] if "role" in comparisons  # declared by the stats step (one primary per family)
                 else ["primary" if f.startswith("vs-") else "secondary" for f in comparisons["family"]]),
        "reachable": comparisons["reachable"].map({True: "yes", False: "no"}),
        "budget": comparisons.get("budget", ""),
        "note": comparisons["note"],
    })


def layout(**query) -> html.Div:
    allowed, state = data.page_state(query, options)
    return html.Div([
        html.H2("Statistics"),
        ui.filters(ui.study_picker("st-run", allowed["run"], state["run"]),
                   ui.dropdown("st-family", "family", allowed["family"], state["family"]),
                   ui.dropdown("st-test", "test", allowed["test"], state["test"]),
                   ui.radio("st-primary", "primary only", allowed["primary"], state["primary"])),
        html.Div(id="st-body", children=body(state)),
    ])


def body(state: dict[str, str]) -> list:
    """Friedman result, forest plot and table of the filtered comparisons, the tests used."""
    results = data.get(state["run"])
    comparisons, note = data.read(results.comparisons)
    if comparisons is None:
        return [ui.missing(note)]
    tests, _ = data.read(results.tests)
    tests = tests if tests is not None else pd.DataFrame(columns=["test", "assumptions"])
    friedman = comparisons[comparisons["family"] == "friedman"]
    rows = comparisons[comparisons["family"] != "friedman"]
    if state["family"] != ALL:
        rows = rows[rows["family"] == state["family"]]
    if state["test"] != ALL:
        rows = rows[rows["test"] == state["test"]]
    if state["primary"] == "yes":
        rows = (rows[rows["primary"].fillna(False).astype(bool)] if "primary" in rows
                else rows[rows["family"].str.startswith("vs-")])
    level = alpha(results)
    friedman_lines = [html.Li(f"{r.subset}: statistic {r.statistic:.3g}, p {present.p_value(r.p_raw)} "
                              f"over {r.n_units} arms and {r.k} folds") for r in friedman.itertuples(index=False)]
    headline = headline_cells(comparisons, level)
    return [
        ui.section("Headline hypotheses", ui.table("st-headline", headline) if len(headline)
                   else html.P("no confirmatory, mechanism or non-inferiority family in this study",
                               className="text-muted"),
                   note="Each family's primary test: the confirmatory family (the paper's methods against "
                        "baseline-pe on PE-M), the mechanism family (each method against its ablation) and "
                        "non-inferiority on PE-NM (one-sided against the margin)."),
        ui.section("Friedman test (all arms)", html.Ul(friedman_lines) if friedman_lines
                   else html.P("not run (fewer than three arms or folds)", className="text-muted")),
        ui.graph("st-forest", figures.forest(rows, tests, level) if len(rows) else empty("no comparison selected")),
        ui.section("Comparisons", ui.table("st-table", cells(rows, tests), tooltips={"test": "assumptions"},
                                           page_size=15),
                   note="Hover a test name for its assumptions. Primary = the family's declared test; kind = the "
                        "family's kind (confirmatory, table, mechanism: Holm; exploratory: BH); 'reachable' says "
                        "whether the test could reach significance with this many folds; budget = whether the two "
                        "arms' training budgets (study.json) match."),
        ui.section("Tests used", ui.table("st-tests", tests)),
    ]


ui.follow_study("st-run")


@ui.on_change(Output("st-body", "children"), Output("url-state", "search", allow_duplicate=True),
              Input("st-family", "value"), Input("st-test", "value"),
              Input("st-primary", "value"), State("st-run", "value"),
              options=lambda query: options(query["run"]))
def update(family: str, test: str, primary: str, run: str):
    """Filters -> forest plot, table and the address bar."""
    allowed = options(run)
    state = urlstate.query_to_state({"run": run, "family": family, "test": test, "primary": primary}, allowed)
    return body(state), urlstate.state_to_search(state, allowed)
