"""interp.sensitivity_views: the mask-sensitivity cells shared by the dashboard and the report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from interp.sensitivity_views import NO_LABELS, sensitivity_cells


def test_cells_format_rates_pairs_and_missing_sides():
    summary = pd.DataFrame([{
        "model": "fer", "class": "happy", "n_pairs": 12, "flip_rate": 0.25, "flip_ci_low": 0.1, "flip_ci_high": 0.5,
        "drop_mean": 0.1234, "kl_mean": 0.5, "accuracy_nm": np.nan, "accuracy_m": np.nan, "ece_nm": np.nan,
        "ece_m": np.nan, "brier_nm": np.nan, "brier_m": np.nan, "mask_fraction_nm_mean": np.nan,
        "mask_fraction_m_mean": 0.2}])
    row = sensitivity_cells(summary).iloc[0]
    assert row["flip rate [95% CI]"] == "25.0% [10.0, 50.0]" and row["drop"] == "0.123" and row["pairs"] == 12
    assert row["accuracy NM / M"] == NO_LABELS and row["Brier NM / M"] == NO_LABELS
    assert row["mask fraction NM / M"] == "n/a / 0.200"  # a side without a map says so, not 'nan'
