"""Attention audit: a gallery of overlays (image, map, mask outline; green/red frame for right/wrong)
filtered by arm, fold, class, masked, correct and subject, NM and M image of a pair side by side; the
distribution of a region metric per arm with the uniform-map reference; the fold tests; the sanity checks."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboards import components as ui
from dashboards import data, images, urlstate
from dashboards.figures import attention as figures
from dashboards.figures import attention_shift as shift_figures
from dashboards.figures import empty
from interp import attention_views as views
from interp import palette, present
from trainers.data.labels import CLASSES

dash.register_page(__name__, path="/attention", name="Attention audit", order=4)

ALL = "all"
PAIRS_PER_PAGE = 12
FILTERS = ("arm", "fold", "label", "masked", "correct", "subject", "overlay")


def options(run: str | None = None, query: dict | None = None, count_pages: bool = True) -> dict[str, list[str]]:
    """Allowed filter values for the study ``run`` (first = default); ``page`` depends on the filters of
    ``query`` (``count_pages=False``: only page 1 is listed, for a caller that clamps the page itself)."""
    studies = data.studies()
    results = studies.get(run)
    methods = results.attention_methods()
    method = (query or {}).get("method") if (query or {}).get("method") in methods else (methods or ["-"])[0]
    table, _ = data.read(lambda: results.attention(method)) if methods else (None, None)
    metrics = [c for c in ("mask_fraction", "mask_fraction_ratio", "eye_fraction", "pointing_game_mask",
                           "pointing_game_eyes", "rank_accuracy_mask", "rank_accuracy_eyes")
               if table is not None and c in table.columns]
    subjects = sorted(table["subject"].unique().tolist()) if table is not None else []
    allowed = {"run": studies.names, "method": methods or ["-"], "arm": [ALL] + results.arms,
               "fold": [ALL] + [str(f) for f in results.study.get("folds") or []],
               "label": [ALL] + list(CLASSES), "masked": [ALL, "M", "NM"], "correct": [ALL, "yes", "no"],
               "subject": [ALL] + subjects, "overlay": ["yes", "no"], "metric": metrics or ["mask_fraction"]}
    if not count_pages:
        return {**allowed, "page": ["1"]}
    state = urlstate.query_to_state(query or {}, allowed)
    total = len(pairs(filtered(table, state))) if table is not None else 0
    allowed["page"] = urlstate.pages(total, PAIRS_PER_PAGE)
    return allowed


def randomised_reference(results, method: str, rows: pd.DataFrame) -> dict[str, float]:
    """Arm -> mean mask fraction of its fully randomised model (the audit summary's second null
    reference), over all classes and the subsets (NM, M) present in ``rows``."""
    summary, _ = data.read(lambda: results.attention_summary(method))
    if summary is None or "randomised_mask_fraction" not in summary.columns or rows.empty:
        return {}
    subsets = {"M" if masked else "NM" for masked in rows["masked"]}
    chosen = summary[(summary["class"] == "all") & summary["subset"].isin(subsets)]
    return chosen.groupby("model")["randomised_mask_fraction"].mean().to_dict()


def filtered(table: pd.DataFrame, state: dict[str, str]) -> pd.DataFrame:
    """Rows of ``Results.attention()`` that pass the gallery filters (``overlay=yes``: only images whose
    overlay tile the audit wrote)."""
    keep = pd.Series(True, index=table.index)
    if state.get("arm", ALL) != ALL:
        keep &= table["model"] == state["arm"]
    if state.get("fold", ALL) != ALL:
        keep &= table["fold"].astype(str) == state["fold"]
    if state.get("label", ALL) != ALL:
        keep &= table["label"] == state["label"]
    if state.get("masked", ALL) != ALL:
        keep &= table["masked"] == (state["masked"] == "M")
    if state.get("correct", ALL) != ALL:
        keep &= table["correct"] == (state["correct"] == "yes")
    if state.get("subject", ALL) != ALL:
        keep &= table["subject"] == state["subject"]
    rows = table[keep]
    if state.get("overlay") == "yes" and state.get("run") is not None:
        results = data.get(state["run"])
        drawn = [images.has_overlay(results, state["method"], arm, image_id)
                 for arm, image_id in zip(rows["model"], rows["image_id"])]
        rows = rows[pd.Series(drawn, index=rows.index, dtype=bool)]  # a bare empty list would drop the columns
    return rows


def pairs(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(arm, pair_id) blocks of the gallery, in arm then pair order."""
    return list(dict.fromkeys(zip(rows["model"], rows["pair_id"])))


def card(run: str, method: str, row) -> dbc.Card:
    """One gallery card: overlay (or thumbnail), arm, truth -> prediction; frame green/red for right/wrong;
    a click opens the image across every arm."""
    results = data.get(run)
    colour = palette.CORRECT_COLOURS[bool(row.correct) if row.label else None]  # grey: an unlabelled photo
    subset = "M" if row.masked else "NM"
    href = dash.get_relative_path(f"/image/{row.image_id}") + urlstate.state_to_search({}, {}, keep={"run": run})
    return dbc.Card(dcc.Link([
        images.face(results, run, row.image_id, size=150, overlay=(method, row.model)),
        html.Div([html.Strong(subset), f" {row.label} → {row.pred}"], className="small"),
        html.Div(f"{row.model} · fold {row.fold} · {row.subject}", className="small text-muted"),
    ], href=href, className="text-reset text-decoration-none"),
        id={"type": "card", "index": f"{row.model}/{row.image_id}"}, className="p-1 gallery-card",
        style={"border": f"3px solid {colour}", "width": "164px"})


