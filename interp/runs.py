"""The analysis view of a run directory, whose format :mod:`trainers.rundir` defines.

:func:`open_run` checks ``study.json`` and the ``DONE`` marker of every (model, fold) and returns a
:class:`Run` whose methods give tidy pandas tables: predictions (one row per validation image of
every model and fold), histories, fold sizes, and embeddings on demand with rows aligned to the
predictions. The tables and statistics read a run through it; the attribution step also rebuilds
models (:mod:`trainers.models.checkpoint`) and reads images through the frozen manifest.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from interp.tables import view_rows
from trainers import rundir
from trainers.common.errors import DataError


class PartialRunWarning(UserWarning):
    """A run is read although some of its folds are missing or unfinished."""


@dataclass
class Run:
    """A finished (or, with ``allow_partial``, partly finished) run directory.

    Attributes
    ----------
    path
        The run directory.
    study
        The parsed ``study.json``.
    finished
        Model name -> fold indices whose ``DONE`` marker is present, in ``study["folds"]`` order.
    missing
        ``(model, fold, reason)`` for every fold left out (only non-empty for partial runs).
    """

    path: Path
    study: dict
    finished: dict[str, list[int]]
    missing: list[tuple[str, int, str]] = field(default_factory=list)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def models(self) -> list[str]:
        """Models with at least one finished fold, in ``study.json`` order."""
        return [m for m in self.study["models"] if self.finished.get(m)]

    @property
    def k(self) -> int:
        """Number of folds of the split (not necessarily all run)."""
        return int(self.study["k"])

    @property
    def folds(self) -> list[int]:
        """Fold indices the study ran."""
        return [int(f) for f in self.study["folds"]]

    @property
    def study_file(self) -> Path:
        """The run's ``study.json``."""
        return self.path / rundir.STUDY_FILE

    @property
    def manifest_file(self) -> Path:
        """The run's frozen ``manifest.csv``."""
        return self.path / rundir.MANIFEST_FILE

    def image_input(self, checkpoint_config: dict | None = None) -> rundir.ImageInput:
        """Image size and face crop of every arm, from ``study.json`` (:func:`trainers.rundir.image_input`);
        with a fold's ``checkpoint_config``, checked to agree with it."""
        return rundir.image_input(self.study, self.study_file, checkpoint_config)

    def fold_dir(self, model: str, fold: int) -> Path:
        """Folder of one (model, fold)."""
        return rundir.fold_dir(self.path, model, fold)

    def fold_dirs(self) -> list[tuple[str, int, Path]]:
        """``(model, fold, folder)`` of every finished fold, models then folds in study order."""
        return [(m, f, self.fold_dir(m, f)) for m in self.models for f in self.finished[m]]

    def manifest(self) -> pd.DataFrame:
        """The frozen manifest table with an int ``fold`` column."""
        if "manifest" not in self._cache:
            self._cache["manifest"] = rundir.read_manifest(self.path)
        return self._cache["manifest"]

    def predictions(self) -> pd.DataFrame:
        """Tidy predictions of every finished fold.

        Columns: ``model``, ``fold``, ``subset`` (``"NM"``/``"M"``), ``row`` (row in the fold's
        predictions.csv), then :data:`trainers.rundir.PREDICTION_COLUMNS`. Rows are ordered by model (study order),
        fold, then file row; :meth:`embeddings` follows the same order.
        """
        if "predictions" not in self._cache:
            frames = [_read_predictions(path, model, fold)
                      for model, fold, path in self.fold_dirs()]
            if not frames:
                raise DataError(f"{self.path}: no finished fold to read")
            self._cache["predictions"] = pd.concat(frames, ignore_index=True)
        return self._cache["predictions"]

    def embeddings(self, model: str, fold: int | None = None) -> np.ndarray:
        """Validation embeddings of ``model`` (one fold, or all its folds stacked in fold order).

        Rows are aligned with ``predictions()`` filtered to the same model (and fold).
        """
        folds = self.finished.get(model, []) if fold is None else [fold]
        if not folds or (fold is not None and fold not in self.finished.get(model, [])):
            raise DataError(f"{self.path}: no finished fold {fold} for model {model!r}")
        predictions = self.predictions()
        arrays = []
        for index in folds:
            rows = int(((predictions["model"] == model) & (predictions["fold"] == index)).sum())
            arrays.append(rundir.read_embeddings(self.fold_dir(model, index), rows))
        return np.concatenate(arrays, axis=0)

    def histories(self) -> pd.DataFrame:
        """Every fold's ``history.csv`` with ``model`` and ``fold`` columns in front."""
        frames = []
        for model, fold, path in self.fold_dirs():
            frame = rundir.read_history(path)
            frame.insert(0, "fold", fold)
            frame.insert(0, "model", model)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def fold_sizes(self, subset: str | None = None) -> pd.DataFrame:
        """Training and validation sizes per fold from the manifest's ``fold`` column.

        Parameters
        ----------
        subset
            An evaluation view (``"NM"``, ``"M"``, ``"PE-NM"``, ``"PE-M"``: :func:`interp.tables.view_rows`)
            to count only its images; ``None`` counts all.

        Returns
        -------
        DataFrame with ``fold``, ``n_train`` (images trained on), ``n_test`` (images evaluated).
        """
        manifest = self.manifest()
        in_view = manifest.index.isin(view_rows(manifest, subset).index)
        rows = []
        for fold in self.folds:
            train, test = rundir.fold_rows(manifest, fold)  # a cross-dataset run tests every fold on the other dataset
            rows.append({"fold": fold, "n_train": int((train & in_view).sum()), "n_test": int((test & in_view).sum())})
        return pd.DataFrame(rows)

    def inits(self) -> dict[str, str]:
        """How each model's backbone was initialised, from ``study.json`` ``arms.<model>.init``.

        The trainer records the weights file's name and hash, ``imagenet`` or ``random``; a run
        written before that record existed gives ``random`` when its arm had no ``weights`` and
        ``unknown`` otherwise.
        """
        arms = self.study.get("arms") or {}
        inits = {}
        for model in self.study["models"]:
            arm = arms.get(model) or {}
            if arm.get("init"):
                inits[model] = str(arm["init"])
            else:
                weights = arm.get("weights", (self.study.get("config") or {}).get("weights"))
                inits[model] = "unknown" if weights else "random"
        return inits

    def files(self, name: str) -> list[Path]:
        """One file (``predictions.csv``, ``embeddings.npy``, ...) of every finished fold."""
        return [path / name for _, _, path in self.fold_dirs()]


