"""Region metrics, polygon rasterisation and the eyes-and-brows band."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.regions import REGION_METRICS, metric_metadata, score_regions
from interp.regions.eye_region import eye_region_polygon
from interp.regions.geometry import region_masks, to_input_frame
from interp.regions.mask_fraction import MaskFraction
from interp.regions.mask_fraction_ratio import MaskFractionRatio
from interp.regions.pointing_game import PointingGame
from interp.regions.rank_accuracy import RankAccuracy
from interp.regions.rasterise import rasterise_polygon
from trainers.errors import DataError

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
    assert np.isnan(PointingGame()(np.ones((32, 32)), region))
    assert np.isnan(RankAccuracy()(np.random.default_rng(0).random((32, 32)), empty))


def test_pointing_game_hits_and_misses():
    region = rasterise_polygon(SQUARE, (32, 32), (32, 32))
    hit = np.zeros((32, 32))
    hit[10, 12] = 5.0
    miss = np.zeros((32, 32))
    miss[0, 0] = 5.0
    tie = hit.copy()
    tie[0, 0] = 5.0  # a tie across the border is not a hit
    scores = PointingGame()(np.stack([hit, miss, tie]), np.stack([region] * 3))
    np.testing.assert_array_equal(scores, [1.0, 0.0, 0.0])


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
    assert metric.region in ("mask", "eyes")
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


def test_eye_band_covers_eyes_and_brows_not_mouth():
    landmarks = _ibug68()
    region = rasterise_polygon(eye_region_polygon(landmarks), (100, 100), (100, 100))
    for x, y in landmarks[list(range(17, 27)) + list(range(36, 48))]:
        assert region[int(y), int(np.clip(x, 0, 99))] or region[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2].any()
    assert not region[75:, :].any()


def test_eye_band_from_five_points_and_unknown_layout():
    five = np.array([[30.0, 40.0], [70.0, 40.0], [50.0, 60.0], [35.0, 75.0], [65.0, 75.0]])
    region = rasterise_polygon(eye_region_polygon(five), (100, 100), (100, 100))
    assert region[40, 30] and region[40, 70] and not region[75, 50]
    with pytest.raises(DataError, match="landmarks"):
        eye_region_polygon(np.zeros((7, 2)))


def test_input_frame_mapping_and_region_masks():
    points = to_input_frame(np.array([[100.0, 50.0], [300.0, 250.0]]), (100, 50, 300, 250), 64)
    np.testing.assert_allclose(points, [[0, 0], [64, 64]])
    with pytest.raises(DataError, match="crop box"):
        to_input_frame(points, (10, 10, 5, 20), 64)
    regions = region_masks(SQUARE, np.zeros((7, 2)), 32, (16, 16))
    assert regions["mask"].sum() == 64 and not regions["eyes"].any()


def test_eye_band_from_the_demo_landmark_layout():
    from trainers.data.demo.mesh import landmark_layout

    layout = landmark_layout()
    count = max(stop for _, stop in layout.values())
    points = np.column_stack([np.linspace(10, 90, count), np.full(count, 85.0)])
    for group in ("right_eye", "left_eye", "right_brow", "left_brow"):
        start, stop = layout[group]
        points[start:stop, 1] = np.linspace(25, 35, stop - start)
    region = rasterise_polygon(eye_region_polygon(points), (100, 100), (100, 100))
    assert region[30].any() and not region[80:].any()


def test_input_boxes_follow_the_cache_crop(tmp_path):
    import pandas as pd
    from PIL import Image

    from interp.regions.geometry import input_boxes
    from trainers.data.manifest import Manifest

    Image.new("RGB", (100, 80)).save(tmp_path / "a.png")
    table = pd.DataFrame([{"image_id": "a", "path": "a.png", "subject": "s", "label": "happy", "masked": False,
                           "pair_id": "", "source": "t", "face_box": "10,20,50,40"}])
    manifest = Manifest(table, tmp_path)
    assert input_boxes(manifest, [0], face_crop=True) == [(10.0, 10.0, 50.0, 50.0)]  # squared about its centre
    assert input_boxes(manifest, [0], face_crop=False) == [(0.0, 0.0, 100.0, 80.0)]
