"""The Ray executor on a local two-CPU Ray instance (one per module: start-up takes seconds).

A smoke study of ``kd`` (with its teacher ``baseline-nm``) on two folds must give the same run
directory as the local executor, start each KD task only after its teacher finished, resume a task
killed mid-way on a rerun, and let the other tasks finish when one fails, with a non-zero exit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray
import torch

from tests.trainers.conftest import write_dataset
from trainers import rundir
from trainers.cli import main
from trainers.config import load_preset, override
from trainers.device import cache_fits
from trainers.executors.base import SKIPPED, TRAINED, Task, longest_first
from trainers.executors.ray import RayExecutor, _run_task
from trainers.runner import plan_study, run_study

CONFIG = override(load_preset("smoke"), epochs=1)  # two folds (k = 2), 32 px


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One image-cache folder for the module's runs (the local and the Ray tasks read the same file)."""
    folder = tmp_path_factory.mktemp("ray-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MASKFER_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ray-data"), subjects=4)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A local Ray instance with two CPUs, shared by the module's tests."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local_run(manifest: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local") / "study"
    run_study(manifest, CONFIG, "smoke", ["kd"], out, device="cpu")
    return out


@pytest.fixture(scope="module")
def ray_run(cluster: None, manifest: Path, cache_dir: Path,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RayExecutor]:
    out = tmp_path_factory.mktemp("ray") / "study"
    executor = RayExecutor(cpus_per_task=1)
    run_study(manifest, CONFIG, "smoke", ["kd"], out, executor=executor)
    return out, executor


def _files(run_dir: Path) -> set[str]:
    return {path.relative_to(run_dir).as_posix() for path in run_dir.rglob("*") if path.is_file()}


def test_ray_run_directory_equals_local_and_kd_waits_for_its_teacher(local_run: Path,
                                                                     ray_run: tuple[Path, RayExecutor]) -> None:
    ray_dir, executor = ray_run
    assert _files(ray_dir) == _files(local_run)
    for name in ("manifest.csv", "summary.csv"):
        assert (ray_dir / name).read_bytes() == (local_run / name).read_bytes(), name
    for model in ("baseline-nm", "kd"):
        for fold in (0, 1):
            a, b = rundir.fold_dir(local_run, model, fold), rundir.fold_dir(ray_dir, model, fold)
            assert (a / "predictions.csv").read_bytes() == (b / "predictions.csv").read_bytes()
            assert np.array_equal(np.load(a / "embeddings.npy"), np.load(b / "embeddings.npy"))
            pd.testing.assert_frame_equal(pd.read_csv(a / "history.csv").drop(columns="seconds"),
                                          pd.read_csv(b / "history.csv").drop(columns="seconds"))
            weights_a = torch.load(a / "checkpoint.pt", weights_only=True)["model"]
            weights_b = torch.load(b / "checkpoint.pt", weights_only=True)["model"]
            assert all(torch.equal(weights_a[key], weights_b[key]) for key in weights_a)
    study_a, study_b = (json.loads((d / "study.json").read_text()) for d in (local_run, ray_dir))
    assert study_b["device"].startswith("ray (cpu") and study_a["config"] == study_b["config"]
    assert study_a["models"] == study_b["models"] == ["baseline-nm", "kd"]

    results = {(r.task.model, r.task.fold): r for r in executor.results}
    assert {r.status for r in results.values()} == {TRAINED}
    for fold in (0, 1):
        teacher, student = results[("baseline-nm", fold)], results[("kd", fold)]
        assert student.task.requires == ("baseline-nm",)
        assert student.started >= teacher.finished
        assert "pid" in student.where and "pid" in teacher.where


def test_rerun_skips_finished_tasks(ray_run: tuple[Path, RayExecutor], manifest: Path) -> None:
    ray_dir, _ = ray_run
    done = (rundir.fold_dir(ray_dir, "kd", 0) / "DONE").read_text()
    executor = RayExecutor()
    run_study(manifest, CONFIG, "smoke", ["kd"], ray_dir, executor=executor)
    assert {r.status for r in executor.results} == {SKIPPED}
    assert (rundir.fold_dir(ray_dir, "kd", 0) / "DONE").read_text() == done


