"""Cross-dataset runs: train on one generated dataset, evaluate every fold on another."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import interp.results
from tests.trainers.conftest import write_dataset
from trainers import rundir
from trainers.data.cross import TEST_FOLD
from trainers.cli import main
from trainers.config import load_preset, override
from trainers.data.cross import TEST_PREFIX, class_report, cross_dataset_table
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest, content_hash
from trainers.common.errors import DataError
from trainers.runner import run_study


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two generated datasets: 4 subjects to train on; 2 other subjects without ``fear`` to test on."""
    train = write_dataset(tmp_path_factory.mktemp("train"), subjects=4, seed=0)
    test_path = write_dataset(tmp_path_factory.mktemp("test"), subjects=2, seed=1)
    test = Manifest.load(test_path)
    test.with_table(test.table[test.table["label"] != "fear"]).save(test_path)
    return train, test_path


def test_fold_rows_within_one_dataset_and_across_two():
    table = pd.DataFrame({"fold": [0, 1, 2, 0]})
    train, evaluate = rundir.fold_rows(table, 1)
    assert train.tolist() == [True, False, True, True] and evaluate.tolist() == [False, True, False, False]
    table = pd.DataFrame({"fold": [0, 1, 0, -1, -1], "role": ["train"] * 3 + ["test"] * 2})
    train, evaluate = rundir.fold_rows(table, 1)
    assert train.tolist() == [True, False, True, False, False] and evaluate.tolist() == [False] * 3 + [True] * 2
    single = table.assign(fold=[0, 0, 0, -1, -1])  # --k 1: every fold trains on all of the training dataset
    assert rundir.fold_rows(single, 0)[0].tolist() == [True] * 3 + [False] * 2


def test_cross_dataset_table_prefixes_the_test_rows_and_reports_classes(datasets, caplog):
    train, test = (Manifest.load(path) for path in datasets)
    table = cross_dataset_table(train, test).table
    assert len(table) == len(train) + len(test) and table["image_id"].is_unique
    tested = table[table["role"] == "test"]
    assert (tested["fold"] == TEST_FOLD).all() and tested["image_id"].str.startswith(TEST_PREFIX).all()
    assert not set(tested["subject"]) & set(table.loc[table["role"] == "train", "subject"])
    assert all(path.is_file() for path in Manifest(table, train.root).abspaths())
    report = class_report(train.table, test.table)
    assert report["missing_in_test"] == ["fear"] and report["missing_in_train"] == []
    assert "class(es) fear absent from the test dataset" in caplog.text
    disjoint = test.with_table(test.table.assign(label="happy"))
    with pytest.raises(DataError, match="share no class"):
        cross_dataset_table(train.with_table(train.table[train.table["label"] == "sad"]), disjoint)


@pytest.mark.slow
def test_cross_dataset_run_evaluates_every_fold_on_the_test_dataset(datasets, tmp_path):
    train, test = datasets
    out = tmp_path / "cross"
    config = override(load_preset("smoke"), epochs=1)
    summary = run_study(train, config, "smoke", ["baseline-mix"], out, device="cpu", test_data=test)
    assert summary["folds"].tolist() == [2] and summary[["nm_mean", "m_mean"]].notna().all(axis=None)
    study = json.loads((out / "study.json").read_text())
    record = study["cross_dataset"]
    assert record["train_manifest_hash"] == content_hash(Manifest.load(train))
    assert record["test_manifest_hash"] == content_hash(Manifest.load(test))
    assert record["test_manifest"] == str(test.resolve()) and record["missing_in_test"] == ["fear"]
    frozen = rundir.read_manifest(out)
    test_ids = sorted(TEST_PREFIX + Manifest.load(test).table["image_id"])
    for fold in (0, 1):
        predictions = pd.read_csv(out / "baseline-mix" / f"fold-{fold}" / "predictions.csv")
        assert sorted(predictions["image_id"]) == test_ids  # the whole test dataset, in every fold
        state = rundir.load_checkpoint(out / "baseline-mix" / f"fold-{fold}" / "checkpoint.pt")
        trained = set(state["config"]["train_subjects"])
        assert trained == set(frozen.loc[(frozen["role"] == "train") & (frozen["fold"] != fold), "subject"])
    assert set(predictions["label"]) == set(CLASSES) - {"fear"}
    other = write_dataset(tmp_path / "other", subjects=2, seed=2)
    with pytest.raises(DataError, match="another manifest"):
        run_study(train, config, "smoke", ["baseline-mix"], out, device="cpu", test_data=other)


def test_cli_trains_on_all_of_the_training_dataset_with_k_1(datasets, tmp_path, capsys):
    train, test = datasets
    out = tmp_path / "all"
    code = main(["run", "--data", str(train), "--test-data", str(test), "--preset", "smoke", "--epochs", "1",
                 "--k", "1", "--models", "baseline-nm", "--device", "cpu", "--out", str(out)])
    assert code == 0 and "baseline-nm" in capsys.readouterr().out
    state = rundir.load_checkpoint(out / "baseline-nm" / "fold-0" / "checkpoint.pt")
    assert set(state["config"]["train_subjects"]) == set(Manifest.load(train).table["subject"])
    record = interp.results.load(out).cross_dataset()  # what the report and dashboard read
    assert record["test_manifest"] == str(test.resolve()) and record["missing_in_test"] == ["fear"]
    assert main(["run", "--data", str(train), "--test-data", str(tmp_path / "missing.csv"), "--preset", "smoke",
                 "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad" / "study.json").exists()
