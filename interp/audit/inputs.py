"""What the audit needs from a run besides the models: images, geometry and evidence per image.

Images come from the image cache (:func:`trainers.data.cache.load_images`) at the fold's input
size and crop, exactly as training saw them; the manifest's mask polygon and landmarks are mapped
into that input frame by the cache's own :class:`~trainers.data.cache.InputFrame`; ground-truth
evidence maps (the demo dataset has them) are the files named in the manifest's ``evidence`` column.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from interp.audit.coverage import ESTIMATED, EXACT, NONE
from interp.audit.sanity import evidence_to_input_frame
from interp.regions import face_axes
from interp.regions.areas import AREAS, Geometry
from interp.regions.geometry import region_masks
from trainers.data.cache import InputFrame, crop_box, input_frames, load_images
from trainers.data.labels import CLASSES
from trainers.data.landmarks import resolve_layout
from trainers.data.manifest import Manifest, parse_points
from trainers.data.masking.outline import REQUIRED_GROUPS, lower_face_polygon
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

OWN, PARTNER, NO_ANCHOR = "own", "partner", "none"
"""Where an image's mouth and lower-face regions come from (the ``anchor`` column of the audit)."""


@dataclass
class Selection:
    """Images of one fold as the model sees them, with their geometry in the input frame.

    Attributes
    ----------
    image_ids, labels, masked
        Per image: id, true class index (-1 for an unlabelled image), masked flag.
    images
        ``(n, size, size, 3)`` uint8.
    regions
        ``(n, size, size)`` boolean mask of every registered region (``"mask"``, ``"eyes"``, ...).
    polygons
        Mask polygon of each image in input pixels (``None`` where there is none).
    frames
        Where each stored image's pixels land in its input (crop box, eye-levelling roll, size).
    polygon_sources
        Per image: ``exact`` (a drawn mask's outline), ``estimated`` (the lower-face polygon from
        its own landmarks, by ``data faces`` or, without a polygon in the manifest, here) or ``none``.
    has_landmarks
        Per image: whether it has landmarks.
    anchors
        Per image, where its ``mouth`` and ``lower_face`` regions come from: ``own`` (its own landmarks),
        ``partner`` (a masked photo: its unmasked partner's landmarks moved onto it by the similarity
        transform that best fits the partner's eye landmarks to its own) or ``none`` (no landmarks).
    """

    image_ids: list[str]
    labels: np.ndarray
    masked: np.ndarray
    images: np.ndarray
    regions: dict[str, np.ndarray]
    polygons: list[np.ndarray | None]
    frames: list[InputFrame]
    polygon_sources: list[str]
    has_landmarks: np.ndarray
    anchors: list[str]