def test_longest_tasks_are_submitted_first_and_after_what_they_require(manifest: Path, cache_dir: Path,
                                                                       tmp_path: Path) -> None:
    plan = plan_study(manifest, CONFIG, "smoke", ["baseline-nm", "baseline-mix", "kd", "ran"], tmp_path / "study",
                      "cpu", "ray (cpu)")
    order = [(task.model, task.fold) for task in longest_first(plan)]
    assert sorted(order) == sorted((task.model, task.fold) for task in plan.tasks)
    assert order[:2] == [("ran", 0), ("ran", 1)]  # six crops a sample
    for fold in (0, 1):
        assert order.index(("baseline-nm", fold)) < order.index(("kd", fold))
        assert order.index(("baseline-mix", fold)) < order.index(("baseline-nm", fold))  # twice the images


@pytest.mark.slow
def test_task_killed_mid_way_is_resumed_by_a_rerun(cluster: None, manifest: Path, cache_dir: Path,
                                                   tmp_path: Path) -> None:
    config = override(CONFIG, epochs=4, folds=[0])
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    run_study(manifest, config, "smoke", ["baseline-mix"], whole, device="cpu")

    plan = plan_study(manifest, config, "smoke", ["baseline-mix"], killed, "cpu", "ray (cpu)")
    fold = rundir.fold_dir(killed, "baseline-mix", 0)
    ref = _run_task.options(max_retries=0).remote(plan, Task("baseline-mix", 0), 1)
    deadline = time.monotonic() + 120
    while not (fold / rundir.CHECKPOINT_FILE).is_file():
        assert time.monotonic() < deadline, "the task wrote no checkpoint within 120 s"
        time.sleep(0.02)
    ray.cancel(ref, force=True)  # SIGKILL of the worker process
    with pytest.raises(ray.exceptions.RayError):
        ray.get(ref, timeout=60)
    assert not rundir.is_done(fold)
    assert 1 <= torch.load(fold / rundir.CHECKPOINT_FILE, weights_only=True)["epoch"] < 4

    executor = RayExecutor()
    run_study(manifest, config, "smoke", ["baseline-mix"], killed, executor=executor)
    assert [r.status for r in executor.results] == [TRAINED]
    a, b = rundir.fold_dir(whole, "baseline-mix", 0), fold
    assert (a / "predictions.csv").read_bytes() == (b / "predictions.csv").read_bytes()
    assert pd.read_csv(b / "history.csv")["epoch"].tolist() == [1, 2, 3, 4]


def test_failed_task_lets_the_others_finish_and_exits_non_zero(ray_run: tuple[Path, RayExecutor], manifest: Path,
                                                                tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                capsys: pytest.CaptureFixture) -> None:
    run_dir = tmp_path / "broken"
    shutil.copytree(ray_run[0], run_dir)
    for fold in (0, 1):
        shutil.rmtree(rundir.fold_dir(run_dir, "kd", fold))
    (rundir.fold_dir(run_dir, "baseline-nm", 0) / rundir.CHECKPOINT_FILE).write_bytes(b"not a checkpoint")
    code = main(["run", "--data", str(manifest), "--preset", "smoke", "--epochs", "1", "--models", "kd",
                 "--out", str(run_dir), "--executor", "ray"])
    assert code == 1
    assert rundir.is_done(rundir.fold_dir(run_dir, "kd", 1))
    assert not rundir.is_done(rundir.fold_dir(run_dir, "kd", 0))
    assert "kd fold 0: failed" in caplog.text and "Traceback" in caplog.text and "unreadable checkpoint" in caplog.text
    assert "1 task(s) failed: kd fold 0" in capsys.readouterr().err
    summary = pd.read_csv(run_dir / "summary.csv").set_index("model")
    assert summary.loc["kd", "folds"] == 1 and summary.loc["baseline-nm", "folds"] == 2


def test_local_path_does_not_import_ray() -> None:
    code = ("import sys, trainers, trainers.runner, trainers.executors.local\n"
            "from trainers.cli import build_parser\nbuild_parser()\nassert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("options, message", [
    (["--gpus-per-task", "0.5"], "need --executor ray"),
    (["--executor", "ray", "--device", "cuda"], "needs --gpus-per-task > 0"),
    (["--executor", "ray", "--gpus-per-task", "0.5", "--device", "cpu"], "with --device cpu"),
])
def test_bad_executor_options_exit_2(options: list[str], message: str, manifest: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--data", str(manifest), "--preset", "smoke", "--out", str(tmp_path / "r"), *options]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_cache_goes_to_the_device_only_when_it_fits() -> None:
    assert cache_fits(4 * 2**30, 80 * 2**30)
    assert not cache_fits(60 * 2**30, 80 * 2**30)
