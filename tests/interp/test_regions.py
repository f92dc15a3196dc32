"""Region metrics, polygon rasterisation and the eyes-and-brows band."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.regions import REGION_METRICS, metric_metadata, score_regions
from interp.regions import geometry
from interp.regions.areas import AREAS, Area, Geometry
from interp.regions.geometry import region_masks
from interp.regions.mask_fraction import MaskFraction
from interp.regions.mask_fraction_ratio import MaskFractionRatio
from interp.regions.pointing_game import PointingGame
from interp.regions.rank_accuracy import RankAccuracy
from interp.regions.rasterise import rasterise_polygon
from trainers.data.landmarks import DEMO_148, LAYOUTS
from trainers.common.errors import DataError
from trainers.common.registry import Registry

SQUARE = np.array([[8, 8], [24, 8], [24, 24], [8, 24]], dtype=float)


def test_square_rasterises_to_its_pixels_at_any_map_size():
    full = rasterise_polygon(SQUARE, (32, 32), (32, 32))
    expected = np.zeros((32, 32), dtype=bool)
    expected[8:24, 8:24] = True
    np.testing.assert_array_equal(full, expected)
    half = rasterise_polygon(SQUARE, (32, 32), (16, 16))
    assert half.sum() == 64 and half[4:12, 4:12].all()


def test_rasterised_area_converges_to_polygon_area():
    triangle = np.array([[10.0, 5.0], [90.0, 20.0], [40.0, 95.0]])
    x, y = triangle[:, 0], triangle[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    region = rasterise_polygon(triangle, (100, 100), (400, 400))
    assert region.mean() * 100 * 100 == pytest.approx(area, rel=0.01)


def test_non_square_frame_scales_axes_independently():
    region = rasterise_polygon(np.array([[0, 0], [50, 0], [50, 10], [0, 10]]), (100, 20), (20, 20))
    assert region[:10, :10].all() and region.sum() == 100


def test_missing_polygon_gives_empty_region():
    assert not rasterise_polygon(None, (32, 32), (8, 8)).any()
    assert not rasterise_polygon(np.zeros((2, 2)), (32, 32), (8, 8)).any()


def _inside_outside():
    region = rasterise_polygon(SQUARE, (32, 32), (32, 32))
    inside = np.where(region, 1.0, 0.0)
    outside = np.where(region, -0.5, 2.0)  # negative evidence on the region must not count
    return region, inside, outside


def test_mask_fraction_one_and_zero_cases():
    region, inside, outside = _inside_outside()
    scores = MaskFraction()(np.stack([inside, outside]), np.stack([region, region]))
    np.testing.assert_allclose(scores, [1.0, 0.0])


def test_mask_fraction_of_uniform_map_is_area_share_and_ratio_is_one():
    region = rasterise_polygon(SQUARE, (32, 32), (32, 32))
    uniform = np.full((1, 32, 32), 3.0)
    assert MaskFraction()(uniform, region[None])[0] == pytest.approx(0.25)
    assert MaskFractionRatio()(uniform, region[None])[0] == pytest.approx(1.0)


def test_ratio_above_one_when_over_attending():
    region, inside, _ = _inside_outside()
    assert MaskFractionRatio()(inside, region) == pytest.approx(4.0)


def test_undefined_cases_are_nan():
    region = rasterise_polygon(SQUARE, (32, 32), (32, 32))
    empty = np.zeros_like(region)
    assert np.isnan(MaskFraction()(np.zeros((32, 32)), region))
    assert np.isnan(MaskFraction()(np.ones((32, 32)), empty))
    assert np.isnan(PointingGame()(-np.ones((32, 32)), region))  # no positive evidence
    assert np.isnan(RankAccuracy()(np.random.default_rng(0).random((32, 32)), empty))


def test_pointing_game_hits_and_misses():
    region = rasterise_polygon(SQUARE, (32, 32), (32, 32))
    hit = np.zeros((32, 32))
    hit[10, 12] = 5.0
    miss = np.zeros((32, 32))
    miss[0, 0] = 5.0
    tie = hit.copy()
    tie[0, 0] = 5.0  # a tie across the border: half of the tied maxima are inside
    scores = PointingGame()(np.stack([hit, miss, tie]), np.stack([region] * 3))
    np.testing.assert_array_equal(scores, [1.0, 0.0, 0.5])


def test_rank_accuracy_counts_top_k_pixels():
    region = np.zeros((4, 4), dtype=bool)
    region[0, :2] = True  # K = 2
    ranked = np.zeros((4, 4))
    ranked[0, 0], ranked[3, 3] = 9.0, 8.0  # top two: one inside, one outside
    assert RankAccuracy()(ranked, region) == pytest.approx(0.5)
    assert RankAccuracy()(region.astype(float), region) == pytest.approx(1.0)
    assert RankAccuracy()((~region).astype(float), region) == pytest.approx(0.0)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="same shape"):
        MaskFraction()(np.ones((2, 8, 8)), np.ones((2, 4, 4), dtype=bool))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.01, 100.0))
def test_every_metric_is_bounded_and_scale_invariant(seed, scale):
    rng = np.random.default_rng(seed)
    maps = rng.normal(size=(3, 12, 12))
    regions = {"mask": rng.random((3, 12, 12)) < 0.3, "eyes": rng.random((3, 12, 12)) < 0.2}
    scores = score_regions(maps, regions)
    scaled = score_regions(maps * scale, regions)
    for name, values in scores.items():
        np.testing.assert_allclose(values, scaled[name], rtol=1e-9, err_msg=name)
        finite = values[np.isfinite(values)]
        assert (finite >= 0).all(), name
        if not name.endswith("_ratio"):
            assert (finite <= 1).all(), name


@pytest.mark.parametrize("name", list(REGION_METRICS))
def test_metrics_describe_themselves(name):
    metric = REGION_METRICS[name]
    assert metric.name == name
    assert metric.region in AREAS
    assert metric.direction in ("higher", "lower", "neutral")
    assert metric.reference and metric.description
    assert {row["name"] for row in metric_metadata()} == set(REGION_METRICS)


def _ibug68(eye_y: float = 30.0) -> np.ndarray:
    points = np.zeros((68, 2))
    points[:, 0] = np.linspace(10, 90, 68)
    points[:, 1] = 80.0  # jaw, nose, mouth low on the face
    points[17:27, 1] = eye_y - 10  # brows
    points[36:48, 1] = eye_y + np.tile([-2.0, 2.0], 6)  # eyelids
    return points


def _eyes(landmarks: np.ndarray, layout: str) -> np.ndarray:
    polygon = AREAS["eyes"].polygon(Geometry(landmarks=landmarks, layout=LAYOUTS[layout]))
    return rasterise_polygon(polygon, (100, 100), (100, 100))


def test_eye_band_covers_eyes_and_brows_not_mouth():
    landmarks = _ibug68()
    region = _eyes(landmarks, "ibug-68")
    for x, y in landmarks[list(range(17, 27)) + list(range(36, 48))]:
        assert region[int(y), int(np.clip(x, 0, 99))] or region[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2].any()
    assert not region[75:, :].any()


def test_eye_band_from_five_points_and_a_wrong_layout():
    five = np.array([[30.0, 40.0], [70.0, 40.0], [50.0, 60.0], [35.0, 75.0], [65.0, 75.0]])
    region = _eyes(five, "five-point")
    assert region[40, 30] and region[40, 70] and not region[75, 50]
    with pytest.raises(DataError, match="landmark_layout ibug-68 has 68 points, the landmarks have 5"):
        _eyes(five, "ibug-68")


def test_region_masks_cover_every_registered_region():
    regions = region_masks(Geometry(mask_polygon=SQUARE, landmarks=np.zeros((5, 2)), layout=LAYOUTS["ibug-68"]),
                           32, (16, 16))
    assert set(regions) == set(AREAS)
    assert regions["mask"].sum() == 64 and not regions["eyes"].any()  # a layout mismatch leaves the band empty


def test_eye_band_from_the_demo_landmark_layout():
    points = np.column_stack([np.linspace(10, 90, DEMO_148.size), np.full(DEMO_148.size, 85.0)])
    for group in ("right_eye", "left_eye", "right_brow", "left_brow"):
        rows = list(DEMO_148.groups[group])
        points[rows, 1] = np.linspace(25, 35, len(rows))
    region = _eyes(points, "demo-148")
    assert region[30].any() and not region[80:].any()


def test_a_new_region_is_one_registry_entry(monkeypatch):
    class Nose(Area):
        name = "nose_test"
        description = "the nose bridge landmarks as a polygon"

        def polygon(self, geometry):
            return geometry.layout.points(geometry.landmarks, "nose_bridge")

    areas = Registry("region")
    for name, area in AREAS.items():
        areas.add(name, area)
    areas.add(Nose.name, Nose())
    monkeypatch.setattr(geometry, "AREAS", areas)
    landmarks = _ibug68()
    landmarks[27:36] = [[40, 40], [60, 40], [60, 60], [40, 60], [50, 50], [45, 45], [55, 45], [55, 55], [45, 55]]
    regions = region_masks(Geometry(landmarks=landmarks, layout=LAYOUTS["ibug-68"]), 100, (10, 10))
    assert set(regions) == {*AREAS, "nose_test"}
    assert regions["nose_test"][5, 5] and regions["nose_test"].sum() == 4 and not regions["mask"].any()


def test_importing_regions_does_not_load_the_demo_generator():
    import subprocess
    import sys

    code = ("import sys, interp.regions, interp.regions.geometry; "
            "from interp.regions.areas import AREAS; list(AREAS); "
            "loaded = [m for m in sys.modules if m.startswith('trainers.data.demo')]; "
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True)
