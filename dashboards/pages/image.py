"""One image across every arm: its face, its pair partner, each arm's prediction, overlay and region
metrics (``/image/<image_id>?run=NAME``)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboards import components as ui
from dashboards import data, images, urlstate
from interp import palette

dash.register_page(__name__, path_template="/image/<image_id>", name="Image", order=5, nav=False)

METRICS = ("mask_fraction", "eye_fraction", "pointing_game_mask", "rank_accuracy_mask")


def arm_rows(results, image_id: str) -> pd.DataFrame:
    """One row per arm that saw the image in validation: fold, prediction, correct (from the predictions)."""
    predictions, _ = data.read(results.predictions)
    if predictions is None:
        return pd.DataFrame(columns=["model", "fold", "label", "pred", "correct"])
    return predictions.loc[predictions["image_id"] == image_id, ["model", "fold", "label", "pred", "correct"]]


def arm_card(results, run: str, method: str | None, row, metrics: pd.DataFrame) -> dbc.Card:
    """One arm's view of the image: overlay (or thumbnail), prediction, region metrics."""
    colour = palette.CORRECT_COLOURS[bool(row.correct) if row.label else None]  # grey: an unlabelled photo
    lines = [html.Div(html.Strong(row.model)), html.Div(f"fold {row.fold} · predicts {row.pred}",
                                                        style={"color": colour})]
    audited = metrics[metrics["model"] == row.model] if not metrics.empty else metrics
    for name in METRICS:
        if len(audited) and name in audited.columns:
            value = audited.iloc[0][name]
            lines.append(html.Div(f"{name.replace('_', ' ')} {value:.3f}" if pd.notna(value)
                                  else f"{name.replace('_', ' ')} n/a", className="small"))
    overlay = (method, row.model) if method else None
    return dbc.Card([images.face(results, run, row.image_id, size=180,
                                 overlay=overlay), *lines],
                    id={"type": "arm", "index": row.model}, className="p-2",
                    style={"border": f"3px solid {colour}", "width": "200px"})


def metric_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """The audit's numbers for one image: one row per region metric, one column per arm."""
    numbers = metrics.set_index("model").select_dtypes("number").drop(columns=["fold"], errors="ignore")
    table = numbers.T.round(4).reset_index().rename(columns={"index": "metric"})
    table.columns.name = None
    return table


def layout(image_id: str | None = None, **query) -> html.Div:
    run = data.studies().default(query.get("run"))
    results = data.get(run)
    keep = urlstate.state_to_search({}, {}, keep={"run": run if len(data.studies().names) > 1 else ""})
    arms = arm_rows(results, image_id or "")
    if arms.empty:
        return html.Div([html.H2(f"Image {image_id}"),
                         dbc.Alert(f"{image_id!r} is not a validation image of study {results.name}.",
                                   color="warning"), dcc.Link("back to the attention audit",
                                                              href=dash.get_relative_path("/attention") + keep)])
    predictions = results.predictions()
    about = predictions[predictions["image_id"] == image_id].iloc[0]
    partner = predictions[(predictions["pair_id"] == about["pair_id"]) & (predictions["image_id"] != image_id)]
    method = (results.attention_methods() or [None])[0]
    metrics, _ = data.read(lambda: results.attention(method)) if method else (None, None)
    metrics = metrics[metrics["image_id"] == image_id] if metrics is not None else pd.DataFrame()
    partner_link = (dcc.Link(f"pair partner {partner.iloc[0]['image_id']}",
                             href=dash.get_relative_path(f"/image/{partner.iloc[0]['image_id']}") + keep)
                    if len(partner) else html.Span("no pair partner"))
    arms = arms.assign(image_id=image_id)
    return html.Div([
        html.H2(f"Image {image_id}"),
        html.Div([images.face(results, run, image_id, size=128),
                  html.Div([html.Div(f"true class: {about['label']}"),
                            html.Div(f"{'masked' if about['masked'] else 'not masked'} · subject {about['subject']}"),
                            html.Div(partner_link), html.Div(f"attribution method: {method or 'none'}")],
                           className="ms-3")], className="d-flex align-items-center mb-3"),
        html.Div([arm_card(results, run, method, row, metrics) for row in arms.itertuples(index=False)],
                 className="d-flex flex-wrap gap-3", id="image-arms"),
        ui.section("Region metrics", ui.table("image-metrics", metric_rows(metrics)) if len(metrics)
                   else html.P("This image was not in the attention audit (interp.analyze --max-images).",
                               className="text-muted")),
    ])
