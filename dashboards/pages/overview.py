"""Overview: dataset (Table 2), protocol, accuracy per arm and view with CIs, the NM-M gap per arm."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboards import components as ui
from dashboards import data, urlstate
from dashboards.figures import accuracy as figures
from dashboards.figures import empty
from interp import present
from interp.sensitivity_views import sensitivity_cells

dash.register_page(__name__, path="/", name="Overview", order=0)

METRICS = ("accuracy", "macro_f1")
TESTS = ("corrected-t", "subject-bootstrap", "mcnemar-clustered", "wilcoxon")


def options(run: str | None = None) -> dict[str, list[str]]:
    """Allowed filter values (first = default)."""
    return {"run": data.studies().names, "metric": list(METRICS), "test": list(TESTS)}


def protocol(results) -> pd.DataFrame:
    """The protocol of a study as rows of (item, value): preset, init per arm, folds, device, commits."""
    prov = results.provenance()
    arms = results.study.get("arms") or {}
    config = results.config()
    commits = sorted({str(step.get("git_commit")) for step in prov["analysis"].values() if step.get("git_commit")})
    rows = [("study", prov["study"]), ("run directory", prov["run"]), ("preset", prov["preset"]),
            ("architecture", config.get("architecture")), ("image size", config.get("image_size")),
            ("folds", f"{len(prov['folds'] or [])} of k={prov['k']}"), ("seed", prov["seed"]),
            ("device", prov["device"]), ("manifest hash", str(prov["manifest_hash"])[:16]),
            ("training commit", (prov["training"] or {}).get("git_commit", "not recorded")),
            ("analysis commit", ", ".join(commits) or "not analysed")]
    cross = results.cross_dataset()
    if cross:
        rows += [("trained on", cross["train_manifest"]), ("evaluated on", cross["test_manifest"])]
    rows += [(f"init {arm}", arms.get(arm, {}).get("init") or arms.get(arm, {}).get("weights") or "random")
             for arm in prov["models"] or []]
    return pd.DataFrame(rows, columns=["item", "value"]).astype(str)


def layout(**query) -> html.Div:
    state = urlstate.query_to_state(query, options())
    return html.Div([
        html.H2("Overview"),
        ui.filters(ui.study_picker("ov-run", options()["run"], state["run"]),
                   ui.radio("ov-metric", "measure", METRICS, state["metric"],
                            {"accuracy": "accuracy", "macro_f1": "macro-F1"}),
                   ui.dropdown("ov-test", "test of the NM-M gap", TESTS, state["test"])),
        html.Div(id="ov-body", children=body(state["run"], state["metric"], state["test"])),
    ])


def body(run: str, metric: str, test: str) -> list:
    """Study status, accuracy figure and table, the gap plot, (several studies) the comparison across
    studies, the dataset and the protocol."""
    results = data.get(run)
    dataset, dataset_note = data.read(results.dataset_summary)
    tail = [ui.section("Dataset (Table 2)", ui.plain_table("ov-dataset", dataset) if dataset is not None
                       else ui.missing(dataset_note)),
            ui.section("Protocol", ui.plain_table("ov-protocol", protocol(results)))]
    head = [html.H4(f"Study {run}", id="ov-study"), ui.analysis_status(results)]
    cross = present.cross_dataset_note(results.cross_dataset())
    if cross:
        head.append(html.P(cross, id="ov-cross", className="cross-dataset"))
    acc, note = data.read(results.accuracy)
    gap = ui.section("NM-M gap per arm", ui.graph("ov-gap", gap_figure(run, test)),
                     note="Accuracy on non-masked minus masked validation images, with the test's interval.")
    if acc is None:
        return head + [ui.missing(note), ui.graph("ov-accuracy", empty(note)), gap] + tail
    blocks = head + [ui.graph("ov-accuracy", accuracy_figure(run, metric)),
                     ui.plain_table("ov-accuracy-table", present.accuracy_cells(acc)), gap]
    if len(data.studies().names) > 1:
        blocks.append(ui.section("All studies", ui.plain_table("ov-studies", across_studies())))
    return blocks + sensitivity(results) + tail


def sensitivity(results) -> list:
    """The mask-sensitivity section, one row per arm (flip rate with CI, drop, KL, NM/M accuracy and calibration
    over all pairs; the per-class rows and the predicted classes are on the Classes page), or nothing when the
    study has no such table yet."""
    summary, _ = data.read(results.mask_sensitivity)
    if summary is None:
        return []
    link = dcc.Link("Classes page", href=dash.get_relative_path("/classes"))
    return [ui.section("Mask sensitivity",
                       ui.plain_table("ov-sensitivity", sensitivity_cells(summary[summary["class"] == "all"])),
                       note=["Per NM/M pair over all classes: does the prediction change under the mask (flip, with a "
                             "subject-bootstrap 95% CI), the drop in the probability of the non-masked prediction, "
                             "KL(NM || M). Per class, and the classes predicted with and without the mask: the ",
                             link, "."])]


def accuracy_figure(run: str, metric: str):
    """Accuracy (or macro-F1) per arm and view of one study."""
    return data.figure(run, "accuracy", figures.accuracy, metric)


def gap_figure(run: str, test: str):
    """The NM-M gap per arm of one study for one test."""
    return data.figure(run, "comparisons", figures.gap, test)


def across_studies() -> pd.DataFrame:
    """Accuracy cells of every opened study, one row per study, arm and subset."""
    frames = []
    for name, results in data.studies().by_name.items():
        acc, _ = data.read(results.accuracy)
        if acc is not None:
            frames.append(present.accuracy_cells(acc).assign(study=name))
    if not frames:
        return pd.DataFrame(columns=["study"])
    table = pd.concat(frames, ignore_index=True)
    return table[["study"] + [c for c in table.columns if c != "study"]]


ui.follow_study("ov-run")


@ui.on_change(Output("ov-accuracy", "figure"), Output("ov-gap", "figure"),
              Output("url-state", "search", allow_duplicate=True),
              Input("ov-metric", "value"), Input("ov-test", "value"), State("ov-run", "value"),
              options=lambda query: options())
def update(metric: str, test: str, run: str):
    """Filters -> the accuracy and gap figures and the address bar."""
    state = urlstate.query_to_state({"run": run, "metric": metric, "test": test}, options())
    return (accuracy_figure(run, state["metric"]), gap_figure(run, state["test"]),
            urlstate.state_to_search(state, options()))
