"""Classes: confusion matrices (pooled or one fold, NM or M, row share or counts), per-class recall with
CIs (Table 6), the classes a mask hurts most, mask sensitivity per class (flips, predicted classes NM vs M),
and calibration under masking (ECE, Brier, reliability, predicted against true class shares on M)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, html

from dashboards import components as ui
from dashboards import data, urlstate
from dashboards.figures import calibration as calibration_figures
from dashboards.figures import classes as figures
from dashboards.figures import empty
from dashboards.figures import sensitivity as sensitivity_figures
from interp.sensitivity_views import sensitivity_cells
from trainers.data.views import M, NM, PE_M, PE_NM

dash.register_page(__name__, path="/classes", name="Classes", order=1)

SUBSETS = (M, NM, PE_M, PE_NM)
POOLED = "pooled"


def options(run: str | None = None) -> dict[str, list[str]]:
    """Allowed filter values for the study ``run`` (first = default)."""
    studies = data.studies()
    results = studies.get(run)
    arms = results.arms or ["-"]
    folds = [str(f) for f in results.study.get("folds") or []]
    return {"run": studies.names, "arm": arms, "subset": list(SUBSETS), "fold": [POOLED] + folds,
            "norm": ["rate", "count"]}


def layout(**query) -> html.Div:
    allowed, state = data.page_state(query, options)
    return html.Div([
        html.H2("Classes"),
        ui.filters(ui.study_picker("cls-run", allowed["run"], state["run"]),
                   ui.dropdown("cls-arm", "arm", allowed["arm"], state["arm"]),
                   ui.radio("cls-subset", "images", allowed["subset"], state["subset"]),
                   ui.dropdown("cls-fold", "fold", allowed["fold"], state["fold"]),
                   ui.radio("cls-norm", "cells", allowed["norm"], state["norm"],
                            {"rate": "row share", "count": "counts"})),
        html.Div(id="cls-body", children=body(state)),
    ])


def confusion_figure(run: str, arm: str, subset: str, fold: str, norm: str):
    """The confusion matrix of one arm and subset, pooled over folds or of one fold."""
    results = data.get(run)
    cells, note = data.read(lambda: results.confusion(pooled=fold == POOLED))
    if cells is None:
        return empty(note)
    cells = cells[(cells["model"] == arm) & (cells["subset"] == subset)]
    if fold != POOLED:
        cells = cells[cells["fold"].astype(str) == fold]
    where = "pooled over folds" if fold == POOLED else f"fold {fold}"
    return figures.confusion(cells, norm == "rate", f"{arm}, {subset} images, {where}")


def body(state: dict[str, str]) -> list:
    """Confusion matrix, recall per class, the mask's cost per class, mask sensitivity per class, calibration."""
    results = data.get(state["run"])
    recall, note = data.read(results.per_class_recall)
    blocks = [ui.graph("cls-confusion", confusion_figure(state["run"], state["arm"], state["subset"], state["fold"],
                                                         state["norm"]))]
    if recall is None:  # e.g. an audit of unlabelled photos: mask sensitivity needs no labels
        return blocks + [ui.missing(note), *sensitivity_blocks(state["run"])]
    return blocks + [
        ui.section("Per-class recall (Table 6)", ui.graph("cls-recall", recall_figure(state["run"], state["subset"]))),
        ui.section("Classes a mask hurts most", ui.table("cls-cost", figures.mask_cost(recall), page_size=10),
                   note="Mean recall over folds on non-masked minus masked images; largest drop first."),
        *sensitivity_blocks(state["run"]),
        *calibration_blocks(state["run"]),
    ]


def sensitivity_blocks(run: str) -> list:
    """Mask sensitivity per arm and class (the ``sensitivity`` step; the Overview has its all-class rows) and the
    share of pairs each arm predicts as each class with and without the mask; nothing when the step has not run."""
    results = data.get(run)
    summary, _ = data.read(results.mask_sensitivity)
    shares, _ = data.read(lambda: results.mask_sensitivity("classes"))
    if summary is None or shares is None:
        return []
    return [ui.section(
        "Mask sensitivity per class",
        ui.table("cls-sensitivity", sensitivity_cells(summary), page_size=16, wide=["flip rate [95% CI]"]),
        ui.graph("cls-sensitivity-classes", sensitivity_figures.class_shares(shares)),
        note="Per NM/M pair of each true class: flip rate (subject-bootstrap 95% CI), drop in the probability of the "
             "non-masked prediction, KL(NM || M); below, the class each arm predicts for the pairs with and without "
             "the mask.")]


def calibration_blocks(run: str) -> list:
    """ECE/Brier table, reliability diagram and predicted class shares on M (the ``calibration`` step)."""
    summary, note = data.read(data.get(run).calibration)
    if summary is None:
        return [ui.section("Calibration under masking", ui.missing(note))]
    if summary.empty:  # an audit of unlabelled photos
        return [ui.section("Calibration under masking", html.P("No labels: calibration needs labelled images."))]
    return [ui.section(
        "Calibration under masking",
        ui.table("cls-calibration", calibration_figures.scores(summary), page_size=12),
        ui.graph("cls-reliability", data.figure(run, "reliability", calibration_figures.reliability)),
        ui.graph("cls-predicted", data.figure(run, "predicted_classes", calibration_figures.predicted, "M")),
        note="ECE (15 bins, % with corrected 95% CI over folds) and Brier score from the stored logits; a class "
             "whose predicted share on M is above its true share is one masked faces collapse onto.")]


def recall_figure(run: str, subset: str):
    """Per-class recall of every arm on one subset."""
    return data.figure(run, "per_class_recall", figures.recall, subset)


ui.follow_study("cls-run")


@ui.on_change(Output("cls-confusion", "figure"), Output("url-state", "search", allow_duplicate=True),
              Input("cls-arm", "value"), Input("cls-subset", "value"),
              Input("cls-fold", "value"), Input("cls-norm", "value"), State("cls-run", "value"),
              options=lambda query: options(query["run"]))
def update(arm: str, subset: str, fold: str, norm: str, run: str):
    """Filters -> confusion matrix and the address bar."""
    allowed = options(run)
    state = urlstate.query_to_state({"run": run, "arm": arm, "subset": subset, "fold": fold, "norm": norm}, allowed)
    figure = confusion_figure(state["run"], state["arm"], state["subset"], state["fold"], state["norm"])
    return figure, urlstate.state_to_search(state, allowed)


@callback(Output("cls-recall", "figure"), Input("cls-subset", "value"), State("cls-run", "value"),
          prevent_initial_call=True)
def update_recall(subset: str, run: str):
    """The images filter -> per-class recall on those images."""
    return recall_figure(run, urlstate.query_to_state({"subset": subset}, {"subset": list(SUBSETS)})["subset"])
