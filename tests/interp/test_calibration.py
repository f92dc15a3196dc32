"""Calibration measures (interp.stats.calibration) against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from interp.stats.calibration import brier_score, expected_calibration_error, reliability_table

# Four images, three classes. Top-label confidence and whether the top label is right:
# .9 right (bin (.8, 1]), .7 wrong (bin (.6, .8]), .5 right and .6 right (both bin (.4, .6]: right-closed).
PROBS = np.array([[0.9, 0.05, 0.05], [0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
LABELS = np.array([0, 1, 1, 0])


def test_reliability_table_by_hand():
    table = reliability_table(PROBS, LABELS, bins=5)
    assert list(table["count"]) == [0, 0, 2, 1, 1]
    assert table["confidence"].iloc[2:].tolist() == pytest.approx([0.55, 0.7, 0.9])
    assert table["accuracy"].iloc[2:].tolist() == pytest.approx([1.0, 0.0, 1.0])
    assert table[["confidence", "accuracy"]].iloc[:2].isna().all().all()
    assert table["lower"].tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    assert table["upper"].tolist() == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_ece_by_hand():
    # gaps .45 (2 images), .7, .1: (2 * .45 + .7 + .1) / 4 = .425
    assert expected_calibration_error(PROBS, LABELS, bins=5) == pytest.approx(0.425)
    # 15 bins (default): .5 -> (.467, .533], .6 -> (.533, .6], .7 -> (.667, .733], .9 -> (.867, .933]:
    # every image alone: (.5 + .4 + .7 + .1) / 4
    assert expected_calibration_error(PROBS, LABELS) == pytest.approx((0.5 + 0.4 + 0.7 + 0.1) / 4)


def test_ece_is_the_weighted_table():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(500, 7)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 7, 500)
    table = reliability_table(probs, labels).dropna()
    expected = (table["count"] * (table["accuracy"] - table["confidence"]).abs()).sum() / 500
    assert expected_calibration_error(probs, labels) == pytest.approx(expected)
    assert reliability_table(probs, labels)["count"].sum() == 500


def test_brier_by_hand():
    # .01+.0025+.0025, .49+.64+.01, .04+.25+.09, .16+.09+.01 -> 1.795 / 4
    assert brier_score(PROBS, LABELS) == pytest.approx(1.795 / 4)


def test_extremes():
    confident = np.eye(7)[[0, 3, 6]]
    assert brier_score(confident, np.array([0, 3, 6])) == 0.0
    assert brier_score(confident, np.array([1, 4, 0])) == pytest.approx(2.0)
    assert expected_calibration_error(confident, np.array([0, 3, 6])) == 0.0
    assert expected_calibration_error(confident, np.array([1, 4, 0])) == pytest.approx(1.0)
    uniform = np.full((4, 7), 1 / 7)
    assert brier_score(uniform, np.array([0, 1, 2, 3])) == pytest.approx(1 - 1 / 7)


@pytest.mark.parametrize("probs, labels, message", [
    (np.array([0.5, 0.5]), np.array([0]), "shape"),
    (PROBS, LABELS[:3], "labels must have shape"),
    (PROBS, np.array([0, 1, 3, 0]), "class indices"),
    (PROBS * 2, LABELS, "summing to 1"),
])
def test_bad_input(probs, labels, message):
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(probs, labels)
    with pytest.raises(ValueError, match=message):
        brier_score(probs, labels)


def test_bad_bins():
    with pytest.raises(ValueError, match="bins"):
        reliability_table(PROBS, LABELS, bins=0)
