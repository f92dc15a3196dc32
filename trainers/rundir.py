"""The run directory, defined once (docs/architecture.md): file names, the study.json schema, writers and readers.

``runs/<study>/study.json``, ``manifest.csv`` (with its ``fold`` column) and per
``<arm>/fold-<k>/``: ``checkpoint.pt``, ``history.csv``, ``predictions.csv``, ``embeddings.npy``,
optional extras, and ``DONE`` last. ``checkpoint.pt`` holds the optimiser state only while the fold
trains (:func:`finish_checkpoint`). The trainers write through the ``write_*`` functions; interp
(:mod:`interp.runs`) and the tests' fixtures read and write through the same names, so the format
lives here only. torch is imported only to save or load a checkpoint.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainers.common.atomic import atomic_open, atomic_path
from trainers.data.labels import CLASSES
from trainers.data.cross import ROLE_COLUMN, TEST_ROLE, TRAIN_ROLE
from trainers.data.manifest import Manifest, parse_masked
from trainers.common.errors import DataError

SCHEMA = 1
STUDY_FILE = "study.json"
MANIFEST_FILE = "manifest.csv"
CHECKPOINT_FILE = "checkpoint.pt"
HISTORY_FILE = "history.csv"
PREDICTIONS_FILE = "predictions.csv"
EMBEDDINGS_FILE = "embeddings.npy"
DONE_FILE = "DONE"
# what a finished fold's checkpoint keeps (the weights, the epoch, the fold's config); the optimiser,
# scheduler, RNG state and history are kept only while the fold trains (:func:`finish_checkpoint`)
FINISHED_CHECKPOINT_KEYS: tuple[str, ...] = ("model", "epoch", "config")
FOLD_FILES: tuple[str, ...] = (PREDICTIONS_FILE, EMBEDDINGS_FILE, HISTORY_FILE)  # every DONE fold has them
PREDICTION_COLUMNS: tuple[str, ...] = (
    "image_id", "subject", "pair_id", "masked", "label", "pred", "correct",
) + tuple(f"logit_{name}" for name in CLASSES)
# study.json keys every reader relies on, with their types (the runner also records config, arms, provenance)
STUDY_KEYS: dict[str, type] = {"schema": int, "study": str, "models": list, "k": int, "folds": list, "seed": int}
ARM_DESCRIPTION_KEYS: tuple[str, ...] = ("role", "ablates", "baseline_for", "colour", "trains_on", "budget")
"""Keys of ``study.json`` ``arms.<arm>`` that describe the arm (rewritten from the registry and the frozen
folds on every run) rather than set what it trains (the rest, compared when a run is resumed). Optional:
a study written before they existed has none (readers fall back, :mod:`interp.runs`)."""
REPEAT_COLUMN = "fold_r{repeat}"
"""Frozen-manifest column of repeat ``r >= 1``'s folds (``trainers run --repeats``); repeat 0 is ``fold``."""


def fold_dir(run_dir: Path, model: str, fold: int) -> Path:
    """``<run_dir>/<model>/fold-<fold>``."""
    return Path(run_dir) / model / f"fold-{fold}"


def utc_now() -> str:
    """The current UTC time, ISO format, seconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic, indented JSON."""
    with atomic_open(path) as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def repeats(study: dict[str, Any]) -> int:
    """Repeats of the cross-validation (``study.json`` ``repeats``; 1 when not recorded)."""
    return int(study.get("repeats", 1))


def split_fold(fold: int, k: int) -> tuple[int, int]:
    """``(repeat, fold within the repeat)`` of fold id ``fold``: id ``r * k + f`` is fold ``f`` of repeat ``r``."""
    return divmod(int(fold), int(k))