def gallery(run: str, method: str, rows: pd.DataFrame, page: int) -> list:
    """The cards of one page: each (arm, pair) block shows its NM then its M image side by side."""
    blocks = pairs(rows)[(page - 1) * PAIRS_PER_PAGE: page * PAIRS_PER_PAGE]
    cards = []
    for arm, pair_id in blocks:
        members = rows[(rows["model"] == arm) & (rows["pair_id"] == pair_id)].sort_values("masked")
        cards.append(html.Div([card(run, method, row) for row in members.itertuples(index=False)],
                              className="d-flex gap-1 pair-block"))
    return cards or [html.P("No audited image matches these filters.", className="text-muted")]


def layout(**query) -> html.Div:
    allowed, state = data.page_state(query, lambda run: options(run, query))
    run = state["run"]
    results = data.get(run)
    if not results.attention_methods():
        return html.Div([html.H2("Attention audit"), ui.study_picker("att-run", allowed["run"], run),
                         ui.missing(f"{results.analysis}: no attention audit; "
                                    f"run `{results.command('attributions')}`")])
    labels = {ALL: "all"}
    widgets = [ui.study_picker("att-run", allowed["run"], run),
               ui.dropdown("att-method", "method", allowed["method"], state["method"])]
    widgets += [ui.dropdown(f"att-{name}", name if name != "label" else "class", allowed[name], state[name], labels)
                for name in ("arm", "fold", "label", "subject")]
    widgets += [ui.radio("att-masked", "images", allowed["masked"], state["masked"], labels),
                ui.radio("att-correct", "correct", allowed["correct"], state["correct"], labels),
                ui.radio("att-overlay", "with overlay only", allowed["overlay"], state["overlay"])]
    gallery_children, count, page, pages, distribution = body(state)
    return html.Div([
        html.H2("Attention audit"),
        ui.filters(*widgets),
        html.A("Figure 6 (PNG: every arm on the same pairs, labelled rows and columns)", id="att-figure6",
               href=images.figure6_url(run, state["method"]), download=f"{run}-figure6-{state['method']}.png",
               target="_blank", className="small d-block mb-2"),
        html.Div(count, id="att-count", className="text-muted small mb-2"),
        html.Div(gallery_children, id="att-gallery", className="d-flex flex-wrap gap-3 mb-2"),
        dbc.Pagination(id="att-page", max_value=pages, active_page=page, fully_expanded=False,
                       first_last=True, previous_next=True, className="mb-4"),
        ui.section("Distribution per arm",
                   ui.filters(ui.dropdown("att-metric", "region metric", allowed["metric"], state["metric"])),
                   ui.graph("att-distribution", distribution),
                   note="Each dot is an audited image (the filters above apply); 'uniform map' is what a map "
                        "spread evenly over the face would score: the mask polygon's share of the image; "
                        "'randomised model' (diamonds) is each arm's mask fraction once all its layers are "
                        "randomised - what the architecture and method give without anything learnt."),
        *static_sections(results, state["method"]),
        *shift_sections(results, state["method"]),
    ])


def body(state: dict[str, str]):
    """(gallery cards, count text, page, number of pages, distribution figure) of a state."""
    results = data.get(state["run"])
    table, note = data.read(lambda: results.attention(state["method"]))
    if table is None:
        return [ui.missing(note)], "", 1, 1, empty(note)
    rows = filtered(table, state)
    page_count = max(1, len(urlstate.pages(len(pairs(rows)), PAIRS_PER_PAGE)))
    page = min(max(1, int(state.get("page", "1"))), page_count)
    colours = results.arm_colours
    count = f"{len(rows)} audited images in {len(pairs(rows))} arm-pair blocks · page {page} of {page_count}"
    metric = state["metric"]
    reference = metric == "mask_fraction"
    randomised = randomised_reference(results, state["method"], rows) if reference else None
    distribution = figures.distribution(rows, metric, colours, reference=reference, randomised=randomised)
    return gallery(state["run"], state["method"], rows, page), count, page, page_count, distribution