class RunImages:
    """The frozen manifest of a run, its cached images and geometry.

    Parameters
    ----------
    table
        The run's manifest table (``Run.manifest()``), paths relative to ``root``.
    root
        The run directory.
    """

    def __init__(self, table: pd.DataFrame, root: Path) -> None:
        self.manifest = Manifest(table, root)
        self._row = {image_id: row for row, image_id in enumerate(self.manifest.table["image_id"])}
        self._arrays: dict[tuple[int, bool], np.ndarray] = {}
        self._frames: dict[tuple[int, bool], list[InputFrame]] = {}
        table = self.manifest.table
        self._unmasked = {pair: row for row, (pair, masked) in enumerate(zip(table["pair_id"], table["masked"]))
                          if pair and not bool(masked)}  # pair id -> manifest row of its unmasked image

    def row(self, image_id: str) -> int:
        """Manifest row of an image id (DataError when the run's manifest lacks it)."""
        if image_id not in self._row:
            raise DataError(f"{self.manifest.root / 'manifest.csv'}: no image {image_id!r}; "
                            "the predictions and the frozen manifest disagree - retrain or restore the run")
        return self._row[image_id]

    def select(self, image_ids: list[str], size: int, face_crop: bool) -> Selection:
        """Images, labels, regions and polygons of ``image_ids`` at ``size`` pixels."""
        rows = [self.row(i) for i in image_ids]
        key = (size, face_crop)
        if key not in self._arrays:
            self._arrays[key] = load_images(self.manifest, size, face_crop=face_crop)
        table = self.manifest.table.iloc[rows]
        partners = [self._unmasked.get(pair) if bool(masked) and pair else None
                    for pair, masked in zip(table["pair_id"], table["masked"])]
        if key not in self._frames:  # every row's frame at once: each call parses the whole manifest's geometry
            self._frames[key] = input_frames(self.manifest, list(range(len(self.manifest.table))), size, face_crop)
        frame_of = self._frames[key]
        frames = [frame_of[row] for row in rows]
        polygons: list[np.ndarray | None] = []
        sources: list[str] = []
        anchors: list[str] = []
        regions: dict[str, list[np.ndarray]] = {name: [] for name in AREAS}
        for (_, record), frame, partner in zip(table.iterrows(), frames, partners):
            geometry, source = self._geometry(record, frame)
            geometry, anchor = self._anchored(geometry, partner, None if partner is None else frame_of[partner])
            for name, region in region_masks(geometry, size, (size, size)).items():
                regions[name].append(region)
            polygons.append(geometry.mask_polygon)
            sources.append(source)
            anchors.append(anchor)
        empty = np.zeros((0, size, size), dtype=bool)
        return Selection(
            image_ids=list(image_ids),
            labels=table["label"].map(lambda name: CLASSES.index(name) if name else -1).to_numpy(),  # -1: unlabelled
            masked=table["masked"].to_numpy(dtype=bool),
            images=np.asarray(self._arrays[key][rows]),
            regions={name: np.stack(stack) if stack else empty for name, stack in regions.items()},
            polygons=polygons,
            frames=frames,
            polygon_sources=sources,
            has_landmarks=(table["landmarks"] != "").to_numpy(dtype=bool),
            anchors=anchors,
        )

    def _anchored(self, geometry: Geometry, partner: int | None, frame: InputFrame | None) -> tuple[Geometry, str]:
        """A masked photo's geometry with its lower face drawn from its unmasked partner, and the anchor used.

        ``partner`` is the manifest row of the pair's unmasked image (``None`` for an unmasked or unpaired
        image) and ``frame`` its input frame. The partner's landmarks (same layout) are mapped into that
        frame, then moved onto this face by the similarity transform fitting the partner's eye landmarks to
        this image's (:func:`interp.regions.face_axes.similarity`). Without a partner with landmarks of the
        same layout the image keeps its own landmarks (``own``).
        """
        if geometry.landmarks is None or geometry.layout is None:
            return geometry, NO_ANCHOR
        record = None if partner is None else self.manifest.table.iloc[partner]
        landmarks = None if record is None else self._points(record, "landmarks")
        if landmarks is None or frame is None:
            return geometry, OWN
        try:
            layout = resolve_layout(record["landmark_layout"], landmarks)
        except DataError:
            return geometry, OWN
        if layout.name != geometry.layout.name:
            return geometry, OWN
        moved = frame.map(landmarks)
        eyes = face_axes.EYES
        transform = face_axes.similarity(layout.points(moved, *eyes), layout.points(geometry.landmarks, *eyes))
        return replace(geometry, lower_landmarks=face_axes.apply(transform, moved)), PARTNER

    def _geometry(self, record: pd.Series, frame: InputFrame) -> tuple[Geometry, str]:
        """The image's geometry in the input frame and where its mask polygon came from."""
        landmarks = self._points(record, "landmarks")
        try:
            layout = None if landmarks is None else resolve_layout(record["landmark_layout"], landmarks)
        except DataError as exc:
            raise DataError(f"manifest image {record['image_id']}: {exc}") from exc
        polygon = self._points(record, "mask_polygon")
        source = (record["mask_polygon_source"] or EXACT) if polygon is not None else NONE
        if polygon is None and layout is not None and layout.has(*REQUIRED_GROUPS):
            polygon, source = lower_face_polygon(landmarks, layout), ESTIMATED  # its own landmarks, never a partner's
        geometry = Geometry(mask_polygon=frame.map(polygon), landmarks=frame.map(landmarks), layout=layout)
        return geometry, source

    def _points(self, record: pd.Series, column: str) -> np.ndarray | None:
        try:
            return parse_points(record[column], self.manifest.root)
        except (OSError, ValueError) as exc:
            raise DataError(f"manifest image {record['image_id']}: cannot read {column} ({exc})") from exc

    def evidence(self, selection: Selection, size: int) -> np.ndarray | None:
        """Ground-truth evidence maps in the input frame, ``(n, size, size)``; None if absent.

        The maps are the ``.npy`` files named in the manifest's ``evidence`` column (the demo
        dataset writes them); ``None`` when any selected image has none.
        """
        maps = []
        for image_id, frame in zip(selection.image_ids, selection.frames):
            record = self.manifest.table.iloc[self.row(image_id)]
            if not record["evidence"]:
                return None
            if frame.roll:
                log.warning("evidence check skipped: image %s is levelled by face_roll, which evidence maps "
                            "do not follow", image_id)
                return None
            source = self.manifest.abspath(record["evidence"])
            if not source.is_file():
                raise DataError(f"{source}: evidence map of image {image_id} named in the manifest is missing; "
                                "restore it or clear the evidence column")
            with Image.open(self.manifest.abspath(record["path"])) as image:
                shown = crop_box(image, None)[2:]  # the whole displayed (EXIF-upright) image: (0, 0, w, h)
            maps.append(evidence_to_input_frame(np.load(source, allow_pickle=False), shown, frame.box, size))
        return np.stack(maps) if maps else None
