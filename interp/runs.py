"""The one reader of a run directory (the contract is in DESIGN.md).

:func:`open_run` checks ``study.json`` and the ``DONE`` marker of every (model, fold) and returns a
:class:`Run` whose methods give tidy pandas tables: predictions (one row per validation image of
every model and fold), histories, fold sizes, and embeddings on demand with rows aligned to the
predictions. Nothing else in ``interp`` opens a run's files.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest, parse_masked
from trainers.errors import DataError

STUDY_SCHEMA = 1
STUDY_KEYS: dict[str, type | tuple[type, ...]] = {
    "schema": int, "study": str, "models": list, "k": int, "folds": list, "seed": int,
}
PREDICTION_COLUMNS: tuple[str, ...] = (
    "image_id", "subject", "pair_id", "masked", "label", "pred", "correct",
) + tuple(f"logit_{name}" for name in CLASSES)
SUBSETS: tuple[str, ...] = ("NM", "M")


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

    def fold_dir(self, model: str, fold: int) -> Path:
        """Folder of one (model, fold)."""
        return self.path / model / f"fold-{fold}"

    def fold_dirs(self) -> list[tuple[str, int, Path]]:
        """``(model, fold, folder)`` of every finished fold, models then folds in study order."""
        return [(m, f, self.fold_dir(m, f)) for m in self.models for f in self.finished[m]]

    def manifest(self) -> pd.DataFrame:
        """The frozen manifest table with an int ``fold`` column."""
        if "manifest" not in self._cache:
            self._cache["manifest"] = _read_manifest(self.path / "manifest.csv")
        return self._cache["manifest"]

    def predictions(self) -> pd.DataFrame:
        """Tidy predictions of every finished fold.

        Columns: ``model``, ``fold``, ``subset`` (``"NM"``/``"M"``), ``row`` (row in the fold's
        predictions.csv), then :data:`PREDICTION_COLUMNS`. Rows are ordered by model (study order),
        fold, then file row; :meth:`embeddings` follows the same order.
        """
        if "predictions" not in self._cache:
            frames = [_read_predictions(path / "predictions.csv", model, fold)
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
            path = self.fold_dir(model, index) / "embeddings.npy"
            rows = int(((predictions["model"] == model) & (predictions["fold"] == index)).sum())
            arrays.append(_read_embeddings(path, rows))
        return np.concatenate(arrays, axis=0)

    def histories(self) -> pd.DataFrame:
        """Every fold's ``history.csv`` with ``model`` and ``fold`` columns in front."""
        frames = []
        for model, fold, path in self.fold_dirs():
            frame = _read_csv(path / "history.csv")
            if "epoch" not in frame.columns:
                raise DataError(f"{path / 'history.csv'}: lacks the 'epoch' column")
            frame.insert(0, "fold", fold)
            frame.insert(0, "model", model)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def fold_sizes(self, subset: str | None = None) -> pd.DataFrame:
        """Training and validation sizes per fold from the manifest's ``fold`` column.

        Parameters
        ----------
        subset
            ``"NM"`` or ``"M"`` to count only that subset's images; ``None`` counts all.

        Returns
        -------
        DataFrame with ``fold``, ``n_train`` (images outside the fold), ``n_test`` (images in it).
        """
        table = self.manifest()
        if subset is not None:
            table = table[table["masked"] == (subset == "M")]
        counts = table["fold"].value_counts()
        rows = [{"fold": f, "n_train": int(len(table) - counts.get(f, 0)), "n_test": int(counts.get(f, 0))}
                for f in self.folds]
        return pd.DataFrame(rows)

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
    study = _read_study(path / "study.json")
    finished: dict[str, list[int]] = {}
    missing: list[tuple[str, int, str]] = []
    for model in study["models"]:
        finished[model] = []
        for fold in study["folds"]:
            reason = _fold_problem(path / model / f"fold-{fold}")
            if reason is None:
                finished[model].append(int(fold))
            else:
                missing.append((model, int(fold), reason))
    if missing and not allow_partial:
        model, fold, reason = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DataError(
            f"{path / model / f'fold-{fold}'}: model {model!r} fold {fold} {reason}{more}; "
            "finish or resume the training, or pass allow_partial (--allow-partial) to analyse the finished folds"
        )
    for model, fold, reason in missing:
        warnings.warn(f"{path}: leaving out model {model!r} fold {fold}: {reason}", PartialRunWarning, stacklevel=2)
    run = Run(path=path, study=study, finished=finished, missing=missing)
    if not run.models:
        raise DataError(f"{path}: no model has a finished fold")
    return run


