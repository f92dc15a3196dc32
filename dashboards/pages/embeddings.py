"""Embeddings: precomputed t-SNE/UMAP projections (SVG), coloured by class, masked or correct; NM-M
pair lines on demand; hovering a point shows its face thumbnail, label and prediction."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboards import components as ui
from dashboards import data, images, urlstate
from dashboards.figures import embedding as figures
from dashboards.figures import empty

dash.register_page(__name__, path="/embeddings", name="Embeddings", order=3)

SCOPES = ("both", "M", "NM")
QUALITY = {"silhouette": "silhouette", "knn_accuracy": "kNN accuracy", "pair_distance": "NM-M pair distance",
           "pair_distance_ratio": "pair distance / random pair"}


def options(run: str | None = None) -> dict[str, list[str]]:
    """Allowed filter values for the study ``run`` (first = default)."""
    studies = data.studies()
    results = studies.get(run)
    points, _ = data.read(results.embedding_projections)
    methods = list(dict.fromkeys(points["method"])) if points is not None else []
    folds = sorted(points["fold"].unique().tolist()) if points is not None else []
    return {"run": studies.names, "arm": results.arms or ["-"], "method": methods or ["tsne"],
            "scope": list(SCOPES), "fold": [str(f) for f in folds] or ["0"], "colour": list(figures.COLOUR_BY),
            "pairs": ["no", "yes"]}


def layout(**query) -> html.Div:
    allowed, state = data.page_state(query, options)
    figure, quality = body(state)
    return html.Div([
        html.H2("Embeddings"),
        ui.filters(ui.study_picker("emb-run", allowed["run"], state["run"]),
                   ui.dropdown("emb-arm", "arm", allowed["arm"], state["arm"]),
                   ui.dropdown("emb-method", "projection", allowed["method"], state["method"]),
                   ui.radio("emb-scope", "images", allowed["scope"], state["scope"]),
                   ui.dropdown("emb-fold", "fold", allowed["fold"], state["fold"]),
                   ui.radio("emb-colour", "colour by", allowed["colour"], state["colour"]),
                   ui.radio("emb-pairs", "NM-M pair lines", allowed["pairs"], state["pairs"])),
        dash.html.Div([ui.graph("emb-graph", figure, clear_on_unhover=True),
                       dcc.Tooltip(id="emb-tooltip", direction="right")]),
        ui.section("Cluster quality (mean over folds)", html.Div(id="emb-quality", children=quality),
                   note="Silhouette and kNN accuracy of the classes in the embedding; pair distance between the "
                        "NM and M image of a pair (smaller: the mask moves the embedding less)."),
    ])


def points(run: str, arm: str, method: str, scope: str, fold: str) -> pd.DataFrame:
    """The projected points of one selection, with each image's prediction by that arm and fold."""
    results = data.get(run)
    table = results.embedding_projections()
    table = table[(table["model"] == arm) & (table["method"] == method) & (table["scope"] == scope)
                  & (table["fold"].astype(str) == fold)]
    predictions, _ = data.read(results.predictions)
    if predictions is None:
        return table.assign(pred=pd.NA, correct=pd.NA)
    return table.merge(predictions[["model", "fold", "image_id", "pred", "correct"]],
                       on=["model", "fold", "image_id"], how="left")


def quality_table(run: str, arm: str):
    """Cluster-quality cells of one arm, one row per scope."""
    quality, note = data.read(data.get(run).embedding_quality)
    if quality is None:
        return ui.missing(note)
    rows = quality[quality["model"] == arm]
    cells = pd.DataFrame({"scope": rows["scope"]})
    for key, label in QUALITY.items():
        cells[label] = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]" if pd.notna(m) else "n/a"
                        for m, lo, hi in zip(rows[f"{key}_mean"], rows[f"{key}_ci_low"], rows[f"{key}_ci_high"])]
    return ui.table("emb-quality-table", cells)


def body(state: dict[str, str]):
    """(scatter figure, quality table) of a state."""
    results = data.get(state["run"])
    projections, note = data.read(results.embedding_projections)
    if projections is None:
        return empty(note, height=200), ui.missing(note)
    selected = points(state["run"], state["arm"], state["method"], state["scope"], state["fold"])
    heading = figures.title(selected, state["arm"], state["method"], state["fold"], state["scope"])
    return (figures.scatter(selected, state["colour"], pairs=state["pairs"] == "yes", heading=heading),
            quality_table(state["run"], state["arm"]))


ui.follow_study("emb-run")


@ui.on_change(Output("emb-graph", "figure"), Output("emb-quality", "children"),
              Output("url-state", "search", allow_duplicate=True),
              Input("emb-arm", "value"), Input("emb-method", "value"), Input("emb-scope", "value"),
              Input("emb-fold", "value"), Input("emb-colour", "value"), Input("emb-pairs", "value"),
              State("emb-run", "value"),
              options=lambda query: options(query["run"]))
def update(arm: str, method: str, scope: str, fold: str, colour: str, pairs: str, run: str):
    """Filters -> scatter, quality table and the address bar."""
    allowed = options(run)
    state = urlstate.query_to_state({"run": run, "arm": arm, "method": method, "scope": scope, "fold": fold,
                                     "colour": colour, "pairs": pairs}, allowed)
    figure, quality = body(state)
    return figure, quality, urlstate.state_to_search(state, allowed)


def hover_card(run: str, point: dict) -> list:
    """The hover card of one point: thumbnail (by image id), label, prediction, arm."""
    image_id, label, pred, arm, subset = point["customdata"]
    return [images.face(data.get(run), run, image_id),
            html.Div(html.Strong(image_id)), html.Div(f"{subset} · true {label}"),
            html.Div(f"{arm} predicts {pred}", style={"color": "#1A9850" if pred == label else "#D73027"})]


@callback(Output("emb-tooltip", "show"), Output("emb-tooltip", "bbox"), Output("emb-tooltip", "children"),
          Input("emb-graph", "hoverData"), State("emb-run", "value"))
def hover(hover_data: dict | None, run: str):
    """Hovered point -> (show, bounding box, card)."""
    if not hover_data or "customdata" not in hover_data["points"][0]:
        return False, dash.no_update, dash.no_update
    point = hover_data["points"][0]
    return True, point["bbox"], hover_card(run, point)
