"""The fold runner: every requested model on every requested fold, resumable, then a summary.

:func:`run_study` opens (or reopens) a run directory, freezes the manifest with its ``fold``
column, trains each (model, fold) that has no ``DONE`` yet with :func:`trainers.loop.train_fold`
(models a method ``requires``, like KD's teacher, first) and writes ``summary.csv``: mean and
standard deviation over folds of the non-masked and masked validation accuracy per model, the
shape of the MSD-E paper's Tables 3-5.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from trainers import rundir
from trainers.atomic import atomic_open
from trainers.config import TrainConfig, config_differences, to_dict
from trainers.data.cache import load_images
from trainers.data.folds import assign_folds
from trainers.data.manifest import Manifest, content_hash
from trainers.errors import DataError
from trainers.loop import train_fold
from trainers.methods import ARMS, check_config, create_method
from trainers.methods.base import FoldContext
from trainers.provenance import provenance

__all__ = ["run_study", "summarise", "format_summary", "order_models", "resolve_device"]

log = logging.getLogger(__name__)
SUMMARY_FILE = "summary.csv"


def resolve_device(name: str | None) -> torch.device:
    """``cuda`` when available and ``name`` is ``None``; else the named device."""
    if name is None:
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DataError("--device cuda: no CUDA device is available here; use --device cpu")
    return torch.device(name)


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
              device: str | None = None) -> pd.DataFrame:
    """Train ``models`` on the folds of ``config`` into the run directory ``out``; return the summary.

    A rerun into the same ``out`` resumes unfinished folds and skips folds with ``DONE``; it is
    refused (:class:`DataError`) when the manifest or the config differs from the first run's.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch_device = resolve_device(device)
    manifest = Manifest.load(data)
    models = order_models(models)
    arms = json.loads(json.dumps({name: method.settings() for name, method in check_config(config, models).items()}))
    folds = config.folds if config.folds is not None else list(range(config.k))
    if any(not 0 <= f < config.k for f in folds):
        raise DataError(f"--folds {folds}: fold indices run from 0 to {config.k - 1}")
    table = _open_run_dir(Path(out), manifest, config, preset, arms, folds, torch_device)
    ordered = manifest.with_table(manifest.table.set_index("image_id").loc[table["image_id"]].reset_index())
    images = load_images(ordered, config.image_size, face_crop=config.face_crop)
    if torch_device.type == "cuda":
        images = torch.from_numpy(np.ascontiguousarray(images)).to(torch_device)
    tasks = [(model, fold) for model in models for fold in folds]
    for model, fold in tqdm(tasks, desc="folds", unit="fold"):
        directory = rundir.fold_dir(out, model, fold)
        if rundir.is_done(directory):
            log.info("%s fold %d: DONE, skipped", model, fold)
            continue
        context = FoldContext(Path(out), directory, fold, table, torch_device)
        train_fold(create_method(model, config), context, images)
    summary = summarise(Path(out), models, folds)
    with atomic_open(Path(out) / SUMMARY_FILE, newline="") as handle:
        summary.to_csv(handle, index=False)
    return summary


def _open_run_dir(out: Path, manifest: Manifest, config: TrainConfig, preset: str, arms: dict[str, dict],
                  folds: list[int], device: torch.device) -> pd.DataFrame:
    """Create the run directory, or check that it belongs to this manifest, config and arm settings; the table.

    ``arms`` maps each model to train to its resolved settings (:meth:`Method.settings`); they are recorded
    in ``study.json`` and, for models the run already has, must equal the recorded ones.
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
        differences = config_differences(_comparable(study["config"]), _comparable(resolved))
        recorded = study.get("arms", {})
        common = [name for name in arms if name in recorded]
        differences += config_differences({n: recorded[n] for n in common}, {n: arms[n] for n in common}, "arms.")
        if differences:
            raise DataError(f"{study_path}: config differs from the run's: {'; '.join(differences)}; "
                            "use the same options or a new --out directory")
        frozen = rundir.read_manifest(out)
        models = list(dict.fromkeys(study["models"] + models))
        folds = sorted(set(study["folds"]) | set(folds))
        record = {**study, "models": models, "folds": folds, "arms": {**recorded, **arms}}
    else:
        frozen = manifest.table.assign(fold=assign_folds(manifest.table, config.k, config.seed).to_numpy())
        rundir.write_manifest(out, manifest.with_table(frozen))
        record = {
            "schema": rundir.SCHEMA, "study": out.name, "preset": preset, "config": resolved, "models": models,
            "arms": arms, "k": config.k, "folds": folds, "seed": config.seed, "manifest_hash": manifest_hash,
            "device": _describe(device), **provenance(),
        }
    rundir.write_study(out, record)
    return frozen.reset_index(drop=True)


def _comparable(config: dict) -> dict:
    """The config without the fields a rerun may change (which folds to run)."""
    return {k: v for k, v in config.items() if k != "folds"}


def _describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


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
                nm.append(rundir.subset_accuracy(predictions, masked=False))
                m.append(rundir.subset_accuracy(predictions, masked=True))
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