def _read_study(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"{path}: not found; is {path.parent} a run directory (runs/<study>)?")
    try:
        study = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from exc
    for key, kind in STUDY_KEYS.items():
        if not isinstance(study.get(key), kind):
            raise DataError(f"{path}: key {key!r} missing or not {kind.__name__}")
    if study["schema"] != STUDY_SCHEMA:
        raise DataError(f"{path}: schema {study['schema']} is not supported (expected {STUDY_SCHEMA})")
    bad = [f for f in study["folds"] if not isinstance(f, int) or not 0 <= f < study["k"]]
    if bad:
        raise DataError(f"{path}: folds {bad} are not integers in 0..{study['k'] - 1}")
    return study


def _fold_problem(folder: Path) -> str | None:
    """Why a fold folder cannot be trusted, or None when it is finished."""
    if not folder.is_dir():
        return "has no folder (never started)"
    if not (folder / "DONE").is_file():
        return "is unfinished (no DONE marker)"
    try:
        json.loads((folder / "DONE").read_text())
    except (OSError, json.JSONDecodeError):
        return "has an unreadable DONE marker"
    for name in ("predictions.csv", "embeddings.npy", "history.csv"):
        if not (folder / name).is_file():
            return f"is marked DONE but lacks {name}"
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pandas raises many types for bad files
        raise DataError(f"{path}: cannot read ({exc})") from exc


def _read_manifest(path: Path) -> pd.DataFrame:
    table = Manifest.load(path).table
    if "fold" not in table.columns:
        raise DataError(f"{path}: lacks the int 'fold' column a run's manifest carries")
    try:
        table["fold"] = table["fold"].astype(int)
    except ValueError as exc:
        raise DataError(f"{path}: column 'fold' must hold integers ({exc})") from exc
    return table


def _read_predictions(path: Path, model: str, fold: int) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"image_id": str, "subject": str, "pair_id": str}, keep_default_na=False)
    absent = [c for c in PREDICTION_COLUMNS if c not in table.columns]
    if absent:
        raise DataError(f"{path}: lacks column(s) {', '.join(absent)}")
    for column in ("label", "pred"):
        bad = ~table[column].isin(CLASSES)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}: row {row + 2} has {column} {table[column].iat[row]!r}; "
                            f"expected one of {', '.join(CLASSES)}")
    try:
        table["masked"] = table["masked"].map(parse_masked).astype(bool)
        table["correct"] = table["correct"].map(parse_masked).astype(bool)
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from exc
    disagree = table["correct"] != (table["label"] == table["pred"])
    if disagree.any():
        row = int(np.flatnonzero(disagree)[0])
        raise DataError(f"{path}: row {row + 2}: 'correct' disagrees with label == pred")
    table = table[list(PREDICTION_COLUMNS)].copy()
    table.insert(0, "row", np.arange(len(table)))
    table.insert(0, "subset", np.where(table["masked"], "M", "NM"))
    table.insert(0, "fold", fold)
    table.insert(0, "model", model)
    return table


def _read_embeddings(path: Path, rows: int) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    if array.ndim != 2 or array.shape[0] != rows:
        raise DataError(f"{path}: shape {array.shape} does not match the {rows} rows of predictions.csv")
    return np.asarray(array, dtype=np.float32)
