"""The attention shift: face regions for every landmark layout, on-face shares and the shift index,
minimum evidence, randomised nulls, the uniform reference, and the subject-level tests."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from interp.audit.nulls import content_maps, parameterised_leaves
from interp.audit.sanity import draw_seed, randomise
from interp.audit.shift import coarse_band, shift_shares
from interp.audit.shift_pairs import shift_pairs
from interp.audit.summaries import null_references
from interp.regions.areas import AREAS, Geometry
from interp.regions.face_axes import apply, similarity
from interp.regions.mask_fraction import MaskFraction
from interp.regions.pointing_game import PointingGame
from interp.regions.rasterise import rasterise_polygon
from interp.stats.subject_tests import nested_means, sign_flip_test, subject_bootstrap_ci
from tests.study_fixture import smoke_study  # noqa: F401  (pytest fixture)
from trainers.data.landmarks import LAYOUTS

SIZE = 100
NEW_REGIONS = ("forehead", "mouth", "lower_face", "face")


def _arc(centre, radii, start, stop, count):
    angle = np.linspace(np.radians(start), np.radians(stop), count)
    return np.column_stack([centre[0] + radii[0] * np.cos(angle), centre[1] + radii[1] * np.sin(angle)])


SHAPES = {  # group -> points of a frontal face in a 100 x 100 image, in the vocabulary's order
    "face_oval": lambda n: _arc((50, 52), (30, 42), -90, 270, n),
    "jaw": lambda n: _arc((50, 50), (30, 40), 180, 0, n),  # one ear round the chin (y = 90) to the other
    "right_brow": lambda n: np.column_stack([np.linspace(28, 44, n), np.full(n, 33.0)]),
    "left_brow": lambda n: np.column_stack([np.linspace(56, 72, n), np.full(n, 33.0)]),
    "right_eye": lambda n: _arc((36, 40), (6, 2.5), 0, 360, n) if n > 1 else np.array([[36.0, 40.0]]),
    "left_eye": lambda n: _arc((64, 40), (6, 2.5), 0, 360, n) if n > 1 else np.array([[64.0, 40.0]]),
    "right_iris": lambda n: _arc((36, 40), (1.5, 1.5), 0, 360, n),
    "left_iris": lambda n: _arc((64, 40), (1.5, 1.5), 0, 360, n),
    "nose": lambda n: np.column_stack([np.full(n, 50.0), np.linspace(42, 58, n)]),
    "nose_bridge": lambda n: np.column_stack([np.full(n, 50.0), np.linspace(42, 50, n)]),
    "nose_tip": lambda n: np.array([[50.0, 58.0]] * n),
    "lips_outer": lambda n: _arc((50, 70), (9, 4), 0, 360, n),
    "lips_inner": lambda n: _arc((50, 70), (6, 1.5), 0, 360, n),
    "mouth_corners": lambda n: np.array([[41.0, 70.0], [59.0, 70.0]])[:n],
}


def face(layout_name: str) -> np.ndarray:
    """Landmarks of the same synthetic frontal face in any layout."""
    layout = LAYOUTS[layout_name]
    points = np.zeros((layout.size, 2))
    for group, shape in SHAPES.items():
        if layout.has(group):
            points[list(layout.groups[group])] = shape(len(layout.groups[group]))
    return points


def regions_of(geometry: Geometry, size: int = SIZE) -> dict[str, np.ndarray]:
    return {name: rasterise_polygon(area.polygon(geometry), (size, size), (size, size))[None]
            for name, area in AREAS.items()}


def _centre_y(region: np.ndarray) -> float:
    return float(np.nonzero(region[0])[0].mean())


@pytest.mark.parametrize("layout", ["demo-148", "mediapipe-478", "mediapipe-468", "ibug-68", "five-point"])
def test_face_regions_sit_where_they_belong_for_every_layout(layout):
    regions = regions_of(Geometry(landmarks=face(layout), layout=LAYOUTS[layout]))
    assert all(regions[name].any() for name in NEW_REGIONS)
    assert _centre_y(regions["forehead"]) < 33 < _centre_y(regions["eyes"]) + 3  # the band rises from the brows
    assert regions["mouth"][0, 70, 50] and not regions["mouth"][0, 40, 36]
    assert regions["lower_face"][0, 70, 50] and not regions["lower_face"][0, 35, 36]
    assert regions["face"][0, 50, 50] and not regions["face"][0, 50, 5]
    shares = shift_shares(np.ones((1, SIZE, SIZE)), regions)
    assert shares["shift_index"].iloc[0] == pytest.approx(0.0)  # a uniform map scores its areas


def test_similarity_transform_recovers_a_rotation_scale_and_shift():
    source = face("ibug-68")
    angle, scale, shift = np.radians(12), 0.8, np.array([5.0, -3.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = scale * source @ rotation.T + shift
    transform = similarity(source[36:48], target[36:48])
    np.testing.assert_allclose(apply(transform, source), target, atol=1e-9)


def test_lower_face_regions_follow_the_anchor_landmarks_not_the_own_guess():
    own = face("ibug-68")
    guessed = own.copy()
    guessed[48:68, 1] -= 15  # a masked photo's detector put the mouth on the nose
    plain = regions_of(Geometry(landmarks=guessed, layout=LAYOUTS["ibug-68"]))
    anchored = regions_of(Geometry(landmarks=guessed, layout=LAYOUTS["ibug-68"], lower_landmarks=own))
    assert not plain["mouth"][0, 70, 50] and anchored["mouth"][0, 70, 50]
    np.testing.assert_array_equal(plain["eyes"], anchored["eyes"])  # only the lower face moves


def _toy_regions() -> dict[str, np.ndarray]:
    regions = {name: np.zeros((1, 56, 56), dtype=bool) for name in ("face", "forehead", "eyes", "lower_face", "mouth")}
    regions["face"][:, 8:54, 8:48] = True
    regions["forehead"][:, 8:16, 8:48] = True
    regions["eyes"][:, 16:26, 8:48] = True
    regions["lower_face"][:, 30:54, 8:48] = True
    regions["mouth"][:, 40:46, 18:38] = True
    return regions


def test_a_map_moving_from_the_lower_to_the_upper_face_gives_a_positive_d():
    regions = _toy_regions()
    lower, upper = np.zeros((1, 56, 56)), np.zeros((1, 56, 56))
    lower[:, 35:50, 10:46] = 1.0
    upper[:, 18:24, 10:46] = 1.0
    nm, m = shift_shares(lower, regions), shift_shares(upper, regions)
    assert m["shift_index"].iloc[0] > 0 > nm["shift_index"].iloc[0]
    images = pd.DataFrame({"model": "cl", "fold": 0, "image_id": ["a", "b"], "pair_id": "p", "subject": "s",
                           "label": "happy", "target": "happy", "masked": [False, True], "correct": True,
                           **pd.concat([nm, m], ignore_index=True)})
    pairs = shift_pairs(images)
    assert len(pairs) == 1 and pairs["d"].iloc[0] > 0 and pairs["correct_both"].iloc[0]


def test_a_uniform_map_has_shares_equal_to_areas_and_no_shift():
    regions = _toy_regions()
    shares = shift_shares(np.full((1, 56, 56), 0.3), regions, grid=(7, 7)).iloc[0]
    for name in ("eyes", "forehead", "upper", "lower", "mouth"):
        assert shares[f"share_{name}"] == pytest.approx(shares[f"area_{name}"])
    assert shares["shift_index"] == pytest.approx(0.0) and shares["positive_share"] == 1.0


def test_near_empty_evidence_is_nan_never_a_full_score():
    regions = _toy_regions()
    maps = -np.ones((1, 56, 56))
    maps[0, 40, 20] = 1e-9  # one tiny positive pixel, on the mask-like lower face
    shares = shift_shares(maps, regions).iloc[0]
    assert shares["low_evidence"] and np.isnan(shares["shift_index"]) and np.isnan(shares["share_lower"])
    assert np.isnan(MaskFraction()(maps, regions["lower_face"])[0])
    assert np.isnan(PointingGame()(maps, regions["lower_face"])[0])


def test_the_coarse_band_leaves_out_cells_both_regions_touch():
    upper, lower = np.zeros((1, 56, 56), dtype=bool), np.zeros((1, 56, 56), dtype=bool)
    upper[:, 10:20] = True
    lower[:, 20:40] = True  # rows 16-23 form one 8-pixel cell that both touch
    band = coarse_band(upper, lower, (7, 7))
    assert band[0, 16:24].all() and not band[0, :16].any() and not band[0, 24:].any()
    assert not coarse_band(upper, lower, (56, 56)).any()  # a map as fine as the pixels keeps everything


def test_two_resnets_randomised_with_different_seeds_differ():
    from trainers.models import create

    first, second = create("resnet18", 6), create("resnet18", 6)
    randomise(parameterised_leaves(first), draw_seed(0, "cl", 0, "null", 0))
    randomise(parameterised_leaves(second), draw_seed(0, "cl", 1, "null", 0))  # another fold
    weights = [(a, b) for a, b in zip(first.parameters(), second.parameters())]
    assert not all(np.allclose(a.detach(), b.detach()) for a, b in weights)
    randomise(parameterised_leaves(second), draw_seed(0, "cl", 0, "null", 0))  # the same keys draw the same net
    assert all(np.allclose(a.detach(), b.detach()) for a, b in zip(first.parameters(), second.parameters()))
    assert draw_seed(0, "cl", 0) != draw_seed(0, "kd", 0)


def test_the_uniform_reference_is_the_metric_mean_of_uniform_maps_over_the_scored_images():
    masks = np.zeros((4, 10, 10), dtype=bool)
    masks[0, :3], masks[1, :3], masks[2, :3] = True, True, True  # three images with a 0.3 polygon, one with none
    uniform = np.ones((4, 10, 10))
    images = pd.DataFrame({"model": "cl", "fold": 0, "image_id": list("abcd"), "label": "happy", "masked": True,
                           "mask_share": masks.mean(axis=(1, 2)), "mask_fraction": MaskFraction()(uniform, masks)})
    reference = null_references(images, []).set_index(["model", "subset", "class"])
    assert reference.loc[("cl", "M", "all"), "mask_share"] == pytest.approx(images["mask_fraction"].mean())
    assert reference.loc[("cl", "M", "all"), "mask_share"] == pytest.approx(0.3)


def test_sign_flip_matches_an_exact_enumeration():
    values = np.array([0.8, -0.1, 0.5, 0.3, 1.1])
    observed = abs(values.mean())
    hits = [abs(np.mean(np.array(signs) * values)) >= observed - 1e-12
            for signs in itertools.product((1, -1), repeat=len(values))]
    p, exact = sign_flip_test(values)
    assert exact and p == pytest.approx(np.mean(hits)) and p == pytest.approx(4 / 32)  # +-all, +-with -0.1 flipped
    sampled, exact = sign_flip_test(values, exact_limit=0, n_perm=20000)
    assert not exact and sampled == pytest.approx(p, abs=0.01)


def test_nested_means_and_the_subject_bootstrap():
    frame = pd.DataFrame({"fold": [0, 0, 0, 1, 1], "subject": ["a", "a", "b", "c", "c"],
                          "d": [1.0, 3.0, 0.0, 4.0, np.nan]})
    means = nested_means(frame)
    assert means.subjects["value"].tolist() == [2.0, 0.0, 4.0] and means.folds["value"].tolist() == [1.0, 4.0]
    assert means.effect == pytest.approx(2.5)
    low, high = subject_bootstrap_ci(means.subjects, n_boot=500)
    assert 2.0 <= low <= 2.5 <= high <= 3.0  # fold 1 has one subject: only fold 0's mean varies (0 to 2)


def test_the_content_map_is_a_smoothed_gradient_energy():
    image = np.zeros((1, 56, 56, 3), dtype=np.uint8)
    image[:, 28:] = 255  # one horizontal edge
    energy = content_maps(image)
    assert energy[0, 27:29].min() > 0 and energy[0, :20].max() == 0
    coarse = content_maps(image, (7, 7))
    assert coarse.shape == (1, 56, 56) and coarse[0, 28].mean() > coarse[0, 5].mean()


def test_the_smoke_study_has_the_attention_shift_tables(smoke_study):
    from interp.report.sections.limitations import _coarse_gradcam
    from interp.results import load
    from interp.shift_text import shift_printout

    results = load(smoke_study)
    shift = results.attention_shift()
    assert {"shift", "learned", "shift-correct-both", "did"} <= set(shift["quantity"])
    assert set(shift.loc[shift["quantity"] == "did", "reference"]) == {"baseline-mix"}  # no baseline-pe in smoke
    pairs = results.attention_shift(pairs=True)
    assert len(pairs) and pairs["d"].notna().any() and (pairs["pair_id"] != "").all()
    assert results.attention_null()["n_draws"].max() == 20
    layers = results.attention_layers()
    assert set(layers["model"]) == set(results.arms) and (layers["input_size"] == 32).all()
    assert "difference in differences" in shift_printout(shift, "gradcam")
    grid = int(layers["grid_h"].iloc[0])
    assert f"{grid}x{grid} cells at 32 px" in _coarse_gradcam(results)[0]  # read from audit.json, not guessed


def test_the_null_pool_shares_draws_within_a_map_kind_and_keeps_folds_apart():
    import torch

    from interp.audit.nulls import NullPool
    from trainers.models import create

    images = pd.DataFrame({"image_id": ["a-n", "a-m", "b-n", "b-m"], "pair_id": ["a", "a", "b", "b"],
                           "subject": ["s1", "s1", "s2", "s2"]})
    chosen = {("cl", 0): ["a-n", "a-m"], ("cl", 1): ["b-n", "b-m"], ("kd", 0): ["a-n", "a-m"]}
    regions = {name: np.zeros((2, 32, 32), dtype=bool) for name in AREAS}
    for name in ("face", "eyes", "lower_face", "mask"):
        regions[name][:, 4:28, 4:28] = True

    def inputs_of(ids):
        return torch.randn(len(ids), 3, 32, 32, generator=torch.Generator().manual_seed(0)), np.zeros(len(ids), int), {
            name: np.repeat(region[:1], len(ids), axis=0) for name, region in regions.items()}

    model = create("resnet18", 6)
    options = {"draws": 2, "pairs": 1, "method": "gradcam", "batch_size": 8, "settings": {"min_side": 0}, "seed": 0}
    shared = NullPool.plan(images, chosen, shared=True, **options)
    fold0 = shared.explain(model, "cl", "resnet", 0, inputs_of, None)
    assert set(fold0["image_id"]) == {"a-n", "a-m"} and set(fold0["draw"]) == {0, 1}
    assert fold0.equals(shared.explain(model, "kd", "resnet", 0, inputs_of, None))  # one kind: the same draws
    assert set(shared.explain(model, "cl", "resnet", 1, inputs_of, None)["image_id"]) == {"b-n", "b-m"}
    own = NullPool.plan(images, chosen, shared=False, **options)
    first = own.explain(model, "cl", "resnet", 0, inputs_of, None)
    other = own.explain(model, "kd", "resnet", 0, inputs_of, None)
    assert not np.allclose(first["positive_share"], other["positive_share"])
