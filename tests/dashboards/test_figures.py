"""Figure builders: pure functions of tables."""

from __future__ import annotations

import pandas as pd

from dashboards.figures.attention import RANDOMISED, UNIFORM, distribution


def _images() -> pd.DataFrame:
    return pd.DataFrame({"model": ["cl", "cl", "kd"], "image_id": ["a", "b", "a"],
                         "mask_fraction": [0.5, 0.7, 0.2], "mask_share": [0.4, 0.45, 0.4]})


def test_distribution_draws_both_null_references():
    figure = distribution(_images(), "mask_fraction", {"cl": "#009E73"}, reference=True,
                          randomised={"cl": 0.35, "kd": float("nan"), "absent": 0.1})
    names = [trace.name for trace in figure.data]
    assert names == ["cl", "kd", RANDOMISED, UNIFORM]
    marker = figure.data[2]
    assert list(marker.x) == ["cl"] and list(marker.y) == [0.35]


def test_distribution_without_references():
    figure = distribution(_images(), "mask_fraction", {}, reference=False)
    assert [trace.name for trace in figure.data] == ["cl", "kd"]
    assert "no audited image" in str(distribution(_images().iloc[:0], "mask_fraction", {}, True).layout)
