"""Named landmark layouts: groups, subsets, declaration in the manifest, and the count fallback."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from trainers.data.landmarks import DEMO_148, LAYOUTS, MEDIAPIPE_478, resolve_layout
from trainers.data.manifest import Manifest, parse_points
from trainers.common.errors import DataError


def test_every_layout_has_the_groups_the_regions_need():
    assert set(LAYOUTS) == {"mediapipe-478", "mediapipe-468", "ibug-68", "five-point", "demo-148"}
    for layout in LAYOUTS.values():
        assert layout.has("right_eye", "left_eye", "nose_tip", "mouth_corners"), layout.name
        if layout.name != "five-point":
            assert layout.has("right_brow", "left_brow", "nose_bridge", "jaw", "lips_outer"), layout.name
    assert MEDIAPIPE_478.groups["nose_bridge"] == (168, 6, 197, 195)
    assert MEDIAPIPE_478.groups["jaw"][0] == 234 and MEDIAPIPE_478.groups["jaw"][-1] == 454
    assert 152 in MEDIAPIPE_478.groups["jaw"] and not LAYOUTS["mediapipe-468"].has("right_iris")
    assert LAYOUTS["ibug-68"].groups["right_eye"] == tuple(range(36, 42))


def test_demo_subset_reindexes_every_mesh_group_it_contains():
    mesh = np.random.default_rng(0).normal(size=(478, 2))
    demo = mesh[list(DEMO_148.parent_indices)]
    assert DEMO_148.size == len(demo) == 148 and DEMO_148.parent == "mediapipe-478"
    for group in ("right_eye", "left_iris", "jaw", "nose_bridge", "nose_tip", "mouth_corners", "face_oval"):
        np.testing.assert_array_equal(DEMO_148.points(demo, group), MEDIAPIPE_478.points(mesh, group))


def test_points_and_unknown_groups():
    five = np.arange(10, dtype=float).reshape(5, 2)
    np.testing.assert_array_equal(LAYOUTS["five-point"].points(five, "left_eye", "nose_tip"), five[[1, 2]])
    with pytest.raises(DataError, match="five-point has no group.*right_brow"):
        LAYOUTS["five-point"].points(five, "right_brow")
    with pytest.raises(DataError, match="has 68 points, the landmarks have 5"):
        LAYOUTS["ibug-68"].points(five, "jaw")


def test_resolve_uses_the_declared_name_and_guesses_only_with_a_warning():
    assert resolve_layout("ibug-68", np.zeros((68, 2))).name == "ibug-68"
    with pytest.raises(DataError, match="unknown landmark layout 'dlib'; choose one of"):
        resolve_layout("dlib", np.zeros((68, 2)))
    with pytest.raises(DataError, match="landmark_layout mediapipe-478 has 478 points, the landmarks have 468"):
        resolve_layout("mediapipe-478", np.zeros((468, 2)))
    with pytest.warns(FutureWarning, match="assumed mediapipe-468 from their 468 points"):
        assert resolve_layout("", np.zeros((468, 2))).name == "mediapipe-468"
    with pytest.raises(DataError, match="7 landmarks and an empty landmark_layout"):
        resolve_layout("", np.zeros((7, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_layout("five-point", np.zeros((5, 2)))


def _table(layout: str) -> pd.DataFrame:
    return pd.DataFrame([{"image_id": "a", "path": "a.png", "subject": "s1", "label": "happy", "masked": False,
                          "pair_id": "", "source": "t", "landmark_layout": layout}])


def test_manifest_refuses_an_unknown_layout_name(tmp_path):
    assert Manifest(_table("ibug-68"), tmp_path).table.at[0, "landmark_layout"] == "ibug-68"
    assert Manifest(_table(""), tmp_path).table.at[0, "landmark_layout"] == ""
    with pytest.raises(DataError, match=r"row 2 \(image_id a\): unknown landmark_layout 'dlib68'; use one of"):
        Manifest(_table("dlib68"), tmp_path)


def test_manifest_rebases_evidence_and_geometry_files_like_image_paths(tmp_path):
    table = _table("five-point")
    table["evidence"] = "evidence/a.npy"
    table["landmarks"] = "geometry/a.json"
    table["mask_polygon"] = "[[1, 2], [3, 4], [5, 1]]"
    (tmp_path / "data" / "geometry").mkdir(parents=True)
    (tmp_path / "data" / "geometry" / "a.json").write_text("[[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]")
    Manifest(table, tmp_path / "data").save(tmp_path / "elsewhere" / "m.csv")
    loaded = Manifest.load(tmp_path / "elsewhere" / "m.csv")
    row = loaded.table.iloc[0]
    assert row["evidence"] == "../data/evidence/a.npy" and row["landmarks"] == "../data/geometry/a.json"
    assert row["mask_polygon"] == "[[1, 2], [3, 4], [5, 1]]"  # inline points stay as they are
    assert loaded.abspath(row["evidence"]).resolve() == (tmp_path / "data" / "evidence" / "a.npy")
    assert parse_points(row["landmarks"], loaded.root).shape == (5, 2)
