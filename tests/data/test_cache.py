"""The image cache: colour modes, EXIF orientation, face crops, reuse and atomic builds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from trainers.data.cache import InputFrame, cache_path, input_frames, load_images, square_region
from trainers.data.manifest import Manifest
from trainers.common.errors import DataError

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def make_manifest(root, images: dict[str, Image.Image], save: dict[str, dict] | None = None, **columns) -> Manifest:
    """Save ``images`` (file name -> image) under ``root`` and return their manifest; extra
    keyword arguments are columns (lists in ``images`` order)."""
    save = save or {}
    root.mkdir(parents=True, exist_ok=True)
    for name, image in images.items():
        image.save(root / name, **save.get(name, {}))
    table = pd.DataFrame({
        "image_id": [name.rsplit(".", 1)[0] for name in images], "path": list(images),
        "subject": [f"s{i}" for i in range(len(images))], "label": "happy", "masked": False,
        "pair_id": "", "source": "test", **columns,
    })
    return Manifest(table, root)


def palette_image(index: int, transparent: bool) -> Image.Image:
    image = Image.new("P", (8, 8), index)
    image.putpalette([0, 0, 0] * 3 + [10, 20, 30] + [0, 0, 0] * 252)
    if transparent:
        image.info["transparency"] = index
    return image


MODES = [  # (file name, image, expected RGB, tolerance)
    ("grey.png", Image.new("L", (8, 8), 100), (100, 100, 100), 0),
    ("grey.jpg", Image.new("L", (8, 8), 100), (100, 100, 100), 3),
    ("bilevel.png", Image.new("1", (8, 8), 1), WHITE, 0),
    ("grey-alpha-opaque.png", Image.new("LA", (8, 8), (100, 255)), (100, 100, 100), 0),
    ("grey-alpha-clear.png", Image.new("LA", (8, 8), (100, 0)), WHITE, 0),
    ("palette.png", palette_image(3, transparent=False), (10, 20, 30), 0),
    ("palette-transparent.png", palette_image(3, transparent=True), WHITE, 0),
    ("rgba-half.png", Image.new("RGBA", (8, 8), (0, 0, 0, 128)), (127, 127, 127), 1),
    ("cmyk.tif", Image.new("CMYK", (8, 8), (0, 255, 255, 0)), RED, 0),
    ("cmyk.jpg", Image.new("CMYK", (8, 8), (0, 255, 255, 0)), RED, 40),
    ("sixteen-bit-mid.png", Image.fromarray(np.full((8, 8), 32896, np.uint16)), (128, 128, 128), 0),
    ("sixteen-bit-max.png", Image.fromarray(np.full((8, 8), 65535, np.uint16)), WHITE, 0),
    ("wide.png", Image.new("RGB", (30, 8), GREEN), GREEN, 0),
]


def test_every_colour_mode_decodes_to_rgb(tmp_path):
    manifest = make_manifest(tmp_path / "data", {name: image for name, image, _, _ in MODES})
    modes = [Image.open(path).mode for path in manifest.abspaths()]
    assert {"L", "1", "LA", "P", "RGBA", "CMYK", "I;16", "RGB"} <= set(modes)
    images = load_images(manifest, 4, cache_dir=tmp_path / "cache", face_crop=False)
    assert images.shape == (len(MODES), 4, 4, 3) and images.dtype == np.uint8
    assert isinstance(images, np.memmap) and not images.flags.writeable
    for row, (name, _, expected, tolerance) in enumerate(MODES):
        error = np.abs(images[row].astype(int) - np.array(expected)).max()
        assert error <= tolerance, f"{name}: {images[row][0, 0]} != {expected}"


def _exif_rotated_jpeg(displayed: Image.Image) -> tuple[Image.Image, dict]:
    """The stored image and save arguments of a JPEG that displays as ``displayed`` through EXIF
    orientation 6 (stored image = displayed turned 90 degrees counter-clockwise)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return displayed.transpose(Image.Transpose.ROTATE_90), {"exif": exif.tobytes(), "quality": 95}


def test_exif_orientation_is_applied(tmp_path):
    displayed = Image.new("RGB", (400, 800), BLUE)
    displayed.paste(RED, (0, 0, 400, 400))  # top half red as displayed
    stored, kwargs = _exif_rotated_jpeg(displayed)
    assert stored.size == (800, 400)
    manifest = make_manifest(tmp_path / "data", {"turned.jpg": stored}, {"turned.jpg": kwargs})
    (image,) = load_images(manifest, 16, cache_dir=tmp_path / "cache", face_crop=False)
    assert np.abs(image[:6].astype(int) - RED).max() <= 40
    assert np.abs(image[10:].astype(int) - BLUE).max() <= 40


@pytest.mark.parametrize("face_crop", [True, False])
def test_input_frames_map_geometry_onto_the_cached_pixels(tmp_path, face_crop):
    # A red dot at displayed (60, 130) of an EXIF-turned JPEG must land on the mapped input point.
    displayed = Image.new("RGB", (200, 300), BLUE)
    displayed.paste(RED, (50, 120, 70, 140))
    stored, kwargs = _exif_rotated_jpeg(displayed)
    manifest = make_manifest(tmp_path / "data", {"turned.jpg": stored}, {"turned.jpg": kwargs},
                             landmarks=["[[40, 100], [120, 160], [60, 130]]"])
    (image,) = load_images(manifest, 32, cache_dir=tmp_path / "cache", face_crop=face_crop)
    (frame,) = input_frames(manifest, [0], 32, face_crop)
    assert frame.box == ((28.0, 78.0, 132.0, 182.0) if face_crop else (0.0, 0.0, 200.0, 300.0))
    ((x, y),) = frame.map(np.array([[60.0, 130.0]]))
    assert np.abs(image[int(y), int(x)].astype(int) - RED).max() <= 60


