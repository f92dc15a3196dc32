"""The classes page's calibration panel and the statistics page's headline and primary test, on the smoke study."""

from __future__ import annotations

import json

import plotly

import interp.results
from interp.headline import primary_test
from tests.dashboards.conftest import page


def _ids(component, found: dict) -> dict:
    if getattr(component, "id", None):
        found[component.id] = component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children] if children is not None else []:
        _ids(child, found)
    return found


def test_classes_page_shows_calibration_under_masking(app, smoke_study):
    results = interp.results.load(smoke_study)
    found = _ids(page("classes").layout(), {})
    table = found["cls-calibration"].rowData
    assert {(row["arm"], row["images"]) for row in table} == {(arm, view) for arm in results.arms
                                                              for view in ("NM", "M")}
    reliability = found["cls-reliability"].figure
    assert {trace.name for trace in reliability.data} >= {f"{arm} {view}" for arm in results.arms
                                                         for view in ("NM", "M")}
    predicted = found["cls-predicted"].figure
    assert [trace.name for trace in predicted.data] == [*results.arms, "true share"]
    assert abs(sum(predicted.data[0].y) - 100) < 1e-6


def test_statistics_page_reads_the_primary_test_from_the_table(app, smoke_study):
    statistics = page("statistics")
    comparisons = interp.results.load(smoke_study).comparisons()
    assert statistics.options("smoke")["test"][0] == primary_test(comparisons) == "corrected-t"
    text = json.dumps(statistics.layout(), cls=plotly.utils.PlotlyJSONEncoder)
    assert "Headline hypotheses" in text and "table3-NM" in text