def fold_column(table: pd.DataFrame, fold: int) -> str:
    """The frozen-manifest column holding the folds of fold id ``fold``'s repeat.

    Without repeat columns that is ``fold``. With them, ``k`` is read from the ``fold`` column (repeat 0's
    folds ``0..k-1``: pass the whole frozen manifest, not a subset of its rows); ids ``k`` and up belong to
    repeat ``fold // k``, whose folds are in :data:`REPEAT_COLUMN`.

    Raises
    ------
    DataError
        When the table lacks that repeat's column.
    """
    if not any(str(column).startswith("fold_r") for column in table.columns):
        return "fold"
    k = int(table["fold"].max()) + 1
    if fold < k:
        return "fold"
    column = REPEAT_COLUMN.format(repeat=split_fold(fold, k)[0])
    if column not in table.columns:
        raise DataError(f"fold {fold} belongs to repeat {split_fold(fold, k)[0]} of a {k}-fold split, but the "
                        f"frozen manifest has no {column!r} column; the run was made without that many --repeats")
    return column


def check_study(study: dict[str, Any], path: Path) -> dict[str, Any]:
    """``study`` when it follows the schema (:data:`STUDY_KEYS`, :data:`SCHEMA`, folds in ``0..repeats*k-1``).

    Raises
    ------
    DataError
        Naming ``path`` and the key that is wrong.
    """
    for key, kind in STUDY_KEYS.items():
        if not isinstance(study.get(key), kind):
            raise DataError(f"{path}: key {key!r} missing or not {kind.__name__}")
    if study["schema"] != SCHEMA:
        raise DataError(f"{path}: schema {study['schema']} is not supported (expected {SCHEMA})")
    if not isinstance(study.get("repeats", 1), int) or repeats(study) < 1:
        raise DataError(f"{path}: key 'repeats' must be a positive integer")
    last = repeats(study) * study["k"] - 1
    bad = [f for f in study["folds"] if not isinstance(f, int) or not 0 <= f <= last]
    if bad:
        raise DataError(f"{path}: folds {bad} are not integers in 0..{last}")
    return study


def write_study(run_dir: Path, study: dict[str, Any]) -> None:
    """``study.json``, checked against the schema before it is written."""
    path = Path(run_dir) / STUDY_FILE
    write_json(path, check_study(study, path))


def read_study(run_dir: Path) -> dict[str, Any]:
    """``study.json`` of a run directory, checked against the schema."""
    path = Path(run_dir) / STUDY_FILE
    if not path.is_file():
        raise DataError(f"{path}: not a run directory (no {STUDY_FILE}); train with `python -m trainers run`")
    try:
        study = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from exc
    return check_study(study, path)


@dataclass(frozen=True)
class ImageInput:
    """What every arm of a study trains and is analysed on: the image side in pixels and the face crop."""

    size: int
    face_crop: bool


def image_input(study: dict[str, Any], path: Path, checkpoint_config: dict[str, Any] | None = None) -> ImageInput:
    """The image size and face crop of a study, read from its one source: ``study.json``'s ``config``.

    Every checkpoint also records the size (``image_size`` and ``training.image_size``, written from the
    same config) so that it describes itself; readers take the study's. Pass a fold's
    ``checkpoint_config`` to check that its copies agree.

    Raises
    ------
    DataError
        When ``config.image_size`` is missing or not a positive integer, or a checkpoint disagrees.
    """
    config = study.get("config") or {}
    size = config.get("image_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise DataError(f"{path}: config.image_size {size!r} is not a positive integer; the study.json was "
                        "not written by `python -m trainers run`")
    setting = ImageInput(size, bool(config.get("face_crop", True)))  # face_crop: True before it was recorded
    if checkpoint_config is not None:
        training = checkpoint_config.get("training") or {}
        recorded = {checkpoint_config.get("image_size", size), training.get("image_size", size)}
        if recorded != {size} or bool(training.get("face_crop", setting.face_crop)) != setting.face_crop:
            raise DataError(f"{path}: a fold's checkpoint was trained at image_size {sorted(recorded)}, face_crop "
                            f"{training.get('face_crop')}, but the study records {size}, {setting.face_crop}; "
                            "the fold comes from another study: retrain it into this run directory")
    return setting