def test_input_frame_scales_the_box_to_the_input():
    frame = InputFrame((100.0, 50.0, 300.0, 250.0), 0.0, 64)
    np.testing.assert_allclose(frame.map(np.array([[100.0, 50.0], [300.0, 250.0]])), [[0, 0], [64, 64]])
    assert frame.map(None) is None


def test_face_box_is_in_displayed_coordinates_of_a_large_jpeg(tmp_path):
    # 1600 x 800 stored, shown as 800 x 1600: the JPEG is decoded at reduced scale (draft).
    displayed = Image.new("RGB", (800, 1600), BLUE)
    displayed.paste(GREEN, (100, 1200, 300, 1400))
    stored, kwargs = _exif_rotated_jpeg(displayed)
    manifest = make_manifest(tmp_path / "data", {"big.jpg": stored}, {"big.jpg": kwargs},
                             face_box=["100,1200,300,1400"])
    (image,) = load_images(manifest, 16, cache_dir=tmp_path / "cache")
    assert np.abs(image[2:-2, 2:-2].astype(int) - GREEN).max() <= 40


def test_landmark_crop_is_square_with_a_margin(tmp_path):
    # Landmarks span 100 px; the crop is 130 px: a green ring of 15 px around the red landmark box.
    picture = Image.new("RGB", (300, 200), BLUE)
    picture.paste(GREEN, (85, 35, 215, 165))
    picture.paste(RED, (100, 50, 200, 150))
    landmarks = json.dumps([[100, 50], [200, 150], [150, 120]])
    manifest = make_manifest(tmp_path / "data", {"face.png": picture}, landmarks=[landmarks])
    (image,) = load_images(manifest, 52, cache_dir=tmp_path / "cache")
    assert np.abs(image[26, 26].astype(int) - RED).max() <= 5
    for y, x in [(2, 26), (26, 2), (49, 26), (26, 49)]:
        assert np.argmax(image[y, x]) == 1, f"pixel {(y, x)} is {image[y, x]}, expected the green margin"
    assert (np.argmax(image[2:-2, 2:-2], axis=-1) != 2).all(), "blue outside the margin leaked in"


def test_square_region_stays_inside_the_image():
    assert square_region((90, 10, 110, 30), 100, 100) == (80, 10, 100, 30)
    assert square_region((10, 10, 30, 50), 100, 100) == (0, 10, 40, 50)
    assert square_region((0, 0, 300, 50), 200, 100) == (100, 0, 200, 100)


def test_cache_is_reused_without_decoding(tmp_path):
    manifest = make_manifest(tmp_path / "data", {"a.png": Image.new("RGB", (8, 8), RED)})
    first = np.array(load_images(manifest, 4, cache_dir=tmp_path / "cache"))
    built = cache_path(manifest, 4, True, tmp_path / "cache")
    stamp = built.stat().st_mtime_ns
    # Same size, unreadable bytes: the manifest hash is unchanged, and decoding would now fail.
    image_file = manifest.abspaths()[0]
    image_file.write_bytes(b"\0" * image_file.stat().st_size)
    again = load_images(manifest, 4, cache_dir=tmp_path / "cache")
    assert np.array_equal(again, first)
    assert built.stat().st_mtime_ns == stamp
    assert cache_path(manifest, 8, True, tmp_path / "cache") != built
    assert cache_path(manifest, 4, False, tmp_path / "cache") != built


def test_failed_build_leaves_no_file(tmp_path):
    images = {f"ok{i}.png": Image.new("RGB", (8, 8), GREEN) for i in range(3)}
    manifest = make_manifest(tmp_path / "data", images)
    (tmp_path / "data" / "bad.png").write_bytes(b"not an image")
    table = pd.concat([manifest.table, manifest.table.iloc[[0]].assign(image_id="bad", path="bad.png")])
    with pytest.raises(DataError, match="bad.png \\(image_id bad\\): cannot decode"):
        load_images(manifest.with_table(table), 4, cache_dir=tmp_path / "cache", workers=2)
    assert list((tmp_path / "cache").iterdir()) == []


def test_damaged_cache_is_rebuilt(tmp_path, caplog):
    manifest = make_manifest(tmp_path / "data", {"a.png": Image.new("RGB", (8, 8), RED)})
    load_images(manifest, 4, cache_dir=tmp_path / "cache")
    built = cache_path(manifest, 4, True, tmp_path / "cache")
    built.write_bytes(built.read_bytes()[:100])
    images = load_images(manifest, 4, cache_dir=tmp_path / "cache")
    assert "rebuilding" in caplog.text
    assert np.abs(images[0].astype(int) - RED).max() == 0


def test_cache_key_follows_face_box_and_env(tmp_path, monkeypatch):
    manifest = make_manifest(tmp_path / "data", {"a.png": Image.new("RGB", (8, 8), RED)}, face_box=["0,0,4,4"])
    moved = manifest.with_table(manifest.table.assign(face_box="0,0,6,6"))
    assert cache_path(manifest, 4) != cache_path(moved, 4)
    assert cache_path(manifest, 4, False) == cache_path(moved, 4, False)
    monkeypatch.setenv("MASKFER_CACHE", str(tmp_path / "elsewhere"))
    assert cache_path(manifest, 4).parent == tmp_path / "elsewhere"


@pytest.mark.parametrize("box", ["1,2,3", "5,5,2,9", "a,b,c,d"])
def test_bad_face_box_names_the_row(tmp_path, box):
    manifest = make_manifest(tmp_path / "data", {"a.png": Image.new("RGB", (8, 8), RED)}, face_box=[box])
    with pytest.raises(DataError, match="manifest row 2 \\(image_id a\\): face_box"):
        load_images(manifest, 4, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []
