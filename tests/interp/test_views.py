"""Evaluation views (NM, M, PE-NM, PE-M), corrected fold intervals, the init column, gated post-hoc rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from interp.runs import open_run
from interp.stats.comparisons import ComparisonConfig, comparison_table
from interp.tables import (
    accuracy_table, corrected_interval, evaluation_views, fold_scores, per_class_recall, summarise, with_init,
)
from tests.interp.conftest import known_rule, make_manifest, perfect_rule, write_run


def _broken_pairs() -> pd.DataFrame:
    """The test manifest with two pairs broken: one loses its masked image, one changes a label."""
    manifest = make_manifest()
    manifest = manifest[manifest["image_id"] != "s00-happy-m"].reset_index(drop=True)  # incomplete pair
    manifest.loc[manifest["image_id"] == "s10-sad-m", "label"] = "angry"  # labels disagree after validation
    return manifest


def test_pe_views_count_only_complete_validated_pairs(tmp_path):
    run = open_run(write_run(tmp_path / "pe", {"baseline-pe": perfect_rule}, _broken_pairs()))
    views = evaluation_views(run.predictions(), run.manifest())
    counts = views.groupby("subset").size()
    assert counts["NM"] == 42 and counts["M"] == 41
    assert counts["PE-NM"] == counts["PE-M"] == 40  # 42 pairs, 2 not complete and validated
    pe = set(views.loc[views["subset"].str.startswith("PE-"), "image_id"])
    assert not pe & {"s00-happy-n", "s10-sad-n", "s10-sad-m"}
    sizes = run.fold_sizes("PE-NM").set_index("fold")
    assert sizes.loc[0, "n_test"] == 13 and sizes.loc[1, "n_test"] == 13 and sizes.loc[2, "n_test"] == 14
    assert sizes.loc[0, "n_train"] == 27
    table = accuracy_table(views, sizes=run.fold_sizes)
    assert list(table["subset"]) == ["NM", "M", "PE-NM", "PE-M"]


def test_corrected_interval_width_is_the_formula_on_a_hand_example():
    folds = pd.DataFrame({"model": "a", "subset": "NM", "fold": [0, 1, 2], "accuracy": [0.6, 0.7, 0.8],
                          "n_train": 200, "n_test": 100})
    row = summarise(folds, ["model", "subset"], ["accuracy"]).iloc[0]
    t = stats.t.ppf(0.975, 2)
    # sd = 0.1, k = 3, n_test / n_train = 0.5: half-width t * 0.1 * sqrt(1/3 + 1/2)
    assert row["accuracy_ci_high"] - row["accuracy_ci_low"] == pytest.approx(2 * t * 0.1 * np.sqrt(1 / 3 + 1 / 2))
    assert row["accuracy_ci_high_naive"] - row["accuracy_ci_low_naive"] == pytest.approx(2 * t * 0.1 / np.sqrt(3))
    assert row["ci_method"] == "nadeau-bengio" and row["test_train_ratio"] == 0.5
    assert corrected_interval(0.7, 0.1, 1, 0.5) == (pytest.approx(np.nan, nan_ok=True),) * 2
    naive = summarise(folds.drop(columns=["n_train", "n_test"]), ["model", "subset"], ["accuracy"]).iloc[0]
    assert naive["ci_method"] == "t" and naive["accuracy_ci_low"] == pytest.approx(row["accuracy_ci_low_naive"])


def test_run_sizes_correct_accuracy_and_recall_intervals(tmp_path):
    def noisy(row: pd.Series) -> str:
        return "sad" if row["subject"] in ("s10", "s20", "s21") and row["label"] == "happy" else row["label"]

    run = open_run(write_run(tmp_path / "noisy", {"m": noisy}))
    folds = fold_scores(run.predictions(), run.fold_sizes)
    assert (folds["n_train"] == 28).all() and (folds["n_test"] == 14).all()
    row = accuracy_table(run.predictions(), sizes=run.fold_sizes).iloc[0]
    assert row["accuracy_ci_high"] - row["accuracy_ci_low"] > row["accuracy_ci_high_naive"] - row["accuracy_ci_low_naive"]
    _, recall = per_class_recall(run.predictions(), sizes=run.fold_sizes)
    happy = recall[(recall["true"] == "happy") & (recall["subset"] == "NM")].iloc[0]
    half = stats.t.ppf(0.975, 2) * happy["recall_sd"] * np.sqrt(1 / 3 + 14 / 28)
    assert happy["recall_ci_high"] - happy["recall_mean"] == pytest.approx(half)


def test_init_column_from_study_json_with_fallbacks(tmp_path):
    root = write_run(tmp_path / "init", {"baseline-pe": perfect_rule, "cl": perfect_rule, "kd": perfect_rule})
    study = json.loads((root / "study.json").read_text())
    study["arms"] = {"baseline-pe": {"init": "resnet18_msceleb.pth.tar sha256:0123abcd"},
                     "cl": {"weights": "old.pth"}, "kd": {"weights": None}}
    (root / "study.json").write_text(json.dumps(study))
    run = open_run(root)
    assert run.inits() == {"baseline-pe": "resnet18_msceleb.pth.tar sha256:0123abcd", "cl": "unknown",
                           "kd": "random"}
    table = with_init(accuracy_table(run.predictions()), run.inits())
    assert list(table.columns[:2]) == ["model", "init"]
    pairs = with_init(pd.DataFrame({"model_a": ["cl"], "model_b": ["baseline-pe"], "x": [1]}), run.inits())
    assert list(pairs.columns) == ["model_a", "model_b", "init_a", "init_b", "x"]
    assert pairs.loc[0, "init_b"].startswith("resnet18_msceleb")


def test_table5_and_ablation_use_pe_views_and_posthoc_rows_can_be_ungated(tmp_path):
    rules = {"baseline-mix": known_rule, "baseline-pe": known_rule, "cl": perfect_rule, "cl-ce": known_rule}
    run = open_run(write_run(tmp_path / "t5", rules, _broken_pairs()))
    views = evaluation_views(run.predictions(), run.manifest())
    config = ComparisonConfig(tests=("corrected-t", "mcnemar-clustered"), n_boot=50, posthoc_gate=False)
    table = comparison_table(views, run.fold_sizes, run.models, config)
    t5 = table[table["family"] == "confirmatory-PE-M"]
    assert set(t5["model_a"]) == {"cl"} and set(t5["subset"]) == {"PE-M"}  # cl-ce is an ablation, not Table 5
    assert (t5["n_units"] == 40).all()  # matched images of complete validated pairs only
    pairs = table[table["model_a"].isin(["cl", "cl-ce"]) & table["model_b"].isin(["cl", "cl-ce"])
                  & table["subset"].isin(["PE-NM", "PE-M"])]
    assert set(zip(pairs["family"], pairs["subset"])) == {("mechanism-PE-M", "PE-M"), ("exploratory-PE-NM", "PE-NM")}
    posthoc = table[table["family"].str.startswith("posthoc-")]
    assert not posthoc.empty and set(posthoc["role"]) == {"posthoc-ungated"}
    assert "cl vs cl-ce" in set(posthoc.loc[posthoc["subset"] == "M", "comparison"])  # declared only on the PE views
    hypotheses = table[table["family"] != "friedman"].drop_duplicates(["family", "comparison", "subset"])
    assert not hypotheses.assign(pair=[frozenset(p) for p in zip(hypotheses["model_a"], hypotheses["model_b"])])\
        .duplicated(["pair", "subset", "test"]).any()  # each hypothesis in one family only
    within = table[(table["family"] == "NM-vs-M") & (table["test"] == "mcnemar-clustered")]
    assert (within["n_units"] == 41).all()  # PE rows do not double the NM/M pairs
    assert set(table.loc[~table["primary"], "role"]) <= {"secondary", "posthoc-ungated"}