def open_run(path: str | Path, *, allow_partial: bool = False) -> Run:
    """Open a run directory after checking its schema and ``DONE`` markers.

    Parameters
    ----------
    path
        The run directory (``runs/<study>``).
    allow_partial
        Read the finished folds and warn (:class:`PartialRunWarning`) about missing or
        unfinished ones, instead of raising.

    Raises
    ------
    DataError
        When ``study.json`` is missing or malformed, or (unless ``allow_partial``) a fold folder
        or its ``DONE`` marker is missing; the message names the model and fold folder.
    """
    path = Path(path)
    study = rundir.read_study(path)
    finished: dict[str, list[int]] = {}
    missing: list[tuple[str, int, str]] = []
    for model in study["models"]:
        finished[model] = []
        for fold in study["folds"]:
            reason = rundir.fold_problem(rundir.fold_dir(path, model, fold))
            if reason is None:
                finished[model].append(int(fold))
            else:
                missing.append((model, int(fold), reason))
    if missing and not allow_partial:
        model, fold, reason = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DataError(
            f"{rundir.fold_dir(path, model, fold)}: model {model!r} fold {fold} {reason}{more}; "
            "finish or resume the training, or pass allow_partial (--allow-partial) to analyse the finished folds"
        )
    for model, fold, reason in missing:
        warnings.warn(f"{path}: leaving out model {model!r} fold {fold}: {reason}", PartialRunWarning, stacklevel=2)
    run = Run(path=path, study=study, finished=finished, missing=missing)
    if not run.models:
        raise DataError(f"{path}: no model has a finished fold")
    return run



def _read_predictions(folder: Path, model: str, fold: int) -> pd.DataFrame:
    table = rundir.read_predictions(folder)
    table.insert(0, "row", np.arange(len(table)))
    table.insert(0, "subset", np.where(table["masked"], "M", "NM"))
    table.insert(0, "fold", fold)
    table.insert(0, "model", model)
    return table
