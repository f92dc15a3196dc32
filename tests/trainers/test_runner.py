"""Run directory contract, KD teacher isolation, resume, refusal, load_fold_model (tiny CPU runs)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.trainers.conftest import write_dataset
from interp.runs import open_run
from trainers import rundir
from trainers.augment import normalise, to_float
from trainers.config import load_preset, override
from trainers.data.cache import load_images
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest
from trainers.common.errors import DataError
from trainers.methods import create_method
from trainers.methods.base import Batch, FoldContext
from trainers.models.checkpoint import load_fold_model
from trainers.runner import run_study

HISTORY_COLUMNS = ["epoch", "lr_backbone", "lr_head", "loss"]
STUDY_KEYS = {"schema", "study", "preset", "config", "models", "arms", "k", "folds", "seed", "manifest_hash",
              "device", "versions", "git_commit", "created_utc"}


@pytest.fixture(scope="module")
def small_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("small"), subjects=4)


@pytest.fixture(scope="module")
def kd_run(small_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kd`` alone on fold 0, one epoch: the runner must train its teacher first."""
    out = tmp_path_factory.mktemp("runs") / "kd"
    config = override(load_preset("smoke"), epochs=1, folds=[0])
    run_study(small_manifest, config, "smoke", ["kd"], out, device="cpu")
    return out


def test_run_directory_schema(kd_run: Path) -> None:
    study = json.loads((kd_run / "study.json").read_text())
    assert STUDY_KEYS <= set(study) and study["schema"] == 1
    assert study["models"] == ["baseline-nm", "kd"] and study["folds"] == [0] and study["k"] == 2
    assert study["arms"]["baseline-nm"]["options"] == {"classifier_input": "pooled", "subset": "nm"}
    assert study["arms"]["baseline-nm"]["init"] == "random" and study["fold_file"] is None
    assert study["arms"]["kd"]["options"]["feature_weight"] == 100.0 and study["arms"]["kd"]["epochs"] == 1
    manifest = Manifest.load(kd_run / "manifest.csv")
    assert all(path.is_file() for path in manifest.abspaths())
    folds = manifest.table["fold"].astype(int)
    assert set(folds) == {0, 1}
    assert manifest.table.groupby("subject")["fold"].nunique().max() == 1
    for model, terms, ratio in (("baseline-nm", ["ce"], []), ("kd", ["feature", "ce"], ["grad_ratio_feature_ce"])):
        directory = kd_run / model / "fold-0"
        assert {p.name for p in directory.iterdir()} == {
            "checkpoint.pt", "history.csv", "predictions.csv", "embeddings.npy", "DONE"}
        history = pd.read_csv(directory / "history.csv")
        assert list(history.columns) == HISTORY_COLUMNS + [f"loss_{t}" for t in terms] + ratio + [
            "train_acc", "val_acc_nm", "val_acc_m", "seconds"]
        assert all(history[column].gt(0).all() for column in ratio)
        assert history["epoch"].tolist() == [1]
        predictions = pd.read_csv(directory / "predictions.csv")
        assert list(predictions.columns) == list(rundir.PREDICTION_COLUMNS)
        validation = manifest.table[folds == 0]
        assert predictions["image_id"].tolist() == validation["image_id"].tolist()
        assert set(predictions["masked"]) == {True, False}
        assert (predictions["correct"] == (predictions["pred"] == predictions["label"])).all()
        logits = predictions[[f"logit_{c}" for c in CLASSES]].to_numpy()
        assert (np.asarray(CLASSES)[logits.argmax(1)] == predictions["pred"]).all()
        assert np.isclose(history["val_acc_m"].iloc[-1], predictions.loc[predictions["masked"], "correct"].mean())
        embeddings = np.load(directory / "embeddings.npy")
        assert embeddings.dtype == np.float32 and embeddings.shape == (len(predictions), 512)
        done = json.loads((directory / "DONE").read_text())
        assert set(done) == {"finished_utc", "epochs", "seconds"} and done["epochs"] == 1
        checkpoint = torch.load(directory / "checkpoint.pt", weights_only=True)
        assert set(checkpoint) == set(rundir.FINISHED_CHECKPOINT_KEYS)  # lean once DONE: no optimiser state
        assert checkpoint["config"]["architecture"] == "resnet18" and checkpoint["config"]["image_size"] == 32
    summary = pd.read_csv(kd_run / "summary.csv")
    assert summary["model"].tolist() == ["baseline-nm", "kd"]
    assert list(summary.columns) == ["model", "folds", "nm_mean", "nm_sd", "m_mean", "m_sd"]


