"""Page callbacks as plain functions (filters -> figures, tables, gallery, address bar) on the smoke study."""

from __future__ import annotations

import json
from contextvars import copy_context

import plotly
import plotly.graph_objects as go
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

import interp.results
from dashboards import data, urlstate
from dashboards.app import create_app
from trainers.common.errors import DataError
from tests.dashboards.conftest import page
from tests.study_fixture import labelled_cross_dataset


def _json(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def _triggered(prop_id: str, function, *args):
    """Run a callback as if ``prop_id`` fired it (ctx.triggered_id, as Dash's testing docs show)."""
    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": None}]))
        return function(*args)
    return copy_context().run(run)


def test_overview_figures_follow_the_filters(app):
    overview = page("overview")
    accuracy, gap, search = overview.update("macro_f1", "subject-bootstrap", "smoke")
    assert search == "?metric=macro_f1&test=subject-bootstrap"
    assert accuracy.layout.title.text == "Macro-F1 per arm and view"
    assert "subject-bootstrap" in gap.layout.xaxis.title.text
    assert {trace.y[0] for trace in gap.data} == {"baseline-nm", "baseline-mix", "cl"}
    assert overview.update("accuracy", "corrected-t", "smoke")[2] == ""
    text = _json(overview.layout())
    assert "Dataset (Table 2)" in text and "Protocol" in text and "analysis-status" not in text


def test_classes_confusion_per_fold_and_pooled(app, smoke_study):
    classes = page("classes")
    pooled = classes.confusion_figure("smoke", "cl", "M", "pooled", "count")
    fold = classes.confusion_figure("smoke", "cl", "M", "1", "count")
    results = interp.results.load(smoke_study)
    counts = results.confusion(pooled=False)
    expected = counts[(counts["model"] == "cl") & (counts["subset"] == "M") & (counts["fold"] == 1)]["count"].sum()
    assert sum(map(sum, fold.data[0].z)) == expected
    assert sum(map(sum, pooled.data[0].z)) > expected
    rates = classes.confusion_figure("smoke", "cl", "M", "pooled", "rate").data[0].z
    assert all(abs(sum(row) - 1) < 1e-9 or sum(row) == 0 for row in rates)
    figure, search = classes.update("cl", "NM", "1", "count", "smoke")
    assert urlstate.parse(search) == {"arm": "cl", "subset": "NM", "fold": "1", "norm": "count"}
    assert figure.layout.title.text == "cl, NM images, fold 1"
    recall = classes.update_recall("NM", "smoke")
    assert [trace.name for trace in recall.data] == ["baseline-nm", "baseline-mix", "cl"]
    assert "NM images" in recall.layout.title.text


def test_statistics_filters_the_forest_and_table(app):
    statistics = page("statistics")
    everything, _ = statistics.update("all", "all", "no", "smoke")
    only_gap, search = statistics.update("NM-vs-M", "corrected-t", "no", "smoke")
    forest = next(c for c in only_gap if getattr(c, "id", None) == "st-forest").figure
    assert len(forest.data[0].y) == 3 and all("NM-vs-M" in label for label in forest.data[0].y)
    assert "assumptions" in forest.data[0].hovertemplate and search == "?family=NM-vs-M"
    assert len(_json(everything)) > len(_json(only_gap))


def test_embeddings_scatter_and_hover_card(app):
    embeddings = page("embeddings")
    figure, quality, search = embeddings.update("cl", "tsne", "both", "0", "correct", "yes", "smoke")
    assert search == "?arm=cl&colour=correct&pairs=yes"
    kinds = {trace.type for trace in figure.data}
    assert kinds == {"scatter"} and figure.data[0].name == "NM-M pairs"  # traces of the cartesian bundle
    names = {trace.name for trace in figure.data[1:]}
    assert names <= {"correct", "wrong"} and names
    count = sum(len(trace.x) for trace in figure.data[1:])
    assert figure.layout.title.text == f"cl · t-SNE · fold 0 · {count} points (NM and M)"
    assert figure.layout.yaxis.scaleanchor == "x" and figure.layout.yaxis.scaleratio == 1  # equal axis scales
    point = {"customdata": list(figure.data[1].customdata[0]), "bbox": {"x0": 1, "x1": 2, "y0": 1, "y1": 2}}
    show, bbox, card = embeddings.hover({"points": [point]}, "smoke")
    assert show and bbox == point["bbox"] and f"/img/smoke/thumb/{point['customdata'][0]}.png" in _json(card)
    assert embeddings.hover(None, "smoke")[0] is False


def _cards(cards) -> set[str]:
    return {card["props"]["id"]["index"] for block in json.loads(_json(cards)) for card in block["props"]["children"]}


def test_attention_gallery_filters_and_pages(app, smoke_study, monkeypatch):
    attention = page("attention")
    monkeypatch.setattr(attention, "PAIRS_PER_PAGE", 4)  # several pages even for a small audit
    audited = interp.results.load(smoke_study).attention()
    args = ["gradcam", "all", "all", "all", "all", "all", "all", "no", "mask_fraction", 1, "smoke"]
    cards, count, active, pages, figure, search = _triggered("att-arm.value", attention.update, *args)
    blocks = audited[["model", "pair_id"]].drop_duplicates()
    assert pages == -(-len(blocks) // attention.PAIRS_PER_PAGE) >= 2 and active == 1 and search == "?overlay=no"
    seen = set()
    for number in range(1, pages + 1):
        cards = _triggered("att-page.active_page", attention.update, *args[:9], number, "smoke")[0]
        seen |= _cards(cards)
    assert seen == {f"{m}/{i}" for m, i in zip(audited["model"], audited["image_id"])}
    args[1], args[4] = "cl", "M"
    cards, count, _, pages, figure, search = _triggered("att-arm.value", attention.update, *args)
    masked_cl = _cards(cards)
    assert masked_cl and all(index.startswith("cl/") and index.endswith("_m") for index in masked_cl)
    assert urlstate.parse(search) == {"arm": "cl", "masked": "M", "overlay": "no"}
    assert [trace.name for trace in figure.data] == ["cl", "randomised model", "uniform map"]
    args[1], args[4] = "all", "all"
    _, count, active, _, _, search = _triggered("att-page.active_page", attention.update, *args[:9], 2, "smoke")
    assert active == 2 and "page=2" in search and "page 2 of" in count
    _, _, active, _, _, _ = _triggered("att-label.value", attention.update, *args[:9], 2, "smoke")
    assert active == 1
    cards, count = _triggered("att-overlay.value", attention.update, *args[:7], "yes", "mask_fraction", 1, "smoke")[:2]
    overlays = interp.results.load(smoke_study).overlays()
    tiles = {f"{m}/{i}" for m, i in zip(overlays["model"], overlays["image_id"])} & seen
    assert tiles and _cards(cards) <= tiles and count.startswith(f"{len(tiles)} audited images")


def test_image_page_shows_every_arm(app, smoke_study):
    image_id = interp.results.load(smoke_study).overlays().iloc[0]["image_id"]
    text = _json(page("image").layout(image_id=image_id))
    for arm in ("baseline-nm", "baseline-mix", "cl"):
        assert f'"index": "{arm}"' in text
    assert "pair partner" in text and "/overlay/gradcam/" in text
    assert "is not a validation image" in _json(page("image").layout(image_id="nope"))


def test_a_run_without_analysis_opens_and_names_the_command(unanalysed):
    create_app([unanalysed])
    overview = _json(page("overview").layout())
    assert f"python -m interp.analyze {unanalysed} --only tables" in overview
    for name in ("classes", "statistics", "embeddings", "attention"):
        assert "python -m interp.analyze" in _json(page(name).layout()), name


def test_a_cross_dataset_study_is_labelled_on_the_overview(smoke_study, tmp_path):
    create_app([labelled_cross_dataset(smoke_study, tmp_path / "cross")])
    overview = _json(page("overview").layout())
    assert "Cross-dataset study: every fold's model trains on the folds of raf-masked/manifest.csv" in overview
    assert '"evaluated on"' in overview and "/data/msd/manifest.csv" in overview
    create_app([smoke_study])
    assert "Cross-dataset" not in _json(page("overview").layout())


def test_figures_are_built_once_per_study_and_arguments(smoke_study, unanalysed):
    create_app([smoke_study, unanalysed])
    built = []

    def build(table, colours, metric):
        built.append(metric)
        return go.Figure()

    first = data.figure("smoke", "accuracy", build, "accuracy")
    assert data.figure("smoke", "accuracy", build, "accuracy") is first and built == ["accuracy"]
    data.figure("smoke", "accuracy", build, "macro_f1")
    assert built == ["accuracy", "macro_f1"]
    missing = data.figure("bare", "accuracy", build, "accuracy")  # never built: it names the command
    assert "interp.analyze" in missing.layout.annotations[0].text and len(built) == 2
    create_app([smoke_study])  # a new app (other studies, maybe of the same name) starts afresh
    data.figure("smoke", "accuracy", build, "accuracy")
    assert len(built) == 3


def test_several_studies_and_bad_paths(smoke_study, unanalysed, tmp_path):
    create_app([smoke_study, unanalysed])
    overview = page("overview")
    assert "All studies" in _json(overview.layout())
    assert "Study bare" in _json(overview.layout(run="bare"))

    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="neither a run directory"):
        create_app([tmp_path / "empty"])
    with pytest.raises(DataError, match="no such run directory"):
        create_app([tmp_path / "absent"])


def test_attention_gallery_with_nothing_left_after_the_filters(app, smoke_study):
    """An empty selection under the overlay filter keeps its columns (a bare empty list dropped them: a 500)."""
    attention = page("attention")
    table = interp.results.load(smoke_study).attention()
    state = {"run": "smoke", "method": "gradcam", "subject": "nobody", "overlay": "yes"}
    rows = attention.filtered(table, state)
    assert rows.empty and list(rows.columns) == list(table.columns) and attention.pairs(rows) == []


def _component(tree, id_: str):
    """The component with ``id_`` in a Dash layout tree (None when absent)."""
    if getattr(tree, "id", None) == id_:
        return tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children] if children is not None else []:
        found = _component(child, id_)
        if found is not None:
            return found
    return None


def test_attention_page_shows_the_shift_plots_and_map_checks(app, smoke_study):
    attention = page("attention")
    results = interp.results.load(smoke_study)
    layout = attention.layout(run="smoke")
    for id_ in ("att-shift-forest", "att-shift-subjects", "att-shift-maps", "att-faith-curves", "att-faith-summary",
                "att-agreement"):
        assert _component(layout, id_) is not None, id_
    forest = _component(layout, "att-shift-forest").figure
    rows = results.attention_shift()
    rows = rows[(rows["quantity"] == "shift") & (rows["class"] == "all")].drop_duplicates("model").set_index("model")
    dots = {trace.name: trace.x[0] for trace in forest.data if trace.mode == "markers"}
    assert set(dots) == set(rows.index)
    for arm, x in dots.items():
        assert x == pytest.approx(rows.loc[arm, "effect"], nan_ok=True)
    cells = results.attention_difference_map()
    heatmaps = [trace for trace in _component(layout, "att-shift-maps").figure.data if trace.type == "heatmap"]
    assert len(heatmaps) == cells["model"].nunique() >= 1
    subjects = _component(layout, "att-shift-subjects").figure
    assert [annotation.text for annotation in subjects.layout.annotations] == ["upper face share", "lower face share"]
    summary = results.faithfulness()
    assert len(_component(layout, "att-faith-summary").rowData) == len(summary)
    assert len(_component(layout, "att-agreement").rowData) == len(results.attention_agreement())
