"""Statistical tests against hand computations and known tables."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from interp.runs import open_run
from interp.stats import (
    PAIRWISE_TESTS, UnderpoweredFamilyWarning, adjust, check_family, cluster_bootstrap_difference,
    clustered_mcnemar_test, corrected_resampled_ttest, describe_tests, friedman_test, wilcoxon_folds,
)
from interp.stats.comparisons import ComparisonConfig, comparison_table, default_families, pick_baseline
from trainers.common.errors import DataError

A = [0.80, 0.75, 0.90, 0.85, 0.70]
B = [0.70, 0.72, 0.80, 0.86, 0.65]


def test_corrected_ttest_against_hand_computation():
    # d = .10 .03 .10 -.01 .05: mean .054, sum of squared deviations .00892, var .00223;
    # factor 1/5 + 100/400 = .45; t = .054 / sqrt(.45 * .00223) = 1.704649...
    result = corrected_resampled_ttest(A, B, n_train=400, n_test=100)
    assert result.statistic == pytest.approx(0.054 / math.sqrt(0.45 * 0.00223), rel=1e-9)
    assert result.statistic == pytest.approx(1.704649, abs=1e-6)
    assert result.df == 4 and result.effect == pytest.approx(0.054)
    assert result.pvalue == pytest.approx(2 * scipy_stats.t.sf(1.704649, 4), abs=1e-6)
    half = 2.776445 * math.sqrt(0.45 * 0.00223)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.054 - half, 0.054 + half), abs=1e-6)
    # Without the n_test/n_train term the statistic is scipy's paired t.
    plain = scipy_stats.ttest_rel(A, B).statistic
    assert result.statistic == pytest.approx(plain * math.sqrt(0.2 / 0.45))


def test_corrected_ttest_pvalue_at_the_tabulated_critical_value():
    # t(0.975, 4) = 2.776445 in every t table: scale d so that t equals it, p must be 0.05.
    d = np.array([0.10, 0.03, 0.10, -0.01, 0.05])
    se = math.sqrt(0.45 * d.var(ddof=1))
    shifted = d - d.mean() + 2.776445 * se
    result = corrected_resampled_ttest(shifted, np.zeros(5), 400, 100)
    assert result.pvalue == pytest.approx(0.05, abs=1e-6)
    assert corrected_resampled_ttest(-shifted, np.zeros(5), 400, 100).statistic == pytest.approx(-2.776445, abs=1e-6)


def test_corrected_ttest_edge_cases():
    assert math.isnan(corrected_resampled_ttest(A, A, 400, 100).pvalue)
    constant = corrected_resampled_ttest([0.6, 0.7], [0.5, 0.6], 10, 5)
    assert constant.statistic == math.inf and constant.pvalue == 0
    with pytest.raises(DataError, match="at least 2 folds"):
        corrected_resampled_ttest([0.5], [0.4], 10, 5)


def test_wilcoxon_matches_scipy_and_floor():
    assert wilcoxon_folds(A, B).pvalue == pytest.approx(scipy_stats.wilcoxon(A, B).pvalue)
    up = wilcoxon_folds(np.arange(1, 11) / 10, np.zeros(10))
    assert up.pvalue == pytest.approx(2 ** -9) == PAIRWISE_TESTS["wilcoxon"]().minimum_pvalue(10)
    assert math.isnan(wilcoxon_folds(A, A).pvalue)


def test_clustered_mcnemar_with_one_image_per_subject_is_mcnemar():
    """Singleton clusters: sum_s (b_s - c_s)^2 = b + c, so X^2 is McNemar's (b - c)^2 / (b + c) (statsmodels,
    no continuity correction)."""
    from statsmodels.stats.contingency_tables import mcnemar

    # 50 both right, 12 only a right, 3 only b right, 35 both wrong.
    a = np.array([1] * 50 + [1] * 12 + [0] * 3 + [0] * 35, bool)
    b = np.array([1] * 50 + [0] * 12 + [1] * 3 + [0] * 35, bool)
    result = clustered_mcnemar_test(a, b, np.arange(100))
    plain = mcnemar([[50, 12], [3, 35]], exact=False, correction=False)
    assert result.statistic == pytest.approx(81 / 15) == pytest.approx(plain.statistic)
    assert result.pvalue == pytest.approx(plain.pvalue)
    assert result.effect == pytest.approx(0.09)


def test_clustered_mcnemar_against_a_hand_computation():
    """Four subjects; per subject b_s - c_s = 2, 1, -1, 3 -> X^2 = 5^2 / (4 + 1 + 1 + 9) = 25/15 (Durkalski et al.
    2003, equation 3). Pooled, the same images give McNemar (7 - 2)^2 / 9 = 25/9: clustering widens the test."""
    rows = [("s1", 1, 0), ("s1", 1, 0), ("s1", 1, 1),
            ("s2", 1, 0), ("s2", 0, 0),
            ("s3", 0, 1), ("s3", 1, 1),
            ("s4", 1, 0), ("s4", 1, 0), ("s4", 1, 0), ("s4", 0, 1), ("s4", 1, 0)]
    subjects, a, b = (np.array(column) for column in zip(*rows))
    result = clustered_mcnemar_test(a.astype(bool), b.astype(bool), subjects)
    assert result.statistic == pytest.approx(25 / 15)
    assert result.pvalue == pytest.approx(scipy_stats.chi2.sf(25 / 15, 1))
    assert result.effect == pytest.approx((9 - 4) / 12)
    assert math.isnan(clustered_mcnemar_test(a.astype(bool), a.astype(bool), subjects).pvalue)
    with pytest.raises(DataError, match="subject"):
        clustered_mcnemar_test(a.astype(bool), b.astype(bool), subjects[:3])


def test_bootstrap_resamples_subjects_not_images():
    """Within-subject outcomes are identical, so subjects carry the variance: the subject CI is wider."""
    rng = np.random.default_rng(1)
    subjects = np.repeat(np.arange(12), 10)
    a = np.repeat(rng.random(12) < 0.7, 10)
    b = np.repeat(rng.random(12) < 0.4, 10)
    by_subject = cluster_bootstrap_difference(a, b, subjects, n_boot=1000, seed=3)
    by_image = cluster_bootstrap_difference(a, b, np.arange(a.size), n_boot=1000, seed=3)
    assert by_subject.effect == by_image.effect == pytest.approx(a.mean() - b.mean())
    assert (by_subject.ci_high - by_subject.ci_low) > 2 * (by_image.ci_high - by_image.ci_low)
    assert by_subject.ci_low <= by_subject.effect <= by_subject.ci_high
    # One subject only: every subject resample is that subject, the interval has no width.
    single = cluster_bootstrap_difference(a[:10] | True, np.arange(10) < 5, np.zeros(10), n_boot=200)
    assert single.ci_low == single.ci_high == pytest.approx(0.5)
    images = cluster_bootstrap_difference(a[:10] | True, np.arange(10) < 5, np.arange(10), n_boot=200)
    assert images.ci_high > images.ci_low
    again = cluster_bootstrap_difference(a, b, subjects, n_boot=1000, seed=3)
    assert (again.ci_low, again.ci_high) == (by_subject.ci_low, by_subject.ci_high)


def test_holm_and_bh_numbers():
    raw = [0.01, 0.04, 0.03, 0.005, float("nan")]
    assert adjust(raw, "holm")[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust(raw, "bh")[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert math.isnan(adjust(raw, "holm")[4])
    with pytest.raises(DataError, match="unknown adjustment"):
        adjust(raw, "bonferroni-ish")


def test_family_too_large_for_k_folds_warns():
    floor = 2.0 ** (1 - 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_family("f", "wilcoxon", floor, 25, k=10)
        assert check_family("f", "wilcoxon", floor, 500, k=10, method="bh")
    with pytest.warns(UnderpoweredFamilyWarning, match="26 wilcoxon tests, k=10"):
        assert not check_family("f", "wilcoxon", floor, 26, k=10)
    with pytest.warns(UnderpoweredFamilyWarning):
        assert not check_family("g", "wilcoxon", 2.0 ** (1 - 5), 1, k=5)


def test_friedman_matches_scipy():
    scores = pd.DataFrame({"x": [0.5, 0.6, 0.55, 0.7], "y": [0.6, 0.65, 0.6, 0.72], "z": [0.4, 0.5, 0.5, 0.6]})
    expected = scipy_stats.friedmanchisquare(scores["x"], scores["y"], scores["z"])
    assert friedman_test(scores).pvalue == pytest.approx(expected.pvalue)
    with pytest.raises(DataError, match="at least 3 models"):
        friedman_test(scores[["x", "y"]])


def test_metadata_is_declared():
    table = describe_tests()
    assert set(table["test"]) == {"corrected-t", "noninferiority", "wilcoxon", "mcnemar-clustered",
                                  "subject-bootstrap", "friedman"}
    assert table[["level", "assumptions", "direction", "reference"]].ne("").all().all()
    assert set(table["direction"]) <= {"higher", "lower"}


def test_default_families_and_baseline():
    assert pick_baseline(["baseline-nm", "baseline-mix", "cl"]) == "baseline-mix"
    assert pick_baseline(["baseline-nm", "cl"]) == "baseline-nm"
    with pytest.raises(DataError, match="baseline 'x'"):
        pick_baseline(["cl"], "x")
    names = [f.name for f in default_families(["baseline-nm", "cl", "kd"])]
    assert {c.model_b for c in default_families(["baseline-nm", "cl"])[1].comparisons} == {"baseline-nm"}  # fallback
    assert names == ["table3-NM", "table4-M", "NM-vs-M"]
    families = {f.name: f for f in default_families(["baseline-nm", "baseline-m", "baseline-pe", "cl", "cl-ce",
                                                     "kd", "kd-ce", "ran"])}
    assert list(families) == ["table3-NM", "table4-M", "confirmatory-PE-M", "table5-PE-NM", "table5-PE-M",
                              "noninferiority-PE-NM", "mechanism-PE-M", "exploratory-PE-NM", "NM-vs-M"]
    assert {c.model_b for c in families["table3-NM"].comparisons} == {"baseline-nm"}  # view-matched
    assert {c.model_b for c in families["table4-M"].comparisons} == {"baseline-m"}
    pairs = lambda name: [(c.model_a, c.model_b, c.subset) for c in families[name].comparisons]  # noqa: E731
    assert pairs("confirmatory-PE-M") == [("cl", "baseline-pe", "PE-M"), ("kd", "baseline-pe", "PE-M")]
    assert pairs("table5-PE-M") == [("ran", "baseline-pe", "PE-M")]  # the confirmatory pairs are not repeated
    assert pairs("mechanism-PE-M") == [("cl", "cl-ce", "PE-M"), ("kd", "kd-ce", "PE-M")]
    assert families["noninferiority-PE-NM"].tests == ("noninferiority",)
    kinds = {name: family.kind for name, family in families.items()}
    assert kinds["confirmatory-PE-M"] == "confirmatory" and kinds["mechanism-PE-M"] == "mechanism"
    assert kinds["NM-vs-M"] == "exploratory" and families["NM-vs-M"].adjustment == "bh"


def test_comparison_table_on_known_run(known_run):
    run = open_run(known_run)
    table = comparison_table(run.predictions(), run.fold_sizes, run.models, ComparisonConfig(n_boot=200))
    rows = table.set_index(["family", "comparison", "test"])
    # cl is right on every image, baseline-mix misses fear (NM) and fear + disgust (M): one and two discordant
    # images per subject, 6 subjects -> clustered X^2 = 6^2 / 6 = 12^2 / (6 * 2^2) = 6 on both views.
    mcn = rows.loc[("table3-NM", "cl vs baseline-mix", "mcnemar-clustered")]
    assert mcn["statistic"] == pytest.approx(6) and mcn["p_raw"] == pytest.approx(scipy_stats.chi2.sf(6, 1))
    assert mcn["effect"] == pytest.approx(100 / 7) and mcn["family_kind"] == "table"
    assert mcn["p_holm"] == pytest.approx(mcn["p_raw"])  # kd agrees with baseline-mix everywhere: NaN, not counted
    assert rows.loc[("table4-M", "cl vs baseline-mix", "mcnemar-clustered"), "statistic"] == pytest.approx(6)
    boot = rows.loc[("table3-NM", "cl vs baseline-mix", "subject-bootstrap")]
    assert boot["ci_low"] == pytest.approx(100 / 7) and boot["ci_high"] == pytest.approx(100 / 7)
    within = rows.loc[("NM-vs-M", "baseline-mix: NM vs M", "mcnemar-clustered")]
    assert within["statistic"] == pytest.approx(6) and within["n_units"] == 42
    assert within["family_kind"] == "exploratory" and within["adjustment"] == "bh"
    t = rows.loc[("table3-NM", "cl vs baseline-mix", "corrected-t")]
    assert t["k"] == 3 and t["n_train"] == 28 and t["n_test"] == 14
    assert math.isnan(rows.loc[("table3-NM", "kd vs baseline-mix", "corrected-t"), "p_raw"])
    assert "wilcoxon" not in set(table["test"])  # 3 folds: below Wilcoxon's 6
    assert table["budget"].isin(["not recorded", "same arm", ""]).all() and not table["budget_differs"].any()
    friedman = rows.loc[("friedman", "all models", "friedman")].set_index("subset")
    assert friedman["p_raw"].notna().all()
    rejected = set(friedman.index[friedman["p_adjusted"] < 0.05])  # post-hoc pairs only where Friedman rejects
    assert {f.removeprefix("posthoc-") for f in table["family"] if f.startswith("posthoc-")} == rejected
    assert (table.groupby(["family", "comparison", "subset"])["primary"].sum() == 1).all()
    assert set(table.loc[table["primary"] & (table["family"] != "friedman"), "test"]) == {"corrected-t"}
    assert set(table["family_kind"]) <= {"confirmatory", "table", "mechanism", "exploratory"}
