"""The rows behind the attention-shift figures (shared by the dashboard and the report), by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from interp.attention_views import agreement_cells, difference_grid, faithfulness_cells, forest_rows, subject_shares
from interp.audit.config import AuditConfig
from trainers.common.options import build


def test_forest_rows_take_the_all_class_shift_test_in_arm_order():
    shift = pd.DataFrame({
        "quantity": ["shift", "shift", "did", "shift"], "class": ["all", "all", "all", "happy"],
        "model": ["cl", "baseline-pe", "cl", "cl"], "family": "f", "effect": [0.4, 0.1, 0.3, 9.0],
        "ci_low": [0.1, -0.2, 0.0, 8.0], "ci_high": [0.7, 0.4, 0.6, 10.0], "boot_low": [0.2, -0.1, 0.1, 8.5],
        "boot_high": [0.6, 0.3, 0.5, 9.5], "null_low": -0.2, "null_high": 0.2, "null_mean": 0.0})
    rows = forest_rows(shift, ["baseline-pe", "cl", "kd"])
    assert rows["model"].tolist() == ["baseline-pe", "cl"] and rows["effect"].tolist() == [0.1, 0.4]
    assert rows.loc[1, "boot_high"] == 0.6


def test_subject_shares_average_pairs_per_subject():
    pairs = pd.DataFrame({"model": "cl", "subject": ["a", "a", "b"], "share_upper_nm": [0.2, 0.4, 0.1],
                          "share_upper_m": [0.5, 0.7, np.nan], "share_lower_nm": [0.6, 0.4, 0.5],
                          "share_lower_m": [0.3, 0.1, 0.2]})
    shares = subject_shares(pairs, ["cl"]).set_index(["subject", "region"])
    assert shares.loc[("a", "upper face"), "nm"] == pytest.approx(0.3) and shares.loc[("a", "upper face"), "m"] == pytest.approx(0.6)
    assert ("b", "upper face") not in shares.index  # its only pair has no M share
    assert shares.loc[("b", "lower face"), "n_pairs"] == 1


def test_difference_grid_and_text_cells():
    cells = pd.DataFrame({"model": "cl", "row": [0, 0, 1, 1], "col": [0, 1, 0, 1], "u": [-1, 1, -1, 1],
                          "v": [-1, -1, 1, 1], "difference": [0.1, 0.2, 0.3, 0.4], "nm": 0.25, "m": 0.25})
    grid, u, v = difference_grid(cells, "cl")
    assert grid.tolist() == [[0.1, 0.2], [0.3, 0.4]] and u.tolist() == [-1, 1] and v.tolist() == [-1, 1]
    summary = pd.DataFrame({"model": "cl", "subset": "M", "measure": ["auc_deletion"], "mean": [0.12345],
                            "ci_low": [0.1], "ci_high": [0.2], "n_images": [4], "n_subjects": [2]})
    assert faithfulness_cells(summary).iloc[0].tolist() == ["cl", "M", "deletion AUC (lower = more faithful)",
                                                            "0.123", "[0.100, 0.200]", 4, 2]
    agreement = pd.DataFrame({"model": "cl", "subset": "all", "method_a": "gradcam", "method_b": "occlusion",
                              "n_images": 8, "spearman_u": 0.5, "n_pairs": 4, "mean_d_a": 0.2, "mean_d_b": np.nan,
                              "rank_a": 1.0, "rank_b": np.nan, "same_order": False}, index=[0])
    row = agreement_cells(agreement).iloc[0]
    assert row["methods"] == "gradcam vs occlusion" and row["rank (a / b)"] == "n/a" and row["arm order holds"] == "no"


def test_map_check_options_are_part_of_the_audit_options():
    config = build(AuditConfig, {"faithfulness.images": "4", "agreement.settings.steps": "8"}, "[attributions]")
    options = dataclasses.asdict(config)  # what the step's fingerprint hashes: changing them reruns the step
    assert options["faithfulness"]["images"] == 4 and options["agreement"]["settings"] == {"steps": 8}
    assert dataclasses.asdict(AuditConfig())["agreement"]["settings"] == {"steps": 4}