def test_teacher_frozen_and_trained_only_on_training_subjects(kd_run: Path) -> None:
    table = Manifest.load(kd_run / "manifest.csv").table
    table["fold"] = table["fold"].astype(int)
    context = FoldContext(kd_run, kd_run / "kd" / "fold-0", 0, table, torch.device("cpu"))
    _, teacher_config = load_fold_model(kd_run / "baseline-nm" / "fold-0")
    assert set(teacher_config["train_subjects"]) == context.training_subjects
    assert not set(teacher_config["train_subjects"]) & context.validation_subjects
    method = create_method("kd", load_preset("smoke"))
    method.prepare(context)
    student = method.build_model(7).train()
    images = load_images(Manifest.load(kd_run / "manifest.csv"), 32)
    rows = method.training_set(table[table["fold"] != 0]).rows[:4]
    views = [normalise(to_float(torch.from_numpy(np.array(images[rows[:, v]])))) for v in range(2)]
    step = method.training_step(student, Batch(views, torch.zeros(4, dtype=torch.long)))
    step.loss.backward()
    assert not method.teacher.training
    assert all(p.grad is None and not p.requires_grad for p in method.teacher.parameters())
    assert any(p.grad is not None for p in student.parameters())


def test_leaky_teacher_is_refused(kd_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "leaky"
    shutil.copytree(kd_run, copy)
    path = copy / "baseline-nm" / "fold-0" / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    table = Manifest.load(copy / "manifest.csv").table
    table["fold"] = table["fold"].astype(int)
    state["config"]["train_subjects"] = sorted(table["subject"].unique())
    torch.save(state, path)
    context = FoldContext(copy, copy / "kd" / "fold-0", 0, table, torch.device("cpu"))
    with pytest.raises(DataError, match="validation subject"):
        create_method("kd", load_preset("smoke")).prepare(context)


def test_load_fold_model_round_trip(kd_run: Path) -> None:
    directory = kd_run / "baseline-nm" / "fold-0"
    model, config = load_fold_model(directory)
    assert not model.training and config["model"] == "baseline-nm" and config["fold"] == 0
    manifest = Manifest.load(kd_run / "manifest.csv")
    predictions = pd.read_csv(directory / "predictions.csv")
    rows = manifest.table.index[manifest.table["image_id"].isin(predictions["image_id"])].to_numpy()
    images = torch.from_numpy(np.asarray(load_images(manifest, config["image_size"])[rows]))
    with torch.no_grad():
        logits = model(normalise(to_float(images)))
    expected = predictions[[f"logit_{c}" for c in CLASSES]].to_numpy()
    assert np.allclose(logits.numpy(), expected, atol=1e-4)
    embeddings = np.load(directory / "embeddings.npy")
    with torch.no_grad():
        assert np.allclose(model.embed(normalise(to_float(images))).numpy(), embeddings, atol=1e-4)


def test_image_size_and_crop_have_one_source(kd_run: Path) -> None:
    """study.json holds the image size and crop; each checkpoint's copies agree, and a disagreeing one is refused."""
    study = rundir.read_study(kd_run)
    setting = rundir.image_input(study, kd_run / "study.json")
    assert setting == rundir.ImageInput(32, True) == open_run(kd_run).image_input()
    for model in ("baseline-nm", "kd"):
        _, config = load_fold_model(kd_run / model / "fold-0")
        assert open_run(kd_run).image_input(config) == setting
    with pytest.raises(DataError, match="trained at image_size \\[32, 64\\]"):
        rundir.image_input(study, kd_run / "study.json", {**config, "image_size": 64})
    with pytest.raises(DataError, match="face_crop False, but the study records 32, True"):
        rundir.image_input(study, kd_run / "study.json", {**config, "training": {"face_crop": False}})
    with pytest.raises(DataError, match="config.image_size None"):
        rundir.image_input({**study, "config": {}}, kd_run / "study.json")


def test_whole_checkpoint_of_an_older_run_still_reads_and_is_made_lean(kd_run: Path, tmp_path: Path) -> None:
    """Run directories written before lean checkpoints keep the optimiser state; they load alike."""
    fold = tmp_path / "fold-0"
    shutil.copytree(kd_run / "baseline-nm" / "fold-0", fold)
    lean = torch.load(fold / "checkpoint.pt", weights_only=True)
    whole = {**lean, "optimizer": {"state": {}, "param_groups": []}, "scheduler": {}, "rng": {}, "history": []}
    torch.save(whole, fold / "checkpoint.pt")
    model, config = load_fold_model(fold)
    assert config == lean["config"]
    assert all(torch.equal(value, lean["model"][key]) for key, value in model.state_dict().items())
    rundir.finish_checkpoint(fold)
    assert set(torch.load(fold / "checkpoint.pt", weights_only=True)) == set(rundir.FINISHED_CHECKPOINT_KEYS)
    (fold / "DONE").unlink()
    with pytest.raises(ValueError, match="only a DONE fold"):
        rundir.finish_checkpoint(fold)


def test_loading_a_fold_model_imports_neither_the_runner_nor_the_demo(kd_run: Path) -> None:
    """interp rebuilds models through trainers.models.checkpoint, which imports only the model registry."""
    fold = kd_run / "baseline-nm" / "fold-0"
    code = (
        "import sys\n"
        "from trainers.models.checkpoint import load_fold_model\n"
        f"model, config = load_fold_model({str(fold)!r})\n"
        "print(config['model'], sorted(m for m in sys.modules if m.startswith(FORBIDDEN)))\n"
        "import interp.audit.pipeline\n"
        "print(sorted(m for m in sys.modules if m.startswith(FORBIDDEN)))\n"
    )
    forbidden = "FORBIDDEN = ('trainers.runner', 'trainers.loop', 'trainers.data.demo')\n"
    result = subprocess.run([sys.executable, "-c", forbidden + code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["baseline-nm []", "[]"]


def test_rerun_with_other_config_or_manifest_is_refused(kd_run: Path, small_manifest: Path, tmp_path: Path) -> None:
    config = override(load_preset("smoke"), epochs=3, folds=[0])
    with pytest.raises(DataError, match="epochs: 1 -> 3"):
        run_study(small_manifest, config, "smoke", ["kd"], kd_run, device="cpu")
    other = write_dataset(tmp_path / "other", subjects=4, seed=1)
    with pytest.raises(DataError, match="another manifest"):
        run_study(other, override(config, epochs=1), "smoke", ["kd"], kd_run, device="cpu")


def test_killed_run_resumes_to_identical_predictions(small_manifest: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = dataclasses.replace(load_preset("smoke"), folds=[0])
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    run_study(small_manifest, config, "smoke", ["baseline-mix"], whole, device="cpu")

    save = rundir.save_checkpoint

    def save_then_die(path: Path, state: dict) -> None:
        save(path, state)
        if state["epoch"] == 1:
            raise KeyboardInterrupt("killed after epoch 1")

    monkeypatch.setattr(rundir, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_study(small_manifest, config, "smoke", ["baseline-mix"], killed, device="cpu")
    monkeypatch.undo()
    fold = killed / "baseline-mix" / "fold-0"
    interrupted = torch.load(fold / "checkpoint.pt", weights_only=True)
    assert not (fold / "DONE").exists() and interrupted["epoch"] == 1
    assert {"optimizer", "scheduler", "rng", "history"} <= set(interrupted)  # what resuming needs
    run_study(small_manifest, config, "smoke", ["baseline-mix"], killed, device="cpu")
    a = pd.read_csv(whole / "baseline-mix" / "fold-0" / "predictions.csv")
    b = pd.read_csv(fold / "predictions.csv")
    pd.testing.assert_frame_equal(a, b)
    history = pd.read_csv(fold / "history.csv")
    assert history["epoch"].tolist() == [1, 2]
    assert np.array_equal(np.load(whole / "baseline-mix" / "fold-0" / "embeddings.npy"),
                          np.load(fold / "embeddings.npy"))
    # a finished fold is skipped: its DONE is not rewritten
    done = (fold / "DONE").read_text()
    run_study(small_manifest, config, "smoke", ["baseline-mix"], killed, device="cpu")
    assert (fold / "DONE").read_text() == done


def test_cli_bad_input_exits_2(tmp_path: Path, small_manifest: Path, capsys: pytest.CaptureFixture) -> None:
    from trainers.cli import main

    assert main(["run", "--data", str(tmp_path / "absent.csv"), "--preset", "smoke", "--out", str(tmp_path / "r")]) == 2
    assert main(["run", "--data", str(small_manifest), "--preset", "smoke", "--models", "baseline-xx",
                 "--out", str(tmp_path / "r")]) == 2
    assert "baseline-xx" in capsys.readouterr().err
    assert main(["run", "--data", str(small_manifest), "--preset", "smoke", "--folds", "5",
                 "--out", str(tmp_path / "r")]) == 2
