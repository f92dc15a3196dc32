"""Region metrics are tie-neutral and order-free: uniform maps score the region's share, flips change nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.regions import REGION_METRICS, score_regions
from interp.regions.pointing_game import PointingGame
from interp.regions.rank_accuracy import RankAccuracy


def _lower_face(size: int = 16) -> np.ndarray:
    region = np.zeros((size, size), dtype=bool)
    region[size // 2:, 2:-2] = True  # a lower-face mask
    return region


def test_uniform_map_scores_the_region_share():
    region = _lower_face()
    share = region.mean()
    uniform = np.full(region.shape, 0.7)
    assert RankAccuracy()(uniform, region) == pytest.approx(share)
    assert RankAccuracy()(uniform, ~region) == pytest.approx(1 - share)
    assert PointingGame()(uniform, region) == pytest.approx(share)


def test_ties_at_the_kth_value_share_their_places():
    region = np.zeros((4, 4), dtype=bool)
    region[0, :2] = True  # K = 2
    values = np.zeros((4, 4))
    values[0, 0] = 9.0  # one sure hit, then one place for the three pixels tied at 5 (one inside)
    values[0, 1] = values[3, 3] = values[2, 2] = 5.0
    assert RankAccuracy()(values, region) == pytest.approx((1 + 1 / 3) / 2)


def test_negative_evidence_is_ignored_and_all_negative_is_nan():
    region = _lower_face()
    signed = np.where(region, -0.01, 0.0)  # small enough to leave the map its minimum positive share
    signed[0, 0] = 1.0  # the only positive evidence is off the region
    scores = score_regions(np.stack([signed, -np.ones_like(signed)]), {"mask": np.stack([region] * 2),
                                                                      "eyes": np.stack([~region] * 2)})
    assert scores["mask_fraction"][0] == 0.0 and scores["pointing_game_mask"][0] == 0.0
    # the zero-valued rest ties: the one place left after (0, 0) goes to the tied zeros, region's share of them
    assert scores["rank_accuracy_mask"][0] < region.mean() + 1e-9
    for name, values in scores.items():
        assert np.isnan(values[1]), name


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), levels=st.integers(2, 5))
def test_flipping_map_and_region_changes_no_metric(seed, levels):
    rng = np.random.default_rng(seed)
    maps = rng.integers(0, levels, size=(3, 10, 10)).astype(float)  # few levels: many ties
    regions = {"mask": rng.random((3, 10, 10)) < 0.4, "eyes": rng.random((3, 10, 10)) < 0.2}
    scores = score_regions(maps, regions)
    for axis in (1, 2):
        flipped = score_regions(np.flip(maps, axis), {k: np.flip(v, axis) for k, v in regions.items()})
        for name in REGION_METRICS:
            np.testing.assert_allclose(flipped[name], scores[name], rtol=1e-12, err_msg=name)
