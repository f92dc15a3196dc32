"""The run directory contract (DESIGN.md): paths, atomic writers and readers, checkpoints.

``runs/<study>/study.json``, ``manifest.csv`` and per ``<model>/fold-<k>/``: ``checkpoint.pt``,
``history.csv``, ``predictions.csv``, ``embeddings.npy``, optional extras, and ``DONE`` last.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from trainers.atomic import atomic_open, atomic_path
from trainers.data.labels import CLASSES
from trainers.errors import DataError

SCHEMA = 1
STUDY_FILE = "study.json"
MANIFEST_FILE = "manifest.csv"
CHECKPOINT_FILE = "checkpoint.pt"
HISTORY_FILE = "history.csv"
PREDICTIONS_FILE = "predictions.csv"
EMBEDDINGS_FILE = "embeddings.npy"
DONE_FILE = "DONE"
PREDICTION_COLUMNS: tuple[str, ...] = (
    "image_id", "subject", "pair_id", "masked", "label", "pred", "correct",
) + tuple(f"logit_{name}" for name in CLASSES)


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


def read_study(run_dir: Path) -> dict[str, Any]:
    """``study.json`` of a run directory."""
    path = Path(run_dir) / STUDY_FILE
    if not path.is_file():
        raise DataError(f"{path}: not a run directory (no {STUDY_FILE}); train with `python -m trainers run`")
    return json.loads(path.read_text())


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` through a temporary file, renamed onto ``path`` when complete."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise DataError(f"{path}: unreadable checkpoint ({exc}); delete it to retrain that fold") from exc


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


def subset_accuracy(predictions: pd.DataFrame, masked: bool) -> float:
    """Accuracy in [0, 1] on the masked or non-masked rows (NaN when there are none)."""
    part = predictions[predictions["masked"].astype(str).str.lower().isin(["true"] if masked else ["false"])]
    return float(part["correct"].astype(str).str.lower().eq("true").mean()) if len(part) else float("nan")


def write_done(directory: Path, epochs: int, seconds: float) -> None:
    """``DONE``: written last; marks the fold finished and trusted."""
    write_json(directory / DONE_FILE, {"finished_utc": utc_now(), "epochs": epochs, "seconds": round(seconds, 1)})


def is_done(directory: Path) -> bool:
    """Whether a fold directory holds ``DONE``."""
    return (directory / DONE_FILE).is_file()


def load_fold_model(directory: Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a finished fold's model in eval mode from ``checkpoint.pt``.

    Returns
    -------
    (model, config)
        The network (on the CPU, eval mode) and the checkpoint's config dict (model name,
        architecture, image size, normalisation, fold, training subjects, ...).
    """
    from trainers.models import create

    directory = Path(directory)
    if not is_done(directory):
        raise DataError(f"{directory}: fold has no {DONE_FILE}; finish training it first (rerun the same command)")
    state = load_checkpoint(directory / CHECKPOINT_FILE)
    config = state["config"]
    model = create(config["architecture"], config["num_classes"], **config.get("architecture_options", {}))
    model.load_state_dict(state["model"])
    return model.eval(), config
