"""Audit samples, block-level randomisation stages, the randomisation pass criterion, consistency kinds, null references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interp.audit.summaries import null_references
from interp.audit.sampling import stratified_sample
from interp.audit.sanity import HELD_OUT, MIXED, TRAINED, consistency_pairs, randomisation_check, randomisation_stages


def _candidates(subjects: int = 6, pairs: int = 3, single: bool = False) -> pd.DataFrame:
    rows = []
    for s in range(subjects):
        for p in range(pairs):
            for kind in ("n", "m"):
                rows.append({"image_id": f"s{s}-p{p}-{kind}", "pair_id": f"s{s}-p{p}", "subject": f"s{s}"})
    if single:
        rows.append({"image_id": "s0-single", "pair_id": "", "subject": "s0"})
    return pd.DataFrame(rows)


def test_stratified_sample_is_seeded_spread_over_subjects_and_keeps_pairs():
    table = _candidates()
    sample = stratified_sample(table, 12, seed=3)
    assert sample == stratified_sample(table, 12, seed=3)
    assert sample != stratified_sample(table, 12, seed=4)
    chosen = table.set_index("image_id").loc[sample]
    assert len(sample) == 12 and chosen["subject"].nunique() == 6  # one pair from every subject first
    assert (chosen.groupby("pair_id").size() == 2).all()
    assert sample == [i for i in table["image_id"] if i in set(sample)]  # in the table's order
    assert stratified_sample(table, 0) == list(table["image_id"])
    odd = stratified_sample(_candidates(single=True), 7, seed=0)
    assert len(odd) == 7 and "s0-single" in odd  # three pairs and the single image fill an odd cap


def test_randomisation_stages_are_block_level_for_nested_backbones():
    from trainers.config import TrainConfig
    from trainers.methods import create_method

    names = {arm: [name for name, _ in randomisation_stages(create_method(arm, TrainConfig()).build_model(7), 8)]
             for arm in ("baseline-mix", "ran")}
    for arm, stages in names.items():
        assert len(stages) == 8, arm
        assert stages[0] == "head" and stages[-1] == "backbone.conv1", arm
        assert "backbone.layer3" in stages and "backbone.layer1" in stages, arm


def test_randomisation_check_states_pass_and_fail():
    rows = []
    for model, last in (("good", [0.05, 0.2]), ("bad", [0.1, 0.6])):
        for fold, value in enumerate(last):
            rows += [{"model": model, "fold": fold, "stage": 0, "layer": "(trained)", "spearman": 1.0,
                      "spearman_abs": 1.0, "ssim": 1.0},
                     {"model": model, "fold": fold, "stage": 1, "layer": "head", "spearman": -value,
                      "spearman_abs": value, "ssim": 0.5}]
    check = randomisation_check(pd.DataFrame(rows), threshold=0.3).set_index(["model", "fold"])
    assert check.loc[("good", 0), "passed"] and check.loc[("good", 1), "passed"]
    assert check.loc[("bad", 0), "passed"] and not check.loc[("bad", 1), "passed"]
    assert check.loc[("good", 0), "model_passed"] and not check.loc[("bad", 0), "model_passed"]
    assert check.loc[("bad", 1), "folds_passed"] == 1 and check.loc[("bad", 1), "folds_checked"] == 2
    assert (check["last_layer"] == "head").all() and (check["threshold"] == 0.3).all()


def test_consistency_pairs_label_held_out_and_trained_images():
    rng = np.random.default_rng(0)
    maps = {fold: rng.random((3, 8, 8)) for fold in range(3)}
    trained = {0: np.array([False, False, True]), 1: np.array([True, False, True]), 2: np.array([True, False, True])}
    pairs = consistency_pairs(maps, trained)
    kinds = pairs.set_index(["image", "fold_a", "fold_b"])["kind"]
    assert kinds[(0, 0, 1)] == MIXED and kinds[(0, 1, 2)] == TRAINED
    assert set(pairs.loc[pairs["image"] == 1, "kind"]) == {HELD_OUT}
    assert set(pairs.loc[pairs["image"] == 2, "kind"]) == {TRAINED}
    assert len(pairs) == 3 * 3


def test_null_references_beside_mask_share():
    images = pd.DataFrame({"model": "cl", "fold": [0, 0, 1, 1], "image_id": ["a-n", "a-m", "b-n", "b-m"],
                           "label": ["happy", "happy", "sad", "sad"], "masked": [False, True, False, True],
                           "mask_share": [0.2, 0.2, 0.4, 0.4], "mask_fraction": [0.1, 0.2, 0.3, 0.4]})
    curve = pd.DataFrame({"model": "cl", "fold": [0, 0, 0, 0], "stage": [0, 0, 2, 2], "layer": "x",
                          "image_id": ["a-n", "a-m", "a-n", "a-m"], "mask_fraction": [0.9, 0.9, 0.3, 0.5]})
    refs = null_references(images, [curve]).set_index(["model", "subset", "class"])
    assert refs.loc[("cl", "NM", "all"), "mask_share"] == pytest.approx(0.3)
    assert refs.loc[("cl", "M", "happy"), "randomised_mask_fraction"] == pytest.approx(0.5)  # last stage only
    assert refs.loc[("cl", "NM", "happy"), "n_randomised"] == 1
    assert np.isnan(refs.loc[("cl", "M", "sad"), "randomised_mask_fraction"])
    assert refs.loc[("cl", "M", "sad"), "n_randomised"] == 0


def test_region_metrics_are_summarised_on_the_pe_views_too():
    from interp.audit.aggregate import fold_means

    images = pd.DataFrame({"model": "cl", "fold": 0, "image_id": ["a-n", "a-m", "b-n"], "label": "happy",
                           "pred": "happy", "correct": True, "masked": [False, True, False],
                           "pe": [True, True, False], "mask_fraction": [0.2, 0.4, 0.6], "mask_share": 0.25})
    means = fold_means(images).query("`class` == 'all'").set_index("subset")
    assert means.loc["NM", "value"] == pytest.approx(0.4) and means.loc["NM", "n_images"] == 2
    assert means.loc["PE-NM", "value"] == pytest.approx(0.2) and means.loc["PE-NM", "n_images"] == 1
    assert means.loc["PE-M", "value"] == pytest.approx(0.4)
    curve = pd.DataFrame({"model": "cl", "fold": 0, "stage": 1, "layer": "x", "image_id": ["a-n", "b-n"],
                          "mask_fraction": [0.1, 0.3]})
    refs = null_references(images, [curve]).set_index(["model", "subset", "class"])
    assert refs.loc[("cl", "PE-NM", "all"), "randomised_mask_fraction"] == pytest.approx(0.1)
    assert refs.loc[("cl", "NM", "all"), "randomised_mask_fraction"] == pytest.approx(0.2)
