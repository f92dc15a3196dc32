"""Declared families (each hypothesis in one), arms read from study.json, budgets, non-inferiority, the audit's
families and interval."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from interp.audit.aggregate import BaselineTest, compare_to_baseline, summarise
from interp.runs import open_run
from interp.stats import adjust, noninferiority_ttest
from interp.stats.comparisons import ComparisonConfig, comparison_table
from interp.stats.families import (
    FAMILY_KINDS, ArmInfo, Comparison, Family, budget_note, check_unique, declared_families, describe_arms,
)
from interp.tables import evaluation_views
from tests.interp.conftest import known_rule, perfect_rule, write_run
from trainers.common.errors import DataError

ALL_ARMS = ["baseline-nm", "baseline-m", "baseline-mix", "baseline-pe", "cl", "cl-ce", "kd", "kd-ce", "ran", "scan"]


def test_arms_are_read_from_study_json_and_from_names_for_old_studies():
    study = {"models": ["base", "mine", "mine-off"], "arms": {
        "base": {"role": "baseline", "ablates": None, "baseline_for": ["NM", "M"],
                 "budget": {"steps_per_epoch": 10.0, "images_per_epoch": 320.0}},
        "mine": {"role": "ours", "ablates": None, "baseline_for": [],
                 "budget": {"steps_per_epoch": 10.0, "images_per_epoch": 320.0}},
        "mine-off": {"role": "ablation", "ablates": "mine", "baseline_for": []}}}
    arms = describe_arms(study)
    assert arms["base"].baseline_for == ("NM", "M") and arms["mine-off"].ablates == "mine"
    assert arms["mine"].steps_per_epoch == 10.0 and math.isnan(arms["mine-off"].steps_per_epoch)
    families = {f.name: f for f in declared_families(arms)}
    assert {c.model_b for c in families["table3-NM"].comparisons} == {"base"}
    assert [(c.model_a, c.model_b) for c in families["mechanism-PE-M"].comparisons] == [("mine", "mine-off")]
    old = describe_arms({"models": ALL_ARMS, "arms": {"cl": {"method": "Contrastive"}}})  # no role recorded
    assert old["cl"].role == "ours" and old["kd-ce"] == ArmInfo("kd-ce", "ablation", ablates="kd")
    assert old["baseline-pe"].baseline_for == ("PE-NM", "PE-M") and old["scan"].role == "reference"
    with pytest.raises(DataError, match="arms.x.role"):
        describe_arms({"models": ["x"], "arms": {"x": {"role": "hero"}}})


def test_every_hypothesis_is_in_exactly_one_family():
    families = declared_families(describe_arms({"models": ALL_ARMS}))
    check_unique(families)
    assert {f.kind for f in families} == set(FAMILY_KINDS)
    confirmatory = [f for f in families if f.kind == "confirmatory"]
    assert len(confirmatory) == 1 and confirmatory[0].adjustment == "holm"
    assert [(c.model_a, c.model_b, c.subset) for c in confirmatory[0].comparisons] == [
        ("cl", "baseline-pe", "PE-M"), ("kd", "baseline-pe", "PE-M")]
    assert all(f.adjustment == ("bh" if f.kind == "exploratory" else "holm") for f in families)
    twice = families + [Family("again", (Comparison("baseline-pe", "cl", "PE-M"),), "table")]  # b vs a is a vs b
    with pytest.raises(DataError, match="exactly one family"):
        check_unique(twice)


def test_budgets_that_differ_by_more_than_one_percent_are_flagged():
    arms = {"a": ArmInfo("a", "ours", steps_per_epoch=100, images_per_epoch=3200),
            "b": ArmInfo("b", "baseline", steps_per_epoch=100.5, images_per_epoch=3200),
            "c": ArmInfo("c", "baseline", steps_per_epoch=200, images_per_epoch=3200), "d": ArmInfo("d", "ours")}
    assert budget_note(arms, Comparison("a", "b", "NM")) == (False, "equal")  # 0.5%: equal
    assert budget_note(arms, Comparison("a", "c", "NM")) == (True, "steps/epoch 100 vs 200")
    assert budget_note(arms, Comparison("a", "d", "NM")) == (False, "not recorded")
    assert budget_note(arms, Comparison("a", "a", "NM-M")) == (False, "same arm")
    pe, nm = ArmInfo("pe", "baseline", steps_per_epoch=50, trains_on="pe"), ArmInfo("nm", "baseline", steps_per_epoch=100,
                                                                                trains_on="nm")
    assert budget_note({"pe": pe, "nm": nm}, Comparison("pe", "nm", "NM")) == (
        True, "trains on pe vs nm; steps/epoch 50 vs 100")


def test_noninferiority_against_a_hand_computation():
    a, b = [0.80, 0.75, 0.90, 0.85, 0.70], [0.70, 0.72, 0.80, 0.86, 0.65]
    # d = .10 .03 .10 -.01 .05: mean .054, var (ddof 1) .00892 / 4 = .00223; se = sqrt((1/5 + 20/80) * .00223)
    se = math.sqrt(0.45 * 0.00223)
    result = noninferiority_ttest(a, b, n_train=80, n_test=20, margin=0.02)
    assert result.effect == pytest.approx(0.054)
    assert result.statistic == pytest.approx((0.054 + 0.02) / se)  # 2.336
    assert result.pvalue == pytest.approx(stats.t.sf((0.054 + 0.02) / se, 4))
    assert result.statistic > 2.131847 and result.pvalue < 0.05  # t(0.95, 4) = 2.1318 (tables): non-inferior
    assert result.ci_low == pytest.approx(0.054 - 2.131847 * se, abs=1e-6) and result.ci_low > -0.02
    worse = noninferiority_ttest(b, a, n_train=80, n_test=20, margin=0.02)  # b is 5.4 points below a
    assert worse.statistic == pytest.approx((-0.054 + 0.02) / se) and worse.pvalue > 0.5
    with pytest.raises(DataError, match="margin"):
        noninferiority_ttest(a, b, 80, 20, margin=0.0)


def test_comparison_table_carries_noninferiority_rows_with_their_margin(tmp_path):
    rules = {"baseline-pe": known_rule, "cl": perfect_rule, "kd": known_rule, "kd-ce": perfect_rule}
    run = open_run(write_run(tmp_path / "ni", rules))
    views = evaluation_views(run.predictions(), run.manifest())
    table = comparison_table(views, run.fold_sizes, run.models, ComparisonConfig(n_boot=20, margin=3.0),
                             arms=describe_arms(run.study, run.models))
    ni = table[table["test"] == "noninferiority"]
    assert set(ni["family"]) == {"noninferiority-PE-NM"} and set(ni["model_a"]) == {"cl", "kd"}
    assert (ni["margin"] == 3.0).all() and ni["primary"].all() and set(ni["family_kind"]) == {"table"}
    assert table.loc[table["test"] != "noninferiority", "margin"].isna().all()
    kd = ni.set_index("model_a").loc["kd"]  # kd equals baseline-pe on every fold: d = 0, se = 0, t = +inf
    assert kd["effect"] == 0 and kd["p_raw"] == 0
    confirmatory = table[table["family"] == "confirmatory-PE-M"]
    assert set(confirmatory["family_kind"]) == {"confirmatory"} and set(confirmatory["model_a"]) == {"cl", "kd"}
    assert set(table.loc[table["family"] == "mechanism-PE-M", "comparison"]) == {"kd vs kd-ce"}
    assert table["family_kind"].notna().all()


def _images(k: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for model, shift in (("baseline-mix", 0.0), ("cl", -0.2), ("kd", 0.0)):
        for fold in range(k):
            noise = rng.normal(0, 0.02)
            for i, label in enumerate(("happy", "happy", "sad", "sad")):
                value = 0.5 + shift + noise + 0.01 * i
                rows.append({"model": model, "fold": fold, "image_id": f"f{fold}-{i}", "label": label, "pred": label,
                             "correct": True, "masked": True, "mask_fraction": value, "eye_fraction": 1 - value})
    return pd.DataFrame(rows)


def test_audit_overall_rows_are_their_own_family_and_use_the_corrected_interval():
    sizes = lambda subset: pd.DataFrame({"fold": range(5), "n_train": 80, "n_test": 20})  # noqa: E731
    result = compare_to_baseline(_images(), BaselineTest("baseline-mix", ("cl", "kd")), sizes)
    overall, per_class = result[result["class"] == "all"], result[result["class"] != "all"]
    assert set(overall["family"]) == {"attention-mask_fraction-vs-baseline-mix-M"}
    assert set(per_class["family"]) == {"attention-mask_fraction-vs-baseline-mix-M-per-class"}
    assert set(overall["family_kind"]) == {"table"} and set(per_class["adjustment"]) == {"bh"}
    assert overall["p_adjusted"].to_numpy() == pytest.approx(adjust(overall["p_raw"], "holm"))  # two tests, not six
    assert per_class["p_adjusted"].to_numpy() == pytest.approx(adjust(per_class["p_raw"], "bh"))
    summary = summarise(_images(), sizes=sizes)
    row = summary[(summary["model"] == "cl") & (summary["class"] == "all") & (summary["metric"] == "mask_fraction")]
    row = row.iloc[0]
    half = stats.t.ppf(0.975, 4) * row["sd"] * math.sqrt(1 / 5 + 20 / 80)
    assert row["ci_method"] == "nadeau-bengio" and row["ci_high"] - row["mean"] == pytest.approx(half)
    assert set(summarise(_images())["ci_method"]) == {"t"}


def test_analyze_prints_the_confirmatory_mechanism_and_noninferiority_rows(tmp_path, capsys):
    import interp.analyze

    rules = {"baseline-pe": known_rule, "cl": perfect_rule, "cl-ce": known_rule, "kd": known_rule}
    run = write_run(tmp_path / "printed", rules)
    assert interp.analyze.main([str(run), "--only", "stats", "--set", "stats.n_boot=20",
                                "--set", "stats.margin=1.5"]) == 0
    printed = capsys.readouterr().out
    hypotheses = printed[printed.index("Hypotheses"):]
    lines = [line.split() for line in hypotheses.splitlines()[2:] if line.strip() and "outputs:" not in line]
    assert [(line[0], line[1]) for line in lines] == [
        ("confirmatory-PE-M", "confirmatory"), ("confirmatory-PE-M", "confirmatory"),
        ("mechanism-PE-M", "mechanism"), ("noninferiority-PE-NM", "table"), ("noninferiority-PE-NM", "table")]
    assert "non-inferior (margin 1.5)" in hypotheses
    assert interp.analyze.main([str(run), "--only", "stats", "--set", "stats.margin=two"]) == 2  # typed option


def test_budgets_recorded_in_study_json_flag_their_rows_and_the_limitations(tmp_path):
    import interp.results
    from interp.analyze import analyze
    from interp.report.sections.limitations import _unequal_budgets
    from trainers import rundir

    run = write_run(tmp_path / "budget", {"baseline-pe": known_rule, "cl": perfect_rule})
    study = rundir.read_study(run)
    study["arms"] = {"baseline-pe": {"role": "baseline", "baseline_for": ["PE-NM", "PE-M"], "trains_on": "pe",
                                     "budget": {"steps_per_epoch": 20.0, "images_per_epoch": 640.0}},
                     "cl": {"role": "ours", "baseline_for": [], "trains_on": "pe",
                            "budget": {"steps_per_epoch": 10.0, "images_per_epoch": 640.0}}}
    rundir.write_study(run, study)
    analyze(run, only=["stats"], options={"stats": {"n_boot": 20}})
    results = interp.results.load(run)
    table = results.comparisons()
    confirmatory = table[table["family"] == "confirmatory-PE-M"]
    assert confirmatory["budget_differs"].all() and set(confirmatory["budget"]) == {"steps/epoch 10 vs 20"}
    assert confirmatory["note"].str.contains("training budgets differ").all()
    assert not table.loc[table["family"] == "NM-vs-M", "budget_differs"].any()
    [line] = _unequal_budgets(results)
    assert "cl vs baseline-pe (confirmatory-PE-M: steps/epoch 10 vs 20)" in line
