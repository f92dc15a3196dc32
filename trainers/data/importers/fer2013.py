"""FER2013 (``fer2013.csv``) with optional FERPlus votes (``fer2013new.csv``)."""

from __future__ import annotations

import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from trainers.common.atomic import atomic_path
from trainers.data.check import Problem
from trainers.data.importers import ImportedTable, register_importer, rows_table
from trainers.data.labels import normalise_label
from trainers.data.text_csv import read_text_csv
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

FER2013_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER2013's label order; mapped to our classes by name."""
FERPLUS_CLASSES: tuple[str, ...] = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear")
FERPLUS_DROPPED: tuple[str, ...] = ("contempt", "unknown", "NF")
IMAGE_FOLDER = Path("images") / "fer2013"
SIDE = 48


@dataclass
class Fer2013Options:
    """Where the FERPlus votes are."""

    ferplus: str = field(
        default="auto",
        metadata={
            "help": "FERPlus fer2013new.csv: 'auto' (use the one beside fer2013.csv if present), 'none', or a path"
        },
    )


@register_importer("fer2013", options=Fer2013Options)
def read_fer2013(src: Path, out_dir: Path, options: Fer2013Options) -> ImportedTable:
    """FER2013 fer2013.csv (+ FERPlus fer2013new.csv majority votes); 48x48 pixels written once as PNG.

    ``SRC`` is ``fer2013.csv`` or its folder. Images are written to ``images/fer2013/`` beside the
    output manifest (existing identical files are kept). With FERPlus, the label is the majority
    of the votes; ties and contempt, unknown or NF majorities are dropped. FER2013 has no subject
    ids: each image is its own subject.
    """
    csv_path = src / "fer2013.csv" if src.is_dir() else src
    frame = _read(csv_path, {"emotion", "pixels"})
    labels = _fer2013_labels(csv_path, frame)
    ferplus = _ferplus_path(csv_path, options.ferplus)
    if ferplus is not None:
        labels = _ferplus_labels(ferplus, len(frame))
    rows, problems = [], []
    for index in tqdm(range(len(frame)), desc="writing FER2013 images", unit="img", disable=None):
        label = labels[index]
        if isinstance(label, Problem) or label is None:
            problems += [label] if label is not None else []
            continue
        relative = (IMAGE_FOLDER / f"{index:05d}.png").as_posix()
        try:
            _write_png(_pixels(frame.at[index, "pixels"]), out_dir / relative)
        except ValueError as exc:
            problems.append(
                Problem(f"{csv_path} line {index + 2}", str(exc), "correct or remove the line", relative, relative)
            )
            continue
        image_id = f"fer2013/{index:05d}"
        rows.append(
            {
                "image_id": image_id,
                "path": relative,
                "subject": image_id,
                "label": label,
                "masked": False,
                "pair_id": "",
                "source": "ferplus" if ferplus is not None else "fer2013",
            }
        )
    log.warning("%s: FER2013 has no subject ids, so each image is its own subject (folds are image-level)", csv_path)
    return ImportedTable(rows_table(rows), out_dir, problems)


def _read(path: Path, required: set[str]) -> pd.DataFrame:
    frame = read_text_csv(path, "file not found; give fer2013.csv or its folder as SRC")
    missing = sorted(required - set(frame.columns))
    if missing:
        raise DataError(f"{path}: lacks column(s) {', '.join(missing)}; is this the right file?")
    return frame


def _fer2013_labels(path: Path, frame: pd.DataFrame) -> list[str | Problem]:
    labels: list[str | Problem] = []
    for index, value in enumerate(frame["emotion"]):
        code = value.strip()
        if code.isdigit() and int(code) < len(FER2013_NAMES):
            labels.append(normalise_label(FER2013_NAMES[int(code)]))
        else:
            labels.append(
                Problem(
                    f"{path} line {index + 2}",
                    f"emotion {value!r} is not 0-6 (FER2013 order)",
                    "correct or remove the line",
                )
            )
    return labels


def _ferplus_path(csv_path: Path, option: str) -> Path | None:
    if option == "none":
        return None
    if option == "auto":
        beside = csv_path.parent / "fer2013new.csv"
        if beside.is_file():
            log.info("using FERPlus votes from %s", beside)
            return beside
        log.info("no fer2013new.csv beside %s: using FER2013's own labels", csv_path)
        return None
    return Path(option)


def _ferplus_labels(path: Path, rows: int) -> list[str | None]:
    """Majority label per row, ``None`` for dropped rows; logs how many were dropped and why."""
    frame = _read(path, set(FERPLUS_CLASSES + FERPLUS_DROPPED))
    if len(frame) != rows:
        raise DataError(f"{path}: {len(frame)} rows but fer2013.csv has {rows}; use the fer2013new.csv that matches it")
    columns = list(FERPLUS_CLASSES + FERPLUS_DROPPED)
    try:
        votes = frame[columns].replace("", "0").astype(float).to_numpy()
    except ValueError as exc:
        raise DataError(f"{path}: vote columns must be numbers ({exc})") from exc
    labels: list[str | None] = []
    dropped: Counter[str] = Counter()
    for row in votes:
        top = np.flatnonzero(row == row.max())
        if row.max() <= 0:
            reason = "no votes"
        elif len(top) > 1:
            reason = "tie"
        elif columns[top[0]] in FERPLUS_DROPPED:
            reason = f"{columns[top[0]]} majority"
        else:
            labels.append(normalise_label(columns[top[0]]))
            continue
        labels.append(None)
        dropped[reason] += 1
    if dropped:
        log.info(
            "FERPlus: dropped %d image(s): %s",
            sum(dropped.values()),
            ", ".join(f"{n} {r}" for r, n in sorted(dropped.items())),
        )
    return labels


def _pixels(text: str) -> np.ndarray:
    values = np.array(text.split(), dtype=np.int64)
    if values.size != SIDE * SIDE or values.min() < 0 or values.max() > 255:
        raise ValueError(f"pixels must be {SIDE * SIDE} integers 0-255, got {values.size} values")
    return values.astype(np.uint8).reshape(SIDE, SIDE)


def _write_png(pixels: np.ndarray, target: Path) -> None:
    """Write a grey PNG atomically unless an identical file is already there."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    data = buffer.getvalue()
    if target.is_file() and target.read_bytes() == data:
        return
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
