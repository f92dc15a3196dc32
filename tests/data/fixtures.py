"""Small synthetic datasets in every supported layout, for the tests (written as real image files).

Each image is a real PNG or JPEG: a coloured background per subject, a face-like ellipse, a
shape per expression and, on masked images, a "mask" over the lower face, so decoding and
hashing are exercised for real. Every writer is deterministic for its ``seed``. The
``corrupt_*`` helpers break one file in the ways the checks must catch.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from trainers.data.labels import CLASSES

FER2013_ORDER: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER2013's own label order (index = the ``emotion`` column)."""

FERPLUS_COLUMNS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
"""Vote columns of FERPlus ``fer2013new.csv``, in file order."""


def draw_face(size: int, subject: int, label: str, masked: bool, rng: np.random.Generator) -> Image.Image:
    """An RGB image of a cartoon face: colour from ``subject``, a mark from ``label``."""
    palette = np.random.default_rng(subject).integers(40, 216, size=3)
    background = tuple(int(c) for c in np.clip(palette + rng.integers(-20, 21, size=3), 0, 255))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    s = size / 32
    draw.ellipse([4 * s, 2 * s, 28 * s, 30 * s], fill=(224, 180, 150))
    shift = float(rng.uniform(-1, 1)) * s
    mark = CLASSES.index(label)
    box = [12 * s + shift, 8 * s, 20 * s + shift, 14 * s]
    if mark % 3 == 0:
        draw.ellipse(box, fill=(30 * mark, 60, 200 - 20 * mark))
    elif mark % 3 == 1:
        draw.rectangle(box, fill=(200 - 20 * mark, 30 * mark, 60))
    else:
        draw.polygon([(box[0], box[3]), ((box[0] + box[2]) / 2, box[1]), (box[2], box[3])], fill=(60, 200, 30 * mark))
    draw.line([10 * s, 22 * s, 22 * s, 22 * s + (mark - 3) * s], fill=(120, 30, 30), width=max(1, int(s)))
    if masked:
        draw.polygon([(5 * s, 17 * s), (27 * s, 17 * s), (24 * s, 29 * s), (8 * s, 29 * s)], fill=(150, 200, 235))
    return image


def save_image(image: Image.Image, path: Path) -> Path:
    """Save as PNG or JPEG by suffix, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        image.save(path, quality=90)
    else:
        image.save(path)
    return path


def _poses(subjects: int, poses_per_class: int) -> Iterator[tuple[int, int, int]]:
    """(subject, class index, pose) triples, subjects numbered from 1."""
    for subject in range(1, subjects + 1):
        for label in range(len(CLASSES)):
            for pose in range(poses_per_class):
                yield subject, label, pose


def write_msde_fixture(
    root: str | os.PathLike,
    subjects: int = 6,
    poses_per_class: int = 1,
    size: int = 32,
    seed: int = 0,
    *,
    only_nonmasked: int = 0,
    unlisted: int = 0,
) -> Path:
    """Write the MSD-E reference layout: ``MSD-E/``, ``MSD-ME/`` and ``Paired_files.txt``.

    File names are ``<subject>_<label>_<pose>.<ext>`` with labels 0-6 in RAF-DB order; odd
    subjects get JPEG files, even subjects PNG.

    Parameters
    ----------
    root
        Folder to write into (created).
    subjects, poses_per_class, size, seed
        Dataset shape: ``subjects * 7 * poses_per_class`` pairs of ``size`` px images.
    only_nonmasked
        The last this-many poses get no masked image (unpaired images).
    unlisted
        The first this-many pairs are left out of ``Paired_files.txt``.

    Returns
    -------
    Path
        ``root``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    names = []
    poses = list(_poses(subjects, poses_per_class))
    for index, (subject, label, pose) in enumerate(poses):
        name = f"{subject}_{label}_{pose}.{'jpg' if subject % 2 else 'png'}"
        save_image(draw_face(size, subject, CLASSES[label], False, rng), root / "MSD-E" / name)
        if index < len(poses) - only_nonmasked:
            save_image(draw_face(size, subject, CLASSES[label], True, rng), root / "MSD-ME" / name)
            names.append(name)
    listed = names[unlisted:]
    (root / "Paired_files.txt").write_text("".join(f"{name} 1\n" for name in listed))
    return root


