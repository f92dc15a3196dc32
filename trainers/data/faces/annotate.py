"""``data faces``: find the face and its 478 landmarks in every image of a manifest.

Each image gets ``face_box`` (the landmarks' box widened by the cache's
:data:`~trainers.data.cache.LANDMARK_MARGIN`, so the image cache crops to the face), ``landmarks``
with ``landmark_layout = mediapipe-478``, ``face_roll`` (the eye line's angle, which the cache
levels), ``face_score`` and ``face_index`` (0 = the largest face). By default an image keeps one
row, its largest face; with ``all_faces`` every face becomes a row (face 0 keeps the image id,
face ``k`` gets ``<image_id>#<k>``; only face 0 keeps the image's pair).

Rows without a ``mask_polygon`` get the lower-face polygon estimated from their own landmarks
(:func:`trainers.data.masking.outline.lower_face_polygon`) with ``mask_polygon_source =
estimated``; a polygon already there (drawn by a synthetic mask, or supplied) is kept as
``exact``. Images without a face are listed in an audit CSV and left out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from trainers.common.atomic import atomic_open
from trainers.data.cache import LANDMARK_MARGIN
from trainers.data.faces.finder import LAYOUT, Face, FaceFinder, load_upright
from trainers.data.manifest import POLYGON_SOURCES, Manifest, format_points
from trainers.data.masking.outline import lower_face_polygon
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.csv"
AUDIT_NAME = "faces-audit.csv"
AUDIT_COLUMNS = ("image_id", "path", "reason", "faces_detected", "largest_face_px")
POLYGON_SOURCE = "mask_polygon_source"
EXACT, ESTIMATED = POLYGON_SOURCES


@dataclass
class FacesResult:
    """What :func:`find_faces` wrote.

    Attributes
    ----------
    manifest
        The written manifest (``None`` when ``strict`` stopped it).
    audit
        The images left out and why (columns :data:`AUDIT_COLUMNS`).
    manifest_path, audit_path
        Where they are.
    seconds
        Time spent decoding images and finding faces (loading the models excluded).
    images
        Distinct image files searched.
    """

    manifest: Manifest | None
    audit: pd.DataFrame
    manifest_path: Path
    audit_path: Path
    seconds: float
    images: int


def find_faces(source: str | Path, out: str | Path, *, all_faces: bool = False, min_size: float = 24.0,
               strict: bool = False, min_confidence: float = 0.5, progress: bool = True) -> FacesResult:
    """Detect faces and landmarks in every image of the manifest ``source``; write ``out/manifest.csv``.

    Parameters
    ----------
    source
        Manifest file.
    out
        Output folder: ``manifest.csv`` (paths relative to it) and ``faces-audit.csv``.
    all_faces
        One row per face instead of the largest face per image.
    min_size
        Faces whose landmark box is smaller than this many pixels (shorter side) are ignored.
    strict
        Raise :class:`DataError` (exit 2) when any image has no face; the audit CSV is written,
        the manifest is not, and an earlier manifest in ``out`` is left as it was.
    min_confidence
        Detector score below which a detection is ignored.
    """
    manifest = Manifest.load(source)
    out = Path(out)
    table = manifest.table
    paths = list(dict.fromkeys(table["path"]))
    found: dict[str, tuple[list[Face], tuple[int, int]] | str] = {}
    with FaceFinder(min_confidence) as finder:
        started = time.perf_counter()  # after loading the models, which takes a few seconds once
        for relative in tqdm(paths, desc="finding faces", unit="img", disable=not progress):
            found[relative] = _search(finder, manifest.abspath(relative))
    seconds = time.perf_counter() - started
    rows, audit = [], []
    for _, record in table.iterrows():
        outcome = found[record["path"]]
        if isinstance(outcome, str):
            audit.append(_audit_row(record, outcome, []))
            continue
        faces, size = outcome
        kept = [face for face in faces if face.size >= min_size]
        if not kept:
            reason = f"no face of at least {min_size:g} px" if faces else "no face found"
            audit.append(_audit_row(record, reason, faces))
            continue
        for index, face in enumerate(kept if all_faces else kept[:1]):
            rows.append(_face_row(record, face, index, size, manifest))
    audit_frame = pd.DataFrame(audit, columns=list(AUDIT_COLUMNS))
    audit_path = out / AUDIT_NAME
    with atomic_open(audit_path, newline="") as handle:
        audit_frame.to_csv(handle, index=False)
    _report(audit_frame, len(table), seconds, len(paths), audit_path)
    manifest_path = out / MANIFEST_NAME
    if strict and len(audit_frame):
        raise DataError(f"{len(audit_frame)} of {len(table)} image(s) have no usable face (listed in {audit_path}); "
                        "fix or remove them, or run without --strict to leave them out")
    if not rows:
        raise DataError(f"{source}: no face found in any image (see {audit_path})")
    result = manifest.with_table(pd.DataFrame(rows))
    result.save(manifest_path)
    return FacesResult(Manifest.load(manifest_path), audit_frame, manifest_path, audit_path, seconds, len(paths))


def _search(finder: FaceFinder, path: Path) -> tuple[list[Face], tuple[int, int]] | str:
    """Faces of one image file and its displayed size, or the reason it could not be read."""
    try:
        pixels, scale = load_upright(path)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return f"cannot decode ({exc})"
    size = (round(pixels.shape[1] / scale), round(pixels.shape[0] / scale))
    return finder.find(pixels, scale), size


def _face_row(record: pd.Series, face: Face, index: int, size: tuple[int, int], manifest: Manifest) -> dict:
    row = record.to_dict()
    if index:
        row["image_id"] = f"{record['image_id']}#{index}"
        row["pair_id"] = ""
    landmarks = np.clip(face.landmarks, 0, size)
    (x0, y0, x1, y1) = face.bounds
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * LANDMARK_MARGIN / 2
    box = (max(cx - half, 0.0), max(cy - half, 0.0), min(cx + half, size[0]), min(cy + half, size[1]))
    row.update({
        "face_box": ",".join(f"{v:.1f}" for v in box), "landmarks": format_points(landmarks),
        "landmark_layout": LAYOUT.name, "face_index": index, "face_score": round(face.score, 3),
        "face_roll": round(face.roll, 2),
    })
    kept = record["mask_polygon"] and record.get(POLYGON_SOURCE, "") != ESTIMATED
    if kept:
        row[POLYGON_SOURCE] = record.get(POLYGON_SOURCE) or EXACT
    else:
        row["mask_polygon"] = format_points(np.clip(lower_face_polygon(landmarks, LAYOUT), 0, size))
        row[POLYGON_SOURCE] = ESTIMATED
    return row


def _audit_row(record: pd.Series, reason: str, faces: list[Face]) -> dict:
    return {"image_id": record["image_id"], "path": record["path"], "reason": reason, "faces_detected": len(faces),
            "largest_face_px": round(max((f.size for f in faces), default=0.0), 1)}


def _report(audit: pd.DataFrame, rows: int, seconds: float, images: int, audit_path: Path) -> None:
    log.info("faces: searched %d image(s) in %.1f s (%.0f ms per image)", images, seconds,
             1000 * seconds / max(images, 1))
    if len(audit):
        log.warning("faces: %d of %d row(s) (%.1f%%) have no usable face and are left out; see %s",
                    len(audit), rows, 100 * len(audit) / max(rows, 1), audit_path)
