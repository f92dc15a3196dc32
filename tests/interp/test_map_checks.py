"""The audit's map checks with known answers: method agreement, the common face frame, the summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interp.audit.agreement import agreement_summary, pair_differences
from interp.audit.face_frame import GRID, difference_map, frame_coordinates, warp
from interp.audit.map_checks import AgreementConfig, FaithfulnessConfig, MapChecks, faithfulness_summary
from interp.regions.face_axes import FaceAxes
from trainers.common.errors import DataError


def _agreement_images(shifts: dict[str, float], flip: bool = False) -> pd.DataFrame:
    """Two pairs per arm; U(NM) = 0, U(M) = the arm's shift (+ a per-pair offset); method b = a (or -a)."""
    rows = []
    for model, shift in shifts.items():
        for pair in range(2):
            for masked in (False, True):
                u = (shift + 0.1 * pair if masked else 0.05 * pair)
                rows.append({"model": model, "fold": 0, "pair_id": f"p{pair}", "masked": masked, "u_a": u,
                             "u_b": -u if flip else 2 * u + 1})
    return pd.DataFrame(rows)


def test_identical_rankings_agree_and_keep_the_arm_order():
    images = _agreement_images({"baseline": 0.0, "cl": 1.0, "kd": 0.5})
    summary = agreement_summary(images, "gradcam", "integrated_gradients")
    overall = summary[summary["subset"] == "all"].set_index("model")
    assert overall["spearman_u"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert overall.loc["cl", "mean_d_a"] == pytest.approx(1.025) and overall.loc["cl", "mean_d_b"] == pytest.approx(2.05)
    assert overall["rank_a"].tolist() == [3, 1, 2] and overall["rank_a"].tolist() == overall["rank_b"].tolist()
    assert summary["same_order"].all() and summary["kendall_tau"].iloc[0] == pytest.approx(1.0)
    assert set(summary["subset"]) == {"all", "NM", "M"} and (summary["n_pairs"] == 2).all()


def test_a_reversed_method_breaks_the_arm_order():
    summary = agreement_summary(_agreement_images({"baseline": 0.0, "cl": 1.0, "kd": 0.5}, flip=True), "a", "b")
    assert not summary["same_order"].any() and summary["kendall_tau"].iloc[0] == pytest.approx(-1.0)
    assert summary.loc[summary["subset"] == "all", "spearman_u"].tolist() == pytest.approx([-1.0, -1.0, -1.0])


def test_pair_differences_skip_incomplete_pairs():
    images = _agreement_images({"cl": 1.0})
    images = images[~((images["pair_id"] == "p1") & images["masked"])]
    pairs = pair_differences(images)
    assert pairs["pair_id"].tolist() == ["p0"] and pairs["d_a"].iloc[0] == pytest.approx(1.0)


def _axes(origin=(20.0, 16.0), distance=10.0) -> FaceAxes:
    return FaceAxes(np.array(origin), np.array([1.0, 0.0]), np.array([0.0, 1.0]), distance)


def test_warp_puts_evidence_at_the_eyes_wherever_the_face_is():
    u, v = frame_coordinates()
    for origin, distance in (((20.0, 16.0), 10.0), ((30.0, 22.0), 6.0)):
        axes = _axes(origin, distance)
        attribution = np.zeros((48, 48))
        x, y = axes.to_image(np.array([[-0.5, 0.0]]))[0]  # the right eye centre in the image
        attribution[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2] = 1.0
        warped = warp(attribution, axes)
        assert warped.sum() == pytest.approx(1.0)
        row, col = np.unravel_index(np.argmax(warped), warped.shape)
        assert abs(u[col] + 0.5) < 0.25 and abs(v[row]) < 0.25
    assert np.isnan(warp(-np.ones((48, 48)), _axes())).all()  # no positive evidence


def test_difference_map_is_the_mean_masked_minus_non_masked_share():
    upper, lower = np.zeros((GRID, GRID)), np.zeros((GRID, GRID))
    upper[5, 10], lower[25, 10] = 1.0, 1.0
    warped = pd.DataFrame([
        {"model": "cl", "fold": 0, "pair_id": "p0", "masked": False, "map": lower},
        {"model": "cl", "fold": 0, "pair_id": "p0", "masked": True, "map": upper},
        {"model": "cl", "fold": 1, "pair_id": "p1", "masked": False, "map": lower},
        {"model": "cl", "fold": 1, "pair_id": "p1", "masked": True, "map": lower},
        {"model": "cl", "fold": 1, "pair_id": "p2", "masked": True, "map": upper},  # no NM partner: left out
    ])
    cells = difference_map(warped).set_index(["row", "col"])
    assert cells["n_pairs"].iloc[0] == 2
    assert cells.loc[(5, 10), "difference"] == pytest.approx(0.5) and cells.loc[(25, 10), "difference"] == pytest.approx(-0.5)
    assert cells["difference"].sum() == pytest.approx(0.0) and cells["m"].sum() == pytest.approx(1.0)


def test_faithfulness_summary_means_and_subject_intervals():
    images = pd.DataFrame({"model": "cl", "subset": ["NM", "NM", "M", "M"], "subject": ["a", "b", "a", "b"],
                           **{m: [0.1, 0.3, 0.5, np.nan] for m in
                              ("auc_deletion", "auc_insertion", "p_target", "drop_upper", "drop_upper_control",
                               "excess_upper", "drop_lower", "drop_lower_control", "excess_lower")}})
    summary = faithfulness_summary(images).set_index(["subset", "measure"])
    row = summary.loc[("NM", "auc_deletion")]
    assert row["mean"] == pytest.approx(0.2) and row["n_images"] == 2 and row["n_subjects"] == 2
    assert 0.1 - 1e-9 <= row["ci_low"] <= row["ci_high"] <= 0.3 + 1e-9
    assert summary.loc[("M", "drop_lower"), "n_images"] == 1


def test_bad_options_name_the_option():
    with pytest.raises(DataError, match="steps"):
        FaithfulnessConfig(steps=0)
    with pytest.raises(DataError, match="agreement"):
        AgreementConfig(images=-1)
    pool = pd.DataFrame({"image_id": ["a", "b"], "pair_id": ["p", "p"], "subject": ["s", "s"]})
    with pytest.raises(DataError, match="own method"):
        MapChecks.plan(pool, "integrated_gradients", FaithfulnessConfig(), AgreementConfig())
    checks = MapChecks.plan(pool, "gradcam", FaithfulnessConfig(images=0), AgreementConfig(images=2))
    assert checks.faithful_ids == set() and checks.agreement_ids == {"a", "b"}