def static_sections(results, method: str) -> list:
    """Fold tests and sanity checks of the audit (they do not depend on the gallery filters)."""
    colours = results.arm_colours
    tests, note = data.read(lambda: results.attention_comparisons(method))
    if tests is not None:
        tests = pd.DataFrame({
            "comparison": tests["comparison"], "subset": tests["subset"], "class": tests["class"],
            "metric": tests["metric"], "test": tests["test"], "effect": tests["effect"].round(4),
            "95% CI": [f"[{lo:.4f}, {hi:.4f}]" if pd.notna(lo) else "n/a"
                       for lo, hi in zip(tests["ci_low"], tests["ci_high"])],
            "p adjusted": tests["p_adjusted"].map(present.p_value), "note": tests["note"]})
    blocks = [ui.section("Fold tests against the baseline",
                         ui.table("att-tests", tests, page_size=10) if tests is not None else ui.missing(note))]
    randomisation, note = data.read(lambda: results.sanity("randomisation_summary", method))
    blocks.append(ui.section("Sanity: model randomisation",
                             ui.graph("att-randomisation", figures.randomisation(randomisation, colours))
                             if randomisation is not None else ui.missing(note)))
    for check, title in (("faithfulness", "Sanity: occluding the mask region vs a random region"),
                         ("consistency", "Sanity: cross-fold consistency of the maps"),
                         ("evidence", "Sanity: agreement with the demo's evidence maps")):
        frame, note = data.read(lambda check=check: results.sanity(check, method))
        if frame is not None:
            blocks.append(ui.section(title, ui.table(f"att-{check}", frame.round(4))))
    return blocks



def shift_sections(results, method: str) -> list:
    """The attention shift (forest of d with both intervals and the null band, subject shares NM -> M, the
    common-frame difference maps) and the checks of the maps (faithfulness, agreement between methods)."""
    colours, arms = results.arm_colours, results.arms
    shift, note = data.read(lambda: results.attention_shift(method))
    blocks = [ui.section("Attention shift per arm",
                         ui.graph("att-shift-forest", shift_figures.shift_forest(views.forest_rows(shift, arms), colours))
                         if shift is not None else ui.missing(note),
                         note="d = U(M) - U(NM) per pair, U = log of the area-normalised upper-face share minus that "
                              "of the lower face; averaged per subject, then per fold. Above 0 masking moved the "
                              "evidence up the face. Grey: what randomised networks of the same architecture give.")]
    pairs, note = data.read(lambda: results.attention_shift(method, pairs=True))
    blocks.append(ui.section("Upper- and lower-face shares per subject, NM -> M",
                             ui.graph("att-shift-subjects",
                                      shift_figures.subject_slopes(views.subject_shares(pairs, arms), colours))
                             if pairs is not None else ui.missing(note)))
    cells, note = data.read(lambda: results.attention_difference_map(method))
    blocks.append(ui.section("Mean M - NM map on a common face frame",
                             ui.graph("att-shift-maps", shift_figures.difference_maps(cells, arms))
                             if cells is not None else ui.missing(note),
                             note="Every map warped on its eye landmarks (crosses: the eye centres), its positive part "
                                  "as shares of its mass; red cells gained evidence on the masked image of a pair."))
    curves, note = data.read(lambda: results.faithfulness("curves", method))
    summary, _ = data.read(lambda: results.faithfulness("summary", method))
    faith = [ui.graph("att-faith-curves", shift_figures.faithfulness_curves(curves, colours))] if curves is not None \
        else [ui.missing(note)]
    if summary is not None:
        faith.append(ui.table("att-faith-summary", views.faithfulness_cells(summary), page_size=10))
    blocks.append(ui.section("Faithfulness: deletion, insertion and face-region occlusion", *faith,
                             note="Pixels are removed with ROAD's noisy linear imputation. Region drops: probability of "
                                  "the explained class lost when the upper or lower face is removed, beside an "
                                  "equal-area control region on the face (excess = drop - control)."))
    agreement, note = data.read(lambda: results.attention_agreement("summary", method))
    blocks.append(ui.section("Agreement between attribution methods",
                             ui.table("att-agreement", views.agreement_cells(agreement))
                             if agreement is not None else ui.missing(note)))
    return blocks


ui.follow_study("att-run")


@callback(Output("att-figure6", "href"), Output("att-figure6", "download"), Input("att-method", "value"),
          State("att-run", "value"), prevent_initial_call=True)
def figure6_link(method: str, run: str) -> tuple[str, str]:
    """The figure-6 download of the chosen attribution method."""
    return images.figure6_url(run, method), f"{run}-figure6-{method}.png"


@ui.on_change(Output("att-gallery", "children"), Output("att-count", "children"), Output("att-page", "active_page"),
              Output("att-page", "max_value"), Output("att-distribution", "figure"),
              Output("url-state", "search", allow_duplicate=True),
              *[Input(f"att-{name}", "value") for name in ("method", *FILTERS, "metric")],
              Input("att-page", "active_page"), State("att-run", "value"),
              options=lambda query: options(query["run"], query))
def update(method, arm, fold, label, masked, correct, subject, overlay, metric, page, run):
    """Filters -> gallery page, count, distribution and the address bar; a filter change goes to page 1."""
    values = {"run": run, "method": method, "arm": arm, "fold": fold, "label": label, "masked": masked,
              "correct": correct, "subject": subject, "overlay": overlay, "metric": metric,
              "page": str(page if ctx.triggered_id == "att-page" else 1)}
    allowed = options(run, values, count_pages=False)
    state = {**urlstate.query_to_state(values, allowed), "page": values["page"]}  # body() clamps the page
    cards, count, page, pages, distribution = body(state)
    state["page"] = str(page)
    return cards, count, page, pages, distribution, urlstate.state_to_search(state, allowed)