def write_csv_fixture(
    root: str | os.PathLike,
    subjects: int = 4,
    size: int = 32,
    seed: int = 0,
    *,
    columns: dict[str, str] | None = None,
    label_order: str = "names",
) -> Path:
    """Write images under ``root/images/`` and a CSV describing them; return the CSV path.

    Parameters
    ----------
    columns
        Column names for the fields ``path``, ``subject``, ``label``, ``masked`` and ``pair``
        (defaults: those names, ``pair_id`` for ``pair``).
    label_order
        How labels are written: ``names`` (class names), ``rafdb0`` (0-6) or ``rafdb1`` (1-7).
    """
    root = Path(root)
    names = {"path": "path", "subject": "subject", "label": "label", "masked": "masked", "pair": "pair_id"} | (
        columns or {}
    )
    rng = np.random.default_rng(seed)
    rows = []
    for subject, label, _ in _poses(subjects, 1):
        for masked in (False, True):
            relative = f"images/s{subject}/{CLASSES[label]}_{'m' if masked else 'nm'}.png"
            save_image(draw_face(size, subject, CLASSES[label], masked, rng), root / relative)
            written = CLASSES[label] if label_order == "names" else str(label + (label_order == "rafdb1"))
            rows.append(
                {
                    names["path"]: relative,
                    names["subject"]: f"s{subject}",
                    names["label"]: written,
                    names["masked"]: "yes" if masked else "no",
                    names["pair"]: f"s{subject}-{label}",
                }
            )
    target = root / "labels.csv"
    with open(target, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def write_folders_fixture(
    root: str | os.PathLike, subjects: int = 4, size: int = 32, seed: int = 0, *, masked_tree: bool = True
) -> Path:
    """Write ``<masked|unmasked>/<label>/<subject>_<pose>.png`` (or ``<label>/<file>`` when not ``masked_tree``)."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    states = (("unmasked", False), ("masked", True)) if masked_tree else (("", False),)
    for subject, label, pose in _poses(subjects, 1):
        for folder, masked in states:
            target = root / folder / CLASSES[label] / f"p{subject}_{pose}.png"
            save_image(draw_face(size, subject, CLASSES[label], masked, rng), target)
    return root


def write_rafdb_fixture(
    root: str | os.PathLike, images: int = 14, size: int = 32, seed: int = 0, *, aligned_suffix: bool = True
) -> Path:
    """Write RAF-DB basic: ``EmoLabel/list_patition_label.txt`` and ``Image/aligned/`` JPEGs.

    Labels cycle through 1-7 (RAF-DB order); ``aligned_suffix=False`` writes the original
    file names (``train_00001.jpg``) into ``Image/aligned/``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    lines = []
    for index in range(images):
        split = "train" if index < images * 3 // 4 else "test"
        name = f"{split}_{index + 1:05d}.jpg"
        label = index % len(CLASSES)
        stored = name.replace(".jpg", "_aligned.jpg") if aligned_suffix else name
        save_image(draw_face(size, index + 1, CLASSES[label], False, rng), root / "Image" / "aligned" / stored)
        lines.append(f"{name} {label + 1}\n")
    (root / "EmoLabel").mkdir(parents=True, exist_ok=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("".join(lines))
    return root


def write_fer2013_fixture(
    root: str | os.PathLike, outcomes: Sequence[str] | None = None, seed: int = 0, *, ferplus: bool = True
) -> Path:
    """Write ``fer2013.csv`` (48x48 pixel strings) and, optionally, FERPlus ``fer2013new.csv``.

    Parameters
    ----------
    outcomes
        One entry per row: the FERPlus majority class name (a :data:`CLASSES` name), or
        ``"tie"``, ``"contempt"``, ``"unknown"`` or ``"NF"`` for the rows FERPlus must drop.
        Default: each class once, then one of each dropped kind.
    ferplus
        Write ``fer2013new.csv`` too.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    outcomes = list(outcomes or [*CLASSES, "tie", "contempt", "unknown", "NF"])
    rng = np.random.default_rng(seed)
    fer_rows, plus_rows = [], []
    for row, outcome in enumerate(outcomes):
        label = outcome if outcome in CLASSES else CLASSES[row % len(CLASSES)]
        face = np.asarray(draw_face(48, row, label, False, rng).convert("L"))
        usage = "Training" if row % 4 else "PublicTest"
        fer_rows.append([FER2013_ORDER.index(label), " ".join(map(str, face.ravel())), usage])
        plus_rows.append([usage, f"fer{row:07d}.png", *_ferplus_votes(outcome, rng)])
    _write_rows(root / "fer2013.csv", ["emotion", "pixels", "Usage"], fer_rows)
    if ferplus:
        _write_rows(root / "fer2013new.csv", ["Usage", "Image name", *FERPLUS_COLUMNS], plus_rows)
    return root


_FERPLUS_NAME = {"happy": "happiness", "sad": "sadness", "angry": "anger"}


def _ferplus_votes(outcome: str, rng: np.random.Generator) -> list[int]:
    """Ten vote counts whose majority is ``outcome`` (a two-way tie for ``"tie"``)."""
    votes = dict.fromkeys(FERPLUS_COLUMNS, 0)
    if outcome == "tie":
        votes["happiness"] = votes["surprise"] = 5
    else:
        votes[_FERPLUS_NAME.get(outcome, outcome)] = 6
        minor = [c for c in FERPLUS_COLUMNS if votes[c] == 0]
        for column in rng.choice(minor, size=2, replace=False):
            votes[str(column)] = 2
    return list(votes.values())


def _write_rows(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def corrupt_truncate(path: str | os.PathLike, keep: float = 0.5) -> Path:
    """Cut a file to the first ``keep`` fraction of its bytes (a truncated download)."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep))])
    return path


def corrupt_zero_bytes(path: str | os.PathLike) -> Path:
    """Empty a file (a failed copy)."""
    path = Path(path)
    path.write_bytes(b"")
    return path


def corrupt_not_image(path: str | os.PathLike) -> Path:
    """Replace a file by text, keeping its image suffix (an error page saved as .jpg)."""
    path = Path(path)
    path.write_text("<html><body>404 Not Found</body></html>\n")
    return path


def corrupt_garble(path: str | os.PathLike, seed: int = 0) -> Path:
    """Overwrite the middle third of a file with random bytes (bit rot); the header stays valid."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    start, stop = len(data) // 3, 2 * len(data) // 3
    data[start:stop] = np.random.default_rng(seed).integers(0, 256, stop - start, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path
