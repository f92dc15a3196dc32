"""The paper protocol's guards: no silent random init (``paper`` refuses, ``study.json`` records each arm's
``init``) and fixed folds from a fold file (``--fold-file``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import torchvision

from tests.trainers.conftest import write_dataset
from trainers import rundir
from trainers.cli import main
from trainers.config import load_preset, override
from trainers.data.manifest import Manifest
from trainers.common.errors import DataError
from trainers.runner import plan_study


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("protocol"), subjects=4)


@pytest.fixture(scope="module")
def fold_file(dataset: Path) -> Path:
    out = dataset.parent / "folds.csv"
    assert main(["data", "folds", str(dataset), "--k", "2", "--seed", "3", "--out", str(out)]) == 0
    return out


def _plan(data: Path, out: Path, preset: str = "smoke", fold_file: Path | None = None, models: tuple = ("cl",),
          **overrides: object) -> None:
    config = override(load_preset(preset), image_size=32, k=2, **overrides)
    plan_study(data, config, preset, list(models), out, "cpu", "cpu (test)", fold_file=fold_file)


def test_paper_without_weights_exits_2_and_writes_nothing(dataset: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "paper"
    assert main(["run", "--data", str(dataset), "--preset", "paper", "--models", "baseline-nm,ran",
                 "--k", "2", "--out", str(out)]) == 2
    assert "baseline-nm, ran would start from random initialisation" in capsys.readouterr().err
    assert not out.exists()
    absent = tmp_path / "absent.pth"
    assert main(["run", "--data", str(dataset), "--preset", "paper", "--models", "cl", "--set",
                 f"ran.weights={absent}", "--weights", str(absent), "--out", str(out)]) == 2
    assert not out.exists()


def test_allow_random_init_and_weights_are_recorded_per_arm(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="random initialisation"):
        _plan(dataset, tmp_path / "refused", "paper", models=("baseline-nm",))
    assert not (tmp_path / "refused").exists()
    weights = tmp_path / "r18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), weights)
    _plan(dataset, tmp_path / "ok", "paper", models=("baseline-nm", "ran"), weights=str(weights),
          require_weights=False)
    arms = json.loads((tmp_path / "ok" / rundir.STUDY_FILE).read_text())["arms"]
    assert arms["baseline-nm"]["init"].startswith("r18.pth sha256:") and len(arms["baseline-nm"]["init"]) == 79
    assert arms["ran"]["init"] == "random"  # the paper preset's RAN is a ResNet-50 with weights = "none"


def test_fold_file_gives_the_files_folds_also_on_a_subset(dataset: Path, fold_file: Path, tmp_path: Path) -> None:
    assigned = pd.read_csv(fold_file, dtype={"subject": str}).set_index("image_id")["fold"]
    _plan(dataset, tmp_path / "whole", fold_file=fold_file)
    frozen = rundir.read_manifest(tmp_path / "whole").set_index("image_id")["fold"].astype(int)
    assert frozen.equals(assigned.loc[frozen.index])
    study = json.loads((tmp_path / "whole" / rundir.STUDY_FILE).read_text())
    assert study["fold_file"]["name"] == "folds.csv" and len(study["fold_file"]["sha256"]) == 64
    manifest = Manifest.load(dataset)
    part = manifest.table[manifest.table["subject"] != "s0"]  # a subset of the file's subjects
    subset = dataset.parent / "subset.csv"
    manifest.with_table(part.reset_index(drop=True)).save(subset)
    _plan(subset, tmp_path / "subset", fold_file=fold_file)
    frozen = rundir.read_manifest(tmp_path / "subset").set_index("image_id")["fold"].astype(int)
    assert len(frozen) == len(part) and frozen.equals(assigned.loc[frozen.index])


def test_fold_file_missing_a_subject_or_with_another_k_exits_2_before_writing(
        dataset: Path, fold_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folds = pd.read_csv(fold_file, dtype={"subject": str})
    short = tmp_path / "short.csv"
    folds[folds["subject"] != "s1"].to_csv(short, index=False)
    out = tmp_path / "run"
    base = ["run", "--data", str(dataset), "--preset", "smoke", "--models", "baseline-mix", "--out", str(out)]
    assert main([*base, "--fold-file", str(short)]) == 2
    assert "1 subject(s) of the manifest are not in it (e.g. s1)" in capsys.readouterr().err
    assert main([*base, "--fold-file", str(fold_file), "--k", "3"]) == 2
    no_subject = tmp_path / "old.csv"
    folds[["image_id", "fold"]].to_csv(no_subject, index=False)
    assert main([*base, "--fold-file", str(no_subject)]) == 2
    assert "no subject column" in capsys.readouterr().err
    assert not out.exists()
    _plan(dataset, out, fold_file=fold_file)
    moved = folds.assign(fold=1 - folds["fold"])
    swapped = tmp_path / "swapped.csv"
    moved.to_csv(swapped, index=False)
    with pytest.raises(DataError, match="differ from those frozen"):
        _plan(dataset, out, fold_file=swapped)
