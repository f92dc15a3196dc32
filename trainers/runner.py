"""The fold runner: every requested model on every requested fold, resumable, then a summary.

:func:`run_study` opens (or reopens) a run directory, freezes the manifest with its ``fold``
column and builds the image cache (:func:`plan_study`); an executor then runs each (model, fold)
task (models a method ``requires``, like KD's teacher, first) through
:func:`trainers.executors.task.train_task`, which
trains a fold that has no ``DONE`` yet with :func:`trainers.loop.train_fold`. Last it writes
``summary.csv``: mean and standard deviation over folds of the non-masked and masked validation
accuracy per model, the shape of the MSD-E paper's Tables 3-5. The executor is
:mod:`trainers.executors.local` (this process, one task after another) unless another is given
(:mod:`trainers.executors.ray`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from trainers import rundir
from trainers.common.atomic import atomic_open
from trainers.config import TrainConfig, config_differences, to_dict
from trainers.data.cache import cache_path, load_images
from trainers.data.cross import ROLE_COLUMN, TEST_FOLD, TRAIN_ROLE, class_report, cross_dataset_table
from trainers.data.folds import assign_folds, folds_from_file
from trainers.data.manifest import Manifest, content_hash
from trainers.device import configure_determinism, native_bf16
from trainers.common.errors import DataError
from trainers.executors.base import SKIPPED, TRAINED, Executor, StudyPlan, Task, TasksFailed
from trainers.executors.local import LocalExecutor
from trainers.methods import ARMS, check_config
from trainers.common.provenance import provenance

__all__ = ["run_study", "plan_study", "summarise", "format_summary", "order_models"]

log = logging.getLogger(__name__)
SUMMARY_FILE = "summary.csv"


def order_models(models: list[str]) -> list[str]:
    """``models`` with each method's required models (e.g. KD's teacher) added before it."""
    ordered: list[str] = []
    for name in models:
        for needed in ARMS[name].method.requires:
            if needed not in ordered:
                log.info("%s needs %s of the same fold: training it too", name, needed)
                ordered.append(needed)
        if name not in ordered:
            ordered.append(name)
    return ordered


def run_study(data: Path, config: TrainConfig, preset: str, models: list[str], out: Path,
              device: str | None = None, executor: Executor | None = None,
              compile_model: bool = False, fold_file: Path | None = None,
              test_data: Path | None = None) -> pd.DataFrame:
    """Train ``models`` on the folds of ``config`` into the run directory ``out``; return the summary.

    A rerun into the same ``out`` resumes unfinished folds and skips folds with ``DONE``; it is
    refused (:class:`DataError`) when the manifest or the config differs from the first run's.

    Parameters
    ----------
    executor
        Runs the tasks; default :class:`trainers.executors.local.LocalExecutor` (this process, one
        task after another; the first error stops the study).
    compile_model
        ``torch.compile`` each model's convolutional trunk.
    fold_file
        A subject -> fold file (``trainers data folds --out``) whose folds the frozen manifest takes,
        instead of folds drawn from ``config.seed``.
    test_data
        Cross-dataset: a second manifest that every fold's model is evaluated on (instead of its
        held-out fold); the folds split ``data`` only (``config.k == 1``: train on all of it).

    Raises
    ------
    TasksFailed
        When the executor reports failed tasks (the Ray executor runs the others on); the summary
        of the finished folds is written first.
    """
    configure_determinism()
    executor = executor if executor is not None else LocalExecutor()
    task_device, description = executor.resolve_device(device)
    plan = plan_study(data, config, preset, models, out, task_device, description, compile_model, fold_file,
                      test_data)
    results = executor.run(plan)
    models = list(dict.fromkeys(task.model for task in plan.tasks))
    folds = sorted({task.fold for task in plan.tasks})
    summary = summarise(Path(out), models, folds)
    with atomic_open(Path(out) / SUMMARY_FILE, newline="") as handle:
        summary.to_csv(handle, index=False)
    failures = [result for result in results if result.status not in (TRAINED, SKIPPED)]
    if failures:
        raise TasksFailed(failures, summary)
    return summary


def plan_study(data: Path, config: TrainConfig, preset: str, models: list[str], out: Path, device: str,
               device_description: str, compile_model: bool = False, fold_file: Path | None = None,
               test_data: Path | None = None) -> StudyPlan:
    """Open the run directory, freeze the manifest and build the image cache; the study's tasks.

    Parameters
    ----------
    device
        Where the tasks train (``cpu``, ``cuda``).
    device_description
        What ``study.json`` records as the device.
    compile_model
        ``torch.compile`` each model's convolutional trunk.
    fold_file
        The subject -> fold file the frozen manifest's folds come from (default: drawn from the seed).
    test_data
        Cross-dataset: the manifest every fold is evaluated on (:mod:`trainers.data.cross`).
    """
    manifest = Manifest.load(data)
    _check_labelled(manifest, data)
    cross = None
    if test_data is not None:
        test = Manifest.load(test_data)
        _check_labelled(test, test_data)
        cross = {"train_manifest": str(Path(data).resolve()), "train_manifest_hash": content_hash(manifest),
                 "test_manifest": str(Path(test_data).resolve()), "test_manifest_hash": content_hash(test),
                 **class_report(manifest.table, test.table)}
        manifest = cross_dataset_table(manifest, test)
    models = order_models(models)
    arms = json.loads(json.dumps({name: method.settings() for name, method in check_config(config, models).items()}))
    _check_init(config, arms)
    folds = study_folds(config)
    if config.repeats > 1 and (fold_file is not None or cross is not None):
        raise DataError(f"--repeats {config.repeats}: repeated cross-validation draws each repeat's folds from the "
                        "seed; it does not combine with --fold-file or --test-data (one fixed assignment)")
    precision = "bf16" if config.bf16 and native_bf16(torch.device(device)) else "float32"
    table = _open_run_dir(Path(out), manifest, config, preset, arms, folds, device_description, fold_file, cross,
                          precision)
    ordered = manifest.with_table(manifest.table.set_index("image_id").loc[table["image_id"]].reset_index())
    load_images(ordered, config.image_size, face_crop=config.face_crop)
    cache = cache_path(ordered, config.image_size, config.face_crop).resolve()
    tasks = [Task(model, fold, tuple(ARMS[model].method.requires)) for model in models for fold in folds]
    return StudyPlan(Path(out).resolve(), config, table, cache, device, compile_model, tasks)


def _check_labelled(manifest: Manifest, path: Path) -> None:
    """Refuse a manifest with unlabelled photos (empty ``label``): training and scoring need labels."""
    unlabelled = manifest.table.loc[manifest.table["label"] == "", "image_id"]
    if len(unlabelled):
        raise DataError(f"{path}: {len(unlabelled)} image(s) have no label (first: {unlabelled.iloc[0]}); label "
                        "them to train, or audit a trained model on them with `python -m interp.audit`")


def study_folds(config: TrainConfig) -> list[int]:
    """The fold ids to run: ``config.folds`` (folds within a repeat, ``0..k-1``; default all) in every repeat.

    Raises
    ------
    DataError
        For a fold outside ``0..k-1`` or fewer than one repeat.
    """
    if config.repeats < 1:
        raise DataError(f"--repeats {config.repeats}: give a positive number of repeats")
    folds = config.folds if config.folds is not None else list(range(config.k))
    if any(not 0 <= f < config.k for f in folds):
        raise DataError(f"--folds {folds}: fold indices run from 0 to {config.k - 1}")
    return [repeat * config.k + fold for repeat in range(config.repeats) for fold in folds]


def arm_records(record: dict, config: TrainConfig, table: pd.DataFrame) -> dict[str, dict]:
    """``record["arms"]`` with each registered arm's description (:meth:`trainers.methods.Arm.describe`), the
    subset it trains on (``trains_on``: :meth:`trainers.methods.base.Method.training_subset`) and its per-epoch
    budget (:meth:`trainers.methods.base.Method.budget`) on every fold of the study.

    ``budget``: ``steps_per_epoch`` and ``images_per_epoch`` (means over the folds), ``images_per_step``,
    ``epochs`` and ``per_fold`` (fold id -> ``samples``, ``steps_per_epoch``, ``images_per_epoch``). An arm
    the registry no longer knows keeps what was recorded.
    """
    arms = {name: dict(settings) for name, settings in record["arms"].items()}
    known = [name for name in record["models"] if name in ARMS and name in arms]
    for name, method in check_config(config, known).items():
        per_fold = {str(fold): method.budget(table[rundir.fold_rows(table, fold)[0]]) for fold in record["folds"]}
        batching = method.batching()
        arms[name].update(ARMS[name].describe(), trains_on=method.training_subset(), budget={
            "steps_per_epoch": float(np.mean([b["steps_per_epoch"] for b in per_fold.values()])),
            "images_per_epoch": float(np.mean([b["images_per_epoch"] for b in per_fold.values()])),
            "images_per_step": batching["samples_per_step"] * batching["images_per_sample"],
            "epochs": method.config.epochs, "per_fold": per_fold,
        })
    return arms


def _check_init(config: TrainConfig, arms: dict[str, dict]) -> None:
    """Refuse, before anything is written, arms that would start from random initialisation when
    ``config.require_weights`` (the ``paper`` preset) is set."""
    random = [name for name, arm in arms.items() if arm["init"] == "random"]
    if config.require_weights and random:
        raise DataError(
            f"arm(s) {', '.join(random)} would start from random initialisation, and this preset requires "
            "pretrained weights (require_weights): pass --weights FILE (RAN/SCAN: --set ran.weights=FILE, "
            "--set scan.weights=FILE), leave those arms out with --models, or pass --allow-random-init"
        )


def _open_run_dir(out: Path, manifest: Manifest, config: TrainConfig, preset: str, arms: dict[str, dict],
                  folds: list[int], device: str, fold_file: Path | None = None,
                  cross: dict | None = None, precision: str = "float32") -> pd.DataFrame:
    """Create the run directory, or check that it belongs to this manifest, config and arm settings; the table.

    ``arms`` maps each model to train to its resolved settings (:meth:`Method.settings`); they are recorded
    in ``study.json`` and, for models the run already has, must equal the recorded ones. The frozen
    manifest's folds come from ``fold_file`` when given (``study.json`` records its name and SHA-256; a
    rerun with a fold file checks that the frozen folds are the file's), else from ``config.seed``.
    ``cross`` (a cross-dataset run: the manifests' paths and hashes, the class report) goes into
    ``study.json`` as ``cross_dataset``; ``precision`` (``bf16`` or ``float32``, what the tasks compute in)
    as ``precision``.
    """
    models = list(arms)
    manifest_hash = content_hash(manifest)
    resolved = to_dict(config)
    study_path = out / rundir.STUDY_FILE
    if study_path.is_file():
        study = rundir.read_study(out)
        if study["manifest_hash"] != manifest_hash:
            raise DataError(f"{study_path}: run was made from another manifest (hash {study['manifest_hash'][:12]} "
                            f"vs {manifest_hash[:12]} of {manifest.root}); use a new --out directory")
        differences = config_differences(_comparable({"repeats": 1, **study["config"]}), _comparable(resolved))
        recorded = study.get("arms", {})
        common = [name for name in arms if name in recorded]
        differences += config_differences({n: _settings(recorded[n], arms[n]) for n in common},
                                          {n: arms[n] for n in common}, "arms.")
        if differences:
            raise DataError(f"{study_path}: config differs from the run's: {'; '.join(differences)}; "
                            "use the same options or a new --out directory")
        frozen = rundir.read_manifest(out)
        if fold_file is not None:
            expected, _ = _fold_assignment(frozen, config, fold_file)
            if not np.array_equal(expected.to_numpy(), frozen["fold"].to_numpy()):
                raise DataError(f"--fold-file {fold_file}: its folds differ from those frozen in "
                                f"{out / rundir.MANIFEST_FILE}; use the run's fold file or a new --out directory")
        models = list(dict.fromkeys(study["models"] + models))
        folds = sorted(set(study["folds"]) | set(folds))
        record = {**study, "models": models, "folds": folds, "arms": {**recorded, **arms}}
    else:
        assigned, source = _fold_assignment(manifest.table, config, fold_file)
        frozen = manifest.table.assign(fold=assigned.to_numpy(), **_repeat_folds(manifest.table, config))
        rundir.write_manifest(out, manifest.with_table(frozen))
        record = {
            "schema": rundir.SCHEMA, "study": out.name, "preset": preset, "config": resolved, "models": models,
            "arms": arms, "k": config.k, "repeats": config.repeats, "folds": folds, "seed": config.seed,
            "repeat_seeds": [config.seed + repeat for repeat in range(config.repeats)], "manifest_hash": manifest_hash,
            "fold_file": source, "device": device, "precision": precision, **provenance(),
        }
        if cross is not None:
            record["cross_dataset"] = cross
    record["arms"] = arm_records(record, config, frozen.reset_index(drop=True))
    rundir.write_study(out, record)
    return frozen.reset_index(drop=True)


def _fold_assignment(table: pd.DataFrame, config: TrainConfig, fold_file: Path | None
                     ) -> tuple[pd.Series, dict[str, str] | None]:
    """Each row's fold, and what ``study.json`` records of the fold file (``None`` for seeded folds).

    Raises
    ------
    DataError
        For a bad fold file, a subject missing from it, or a file whose number of folds is not ``config.k``.
    """
    if ROLE_COLUMN in table.columns:  # cross-dataset: only the training dataset is split
        train = (table[ROLE_COLUMN] == TRAIN_ROLE).to_numpy()
        folds = pd.Series(TEST_FOLD, index=table.index, name="fold")
        if config.k == 1:
            folds[train] = 0
            return folds, None
        assigned, source = _fold_assignment(table[train].drop(columns=ROLE_COLUMN), config, fold_file)
        folds[train] = assigned.to_numpy()
        return folds, source
    if fold_file is None:
        return assign_folds(table, config.k, config.seed), None
    assigned, k = folds_from_file(table, fold_file)
    if k != config.k:
        raise DataError(f"--fold-file {fold_file} has {k} folds but the config's k is {config.k}; pass --k {k}")
    return assigned, {"name": Path(fold_file).name, "sha256": hashlib.sha256(Path(fold_file).read_bytes()).hexdigest()}


def _repeat_folds(table: pd.DataFrame, config: TrainConfig) -> dict[str, np.ndarray]:
    """The folds of repeats 1.. (``--repeats``), drawn from ``seed + r``: frozen-manifest column -> folds."""
    return {rundir.REPEAT_COLUMN.format(repeat=repeat): assign_folds(table, config.k, config.seed + repeat).to_numpy()
            for repeat in range(1, config.repeats)}


def _settings(arm: dict, current: dict) -> dict:
    """A recorded arm without its description (:data:`trainers.rundir.ARM_DESCRIPTION_KEYS`): what it trains.

    An arm recorded before ``batching`` existed was trained ``batch_size`` samples a step, one pass an epoch
    (``current``: the same arm's settings now, for its images per sample): the baselines resume, while CL
    and KD, whose batching the budget rule changed, are refused.
    """
    settings = {key: value for key, value in arm.items() if key not in rundir.ARM_DESCRIPTION_KEYS}
    if "batching" not in settings and "batching" in current:
        settings["batching"] = {**current["batching"], "samples_per_step": settings.get("batch_size"),
                                "passes_per_epoch": 1}
    return settings


def _comparable(config: dict) -> dict:
    """The config without the fields a rerun may change (which folds to run)."""
    return {k: v for k, v in config.items() if k != "folds"}


def summarise(run_dir: Path, models: list[str], folds: list[int] | None = None) -> pd.DataFrame:
    """Mean and standard deviation over finished folds of NM and M validation accuracy per model.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``folds`` (finished folds counted), ``nm_mean``, ``nm_sd``, ``m_mean``,
        ``m_sd`` (accuracies in [0, 1]; sd with ddof=1, NaN for one fold).
    """
    rows = []
    for model in models:
        nm, m = [], []
        for directory in sorted((run_dir / model).glob("fold-*")):
            if folds is not None and int(directory.name.split("-")[1]) not in folds:
                continue
            if rundir.is_done(directory):
                predictions = pd.read_csv(directory / rundir.PREDICTIONS_FILE)
                nm.append(rundir.view_accuracy(predictions, masked=False))
                m.append(rundir.view_accuracy(predictions, masked=True))
        rows.append({"model": model, "folds": len(nm), "nm_mean": np.nanmean(nm) if nm else np.nan,
                     "nm_sd": np.std(nm, ddof=1) if len(nm) > 1 else np.nan,
                     "m_mean": np.nanmean(m) if m else np.nan, "m_sd": np.std(m, ddof=1) if len(m) > 1 else np.nan})
    return pd.DataFrame(rows)


def format_summary(summary: pd.DataFrame) -> str:
    """The summary as a text table in percent: ``model  folds  NM mean +- sd  M mean +- sd``."""

    def cell(mean: float, sd: float) -> str:
        if np.isnan(mean):
            return "-"
        return f"{100 * mean:6.2f}" + ("" if np.isnan(sd) else f" +- {100 * sd:5.2f}")

    lines = [f"{'model':<14} {'folds':>5}  {'NM accuracy %':<16} {'M accuracy %':<16}"]
    for row in summary.itertuples():
        lines.append(f"{row.model:<14} {row.folds:>5}  {cell(row.nm_mean, row.nm_sd):<16} {cell(row.m_mean, row.m_sd):<16}")
    return "\n".join(lines)
