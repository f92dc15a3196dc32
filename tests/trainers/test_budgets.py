"""The budget rule and the arm record of study.json (issue 21): equal budgets within the PE families,
arm descriptions, older study.json files, repeated cross-validation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.trainers.conftest import write_dataset
from interp.palette import arm_colours
from interp.runs import open_run
from interp.stats import corrected_resampled_ttest
from interp.stats.families import declared_families, describe_arms
from trainers import rundir
from trainers.common.errors import DataError
from trainers.config import load_preset, override
from trainers.data.folds import assign_folds
from trainers.methods import ARMS, arm_names, create_method
from trainers.runner import plan_study, run_study

PE_ARMS = ["baseline-pe", "cl", "cl-ce", "kd", "kd-ce"]
NEW_ARM_KEYS = (*rundir.ARM_DESCRIPTION_KEYS, "batching")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 subjects x 7 classes x 2 poses: 112 pairs, so budgets are not all one batch."""
    return write_dataset(tmp_path_factory.mktemp("budget-data"), subjects=8, poses=2)


@pytest.fixture(scope="module")
def planned(manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smoke study of the PE arms, planned (study.json, manifest, cache) but not trained."""
    out = tmp_path_factory.mktemp("runs") / "budget"
    plan_study(manifest, load_preset("smoke"), "smoke", PE_ARMS, out, "cpu", "cpu (test)")
    return out


def test_budgets_are_equal_within_the_families_of_arms_trained_on_the_same_images(planned: Path) -> None:
    study = rundir.read_study(planned)
    arms = describe_arms(study)
    checked = 0
    for family in declared_families(arms):
        if family.kind not in ("confirmatory", "mechanism") and not family.name.startswith("table5"):
            continue  # Tables 3-4 compare arms trained on different subsets: their budgets differ by design
        for comparison in family.comparisons:
            a, b = (study["arms"][name]["budget"] for name in (comparison.model_a, comparison.model_b))
            assert set(a["per_fold"]) == set(b["per_fold"]) == {"0", "1"}
            for fold, budget in a["per_fold"].items():
                for key in ("steps_per_epoch", "images_per_epoch"):
                    assert budget[key] == b["per_fold"][fold][key], (comparison, fold, key)
            assert a["images_per_step"] == b["images_per_step"] == 8  # smoke: batch_size 8
            checked += 1
    assert checked >= 5  # cl, kd vs baseline-pe (confirmatory, Table 5 PE-NM); cl vs cl-ce, kd vs kd-ce
    pe = study["arms"]["baseline-pe"]["budget"]["per_fold"]["0"]
    cl = study["arms"]["cl"]["budget"]["per_fold"]["0"]
    assert pe["images_per_epoch"] == pe["samples"] == 2 * cl["samples"]
    assert pe["steps_per_epoch"] == -(-pe["images_per_epoch"] // 8)


def test_the_loop_takes_the_recorded_steps(planned: Path) -> None:
    """Every registered arm's epoch is cut into the number of batches its budget records."""
    table = rundir.read_manifest(planned)
    train = table[rundir.fold_rows(table, 0)[0]]
    for name in arm_names():
        method = create_method(name, load_preset("smoke"))
        samples = method.training_set(train)
        order = method.sample_order(samples, 0, torch.Generator().manual_seed(0))
        assert len(order) == method.epoch_samples(samples), name
        assert len(method.epoch_batches(order)) == method.budget(train)["steps_per_epoch"], name


def test_arms_are_described_in_study_json(planned: Path) -> None:
    study = rundir.read_study(planned)
    assert study["models"] == ["baseline-pe", "cl", "cl-ce", "baseline-nm", "kd", "kd-ce"]
    for name in study["models"]:
        assert {key: study["arms"][name][key] for key in ("role", "ablates", "baseline_for", "colour")} \
            == ARMS[name].describe()
    assert study["arms"]["cl-ce"]["ablates"] == "cl" and study["arms"]["kd-ce"]["ablates"] == "kd"
    assert study["arms"]["baseline-pe"]["baseline_for"] == ["PE-NM", "PE-M"]
    assert study["arms"]["baseline-nm"]["baseline_for"] == ["NM"]
    assert {name: study["arms"][name]["trains_on"] for name in study["models"]} == {
        "baseline-pe": "pe", "cl": "pe", "cl-ce": "pe", "baseline-nm": "nm", "kd": "pe", "kd-ce": "pe"}
    assert study["arms"]["kd"]["batching"] == {"images_per_sample": 1, "samples_per_step": 8, "passes_per_epoch": 2}
    assert study["arms"]["cl"]["batching"] == {"images_per_sample": 2, "samples_per_step": 4, "passes_per_epoch": 1}
    assert study["precision"] == "float32" and study["repeats"] == 1  # smoke: bf16 = false
    assert arm_colours(study) == {name: study["arms"][name]["colour"] for name in study["models"]}
    colours = [arm.colour for arm in ARMS.values()]
    assert len(set(colours)) == len(colours)
    assert all(arm.ablates in ARMS for arm in ARMS.values() if arm.role == "ablation")


def test_registration_checks_the_description() -> None:
    from trainers.methods import register_method

    with pytest.raises(ValueError, match="ablates"):
        register_method("x", role="ablation", colour="#000000")
    with pytest.raises(ValueError, match="colour"):
        register_method("x", role="ours", colour="green")
    with pytest.raises(DataError, match="unknown evaluation view"):
        register_method("x", role="baseline", colour="#000000", baseline_for=("PE-X",))


def _strip(study: dict) -> dict:
    """``study`` as a run written before arms described themselves recorded it."""
    old = {key: value for key, value in study.items() if key not in ("repeats", "repeat_seeds", "precision")}
    old["config"] = {key: value for key, value in study["config"].items() if key != "repeats"}
    old["arms"] = {name: {key: value for key, value in arm.items() if key not in NEW_ARM_KEYS}
                   for name, arm in study["arms"].items()}
    return old


def test_an_older_study_json_still_reads(planned: Path, manifest: Path, tmp_path: Path) -> None:
    study = rundir.read_study(planned)
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    (old_dir / rundir.MANIFEST_FILE).write_bytes((planned / rundir.MANIFEST_FILE).read_bytes())
    rundir.write_study(old_dir, _strip(study))
    old = rundir.read_study(old_dir)
    arms = describe_arms(old)  # roles from the names
    assert arms["cl-ce"].role == "ablation" and arms["cl-ce"].ablates == "cl" and arms["kd"].role == "ours"
    assert arms["baseline-pe"].baseline_for == ("PE-NM", "PE-M") and np.isnan(arms["cl"].steps_per_epoch)
    colours = arm_colours(old)  # no recorded colour: distinct palette colours
    assert len(set(colours.values())) == len(old["models"])
    assert rundir.repeats(old) == 1
    # Resuming: a baseline trained as before resumes (and gets its description); CL's batching changed.
    config = load_preset("smoke")
    plan_study(manifest, config, "smoke", ["baseline-pe", "baseline-nm"], old_dir, "cpu", "cpu (test)")
    resumed = rundir.read_study(old_dir)
    assert resumed["arms"]["baseline-pe"]["role"] == "baseline" and "budget" in resumed["arms"]["cl"]
    with pytest.raises(DataError, match=r"arms\.cl\.batching"):
        plan_study(manifest, config, "smoke", ["cl"], old_dir, "cpu", "cpu (test)")


def test_an_odd_batch_size_is_refused_for_pair_arms() -> None:
    with pytest.raises(DataError, match="--batch-size 8"):
        create_method("cl", override(load_preset("smoke"), batch_size=7))
    create_method("kd-ce", override(load_preset("smoke"), batch_size=7))


def test_repeated_cross_validation_plan(tiny_manifest: Path, tmp_path: Path) -> None:
    """Two repeats of 2 folds, fold 0 of each: fold ids 0 and 2, each repeat with its own assignment."""
    config = override(load_preset("smoke"), epochs=1, repeats=2, folds=[0])
    out = tmp_path / "repeats"
    plan_study(tiny_manifest, config, "smoke", ["baseline-nm"], out, "cpu", "cpu (test)")
    study = rundir.read_study(out)
    assert study["folds"] == [0, 2] and study["repeats"] == 2 and study["repeat_seeds"] == [0, 1]
    table = rundir.read_manifest(out)
    expected = assign_folds(table, 2, 1).to_numpy()
    assert np.array_equal(table["fold_r1"].to_numpy(), expected)
    train, test = rundir.fold_rows(table, 2)
    assert np.array_equal(test, expected == 0) and np.array_equal(train, ~test)
    assert set(study["arms"]["baseline-nm"]["budget"]["per_fold"]) == {"0", "2"}
    with pytest.raises(DataError, match="--repeats 2"):
        plan_study(tiny_manifest, config, "smoke", ["baseline-nm"], tmp_path / "ff", "cpu", "cpu",
                   fold_file=tmp_path / "folds.csv")


@pytest.mark.slow
def test_repeated_cross_validation_reads(tiny_manifest: Path, tmp_path: Path) -> None:
    """A trained repeated study: the readers and the corrected t take the fold ids as they come."""
    config = override(load_preset("smoke"), epochs=1, repeats=2, folds=[0])
    out = tmp_path / "repeats"
    run_study(tiny_manifest, config, "smoke", ["baseline-nm", "baseline-m"], out, device="cpu")
    table = rundir.read_manifest(out)
    expected = table["fold_r1"].to_numpy()
    run = open_run(out)
    assert run.finished == {"baseline-nm": [0, 2], "baseline-m": [0, 2]}
    sizes = run.fold_sizes("NM").set_index("fold")
    assert sizes.loc[2, "n_test"] == int(((expected == 0) & ~table["masked"].to_numpy()).sum())
    accuracy = run.predictions().groupby(["model", "fold"])["correct"].mean()
    result = corrected_resampled_ttest(accuracy["baseline-nm"].to_numpy(), accuracy["baseline-m"].to_numpy(),
                                       n_train=float(sizes["n_train"].mean()), n_test=float(sizes["n_test"].mean()))
    assert result.df == 1  # J - 1 with J = R x (folds run) = 2


def test_fold_ids_beyond_the_repeats_are_refused(planned: Path) -> None:
    study = rundir.read_study(planned)
    bad = {**study, "folds": [0, 2]}
    with pytest.raises(DataError, match=r"folds \[2\] are not integers in 0\.\.1"):
        rundir.check_study(bad, planned / rundir.STUDY_FILE)
    table = rundir.read_manifest(planned)
    assert rundir.fold_column(table, 1) == "fold"
    with pytest.raises(DataError, match="fold_r1"):
        rundir.fold_rows(table.assign(fold_r2=table["fold"]), 2)
    assert json.loads(json.dumps(dataclasses.asdict(load_preset("smoke"))))["repeats"] == 1