def write_manifest(run_dir: Path, manifest: Manifest) -> None:
    """The frozen ``manifest.csv``; its table carries the int ``fold`` column."""
    if "fold" not in manifest.table.columns:
        raise ValueError("a run's manifest needs the fold column")
    manifest.save(Path(run_dir) / MANIFEST_FILE)


def fold_rows(table: pd.DataFrame, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the rows that fold ``fold`` trains on and is evaluated on.

    Within one dataset fold ``k`` is held out: training is every other fold (of the fold id's repeat,
    :func:`fold_column`, under ``--repeats``). In a cross-dataset run
    (test rows in the :data:`ROLE_COLUMN`) training is the train rows outside fold ``k`` (all of
    them when the train rows form a single fold) and evaluation is every test row.
    """
    folds = table["fold"].to_numpy()
    if ROLE_COLUMN in table.columns and (table[ROLE_COLUMN] == TEST_ROLE).any():
        train = (table[ROLE_COLUMN] == TRAIN_ROLE).to_numpy()
        if len(np.unique(folds[train])) > 1:
            train = train & (folds != fold)
        return train, (table[ROLE_COLUMN] == TEST_ROLE).to_numpy()
    column = fold_column(table, fold)
    if column != "fold":
        folds, fold = table[column].to_numpy(), split_fold(fold, int(folds.max()) + 1)[1]
    return folds != fold, folds == fold


def read_manifest(run_dir: Path) -> pd.DataFrame:
    """The frozen manifest table with an int ``fold`` column."""
    path = Path(run_dir) / MANIFEST_FILE
    table = Manifest.load(path).table
    if "fold" not in table.columns:
        raise DataError(f"{path}: lacks the int 'fold' column a run's manifest carries")
    for column in ["fold", *[c for c in table.columns if c.startswith("fold_r")]]:
        try:
            table[column] = table[column].astype(int)
        except ValueError as exc:
            raise DataError(f"{path}: column {column!r} must hold integers ({exc})") from exc
    return table


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` through a temporary file, renamed onto ``path`` when complete."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise DataError(f"{path}: unreadable checkpoint ({exc}); delete it to retrain that fold") from exc


def finish_checkpoint(directory: Path) -> None:
    """Rewrite a ``DONE`` fold's checkpoint with only :data:`FINISHED_CHECKPOINT_KEYS`.

    The optimiser and scheduler state, the RNG state and the history copy serve only to resume an
    unfinished fold; once ``DONE`` is written nothing reads them, and the optimiser state alone is
    twice the weights under Adam. Called after ``DONE``, so a fold killed in between keeps a whole
    checkpoint; a checkpoint that is already lean, or an older whole one, reads the same.
    """
    path = Path(directory) / CHECKPOINT_FILE
    if not is_done(directory):
        raise ValueError(f"{directory}: only a DONE fold's checkpoint is made lean")
    state = load_checkpoint(path)
    if set(state) <= set(FINISHED_CHECKPOINT_KEYS):
        return
    save_checkpoint(path, {key: state[key] for key in FINISHED_CHECKPOINT_KEYS})


def write_history(directory: Path, rows: list[dict[str, Any]]) -> None:
    """``history.csv``: one row per finished epoch."""
    with atomic_open(directory / HISTORY_FILE, newline="") as handle:
        pd.DataFrame(rows).to_csv(handle, index=False)


def prediction_table(table: pd.DataFrame, logits: np.ndarray) -> pd.DataFrame:
    """``predictions.csv`` rows for the validation ``table`` and its ``(n, 7)`` logits."""
    pred = np.asarray(CLASSES)[logits.argmax(1)]
    frame = pd.DataFrame({
        "image_id": table["image_id"].to_numpy(),
        "subject": table["subject"].to_numpy(),
        "pair_id": table["pair_id"].to_numpy(),
        "masked": table["masked"].to_numpy(dtype=bool),
        "label": table["label"].to_numpy(),
        "pred": pred,
        "correct": pred == table["label"].to_numpy(),
    })
    for i, name in enumerate(CLASSES):
        frame[f"logit_{name}"] = logits[:, i]
    return frame


def write_predictions(directory: Path, predictions: pd.DataFrame, embeddings: np.ndarray) -> None:
    """``predictions.csv`` and ``embeddings.npy`` (float32, same row order)."""
    with atomic_open(directory / PREDICTIONS_FILE, newline="") as handle:
        predictions.to_csv(handle, index=False)
    buffer = io.BytesIO()
    np.save(buffer, embeddings.astype(np.float32))
    with atomic_open(directory / EMBEDDINGS_FILE, "wb") as handle:
        handle.write(buffer.getvalue())


def read_predictions(directory: Path) -> pd.DataFrame:
    """A fold's ``predictions.csv``, checked: :data:`PREDICTION_COLUMNS`, labels, bool ``masked``/``correct``."""
    path = Path(directory) / PREDICTIONS_FILE
    table = pd.read_csv(path, dtype={"image_id": str, "subject": str, "pair_id": str}, keep_default_na=False)
    absent = [c for c in PREDICTION_COLUMNS if c not in table.columns]
    if absent:
        raise DataError(f"{path}: lacks column(s) {', '.join(absent)}")
    for column in ("label", "pred"):
        bad = ~table[column].isin(CLASSES + (("",) if column == "label" else ()))  # label "": an unlabelled photo
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
    return table[list(PREDICTION_COLUMNS)].copy()


def read_embeddings(directory: Path, rows: int) -> np.ndarray:
    """A fold's ``embeddings.npy`` as float32, checked to hold one row per prediction (``rows``)."""
    path = Path(directory) / EMBEDDINGS_FILE
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    if array.ndim != 2 or array.shape[0] != rows:
        raise DataError(f"{path}: shape {array.shape} does not match the {rows} rows of {PREDICTIONS_FILE}")
    return np.asarray(array, dtype=np.float32)


def read_history(directory: Path) -> pd.DataFrame:
    """A fold's ``history.csv`` (one row per epoch)."""
    path = Path(directory) / HISTORY_FILE
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pandas raises many types for bad files
        raise DataError(f"{path}: cannot read ({exc})") from exc
    if "epoch" not in frame.columns:
        raise DataError(f"{path}: lacks the 'epoch' column")
    return frame


def view_accuracy(predictions: pd.DataFrame, masked: bool) -> float:
    """Accuracy in [0, 1] on the view M (``masked``) or NM of the rows (NaN when it has none)."""
    part = predictions[predictions["masked"].astype(str).str.lower().isin(["true"] if masked else ["false"])]
    return float(part["correct"].astype(str).str.lower().eq("true").mean()) if len(part) else float("nan")


def write_done(directory: Path, epochs: int, seconds: float) -> None:
    """``DONE``: written last; marks the fold finished and trusted."""
    write_json(directory / DONE_FILE, {"finished_utc": utc_now(), "epochs": epochs, "seconds": round(seconds, 1)})


def is_done(directory: Path) -> bool:
    """Whether a fold directory holds ``DONE``."""
    return (directory / DONE_FILE).is_file()


def fold_problem(directory: Path) -> str | None:
    """Why a fold folder cannot be trusted, or ``None`` when it is finished (``DONE`` and its files)."""
    if not directory.is_dir():
        return "has no folder (never started)"
    if not is_done(directory):
        return f"is unfinished (no {DONE_FILE} marker)"
    try:
        json.loads((directory / DONE_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return f"has an unreadable {DONE_FILE} marker"
    for name in FOLD_FILES:
        if not (directory / name).is_file():
            return f"is marked {DONE_FILE} but lacks {name}"
    return None

