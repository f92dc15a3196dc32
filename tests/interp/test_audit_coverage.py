"""The audit on real-photo geometry: polygons estimated from landmarks, the split of region metrics
by exact vs estimated polygons, and the warning with the shares of images lacking geometry."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path as PolygonPath
from PIL import Image

from interp.audit.coverage import coverage_by_subset, coverage_warning, geometry_coverage, summary_by_polygon
from interp.audit.inputs import RunImages
from tests.interp.test_audit import RUN_SIZE, _write_run
from trainers.data.cache import InputFrame
from trainers.data.landmarks import LAYOUTS
from trainers.data.manifest import format_points


def ibug_face(centre: tuple[float, float] = (48.0, 44.0), scale: float = 1.0) -> np.ndarray:
    """A frontal 68-point iBUG face: jaw on a U round the chin, eyes above the nose tip, the mouth below."""
    cx, cy = centre
    points = np.zeros((68, 2))
    angles = np.linspace(np.pi, 0, 17)
    points[:17] = np.column_stack([cx + 30 * np.cos(angles), cy + 4 + 40 * np.sin(angles)])  # jaw from the right ear
    points[17:27] = np.column_stack([np.linspace(cx - 26, cx + 26, 10), np.full(10, cy - 18)])  # brows
    points[27:36] = np.column_stack([np.full(9, cx), np.linspace(cy - 10, cy + 12, 9)])  # nose
    points[30] = (cx, cy + 14)  # nose tip
    for start, x in ((36, cx - 14), (42, cx + 14)):  # eyes
        ring = np.linspace(0, 2 * np.pi, 6, endpoint=False)
        points[start:start + 6] = np.column_stack([x + 6 * np.cos(ring), cy - 6 + 2.5 * np.sin(ring)])
    ring = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    points[48:68] = np.column_stack([cx + 12 * np.cos(ring), cy + 26 + 5 * np.sin(ring)])  # lips
    return centre + (points - centre) * scale


def _images(sources: list[str], landmarks: list[bool]) -> pd.DataFrame:
    return pd.DataFrame({"model": "baseline-mix", "fold": [0, 0, 1, 1], "image_id": list("abcd"),
                         "label": "happy", "pred": "happy", "correct": True, "masked": [False, True, False, True],
                         "mask_fraction": [0.1, 0.2, 0.3, np.nan], "eye_fraction": [0.5, 0.4, 0.3, 0.2],
                         "mask_polygon_source": sources, "has_landmarks": landmarks})


def test_coverage_shares_warning_and_split():
    images = _images(["exact", "estimated", "estimated", "none"], [True, True, True, False])
    coverage = geometry_coverage(images)
    assert coverage == {"images": 4, "exact": 0.25, "estimated": 0.5, "without_polygon": 0.25,
                        "without_landmarks": 0.25}
    warning = coverage_warning(coverage)
    assert "25.0% have no mask polygon" in warning and "50.0% have a mask polygon estimated" in warning
    assert "25.0% have no landmarks" in warning and "data faces" in warning
    assert coverage_warning(geometry_coverage(_images(["exact"] * 4, [True] * 4))) is None
    shares = coverage_by_subset(images).set_index("subset")
    assert shares.loc["M", "share_without_polygon"] == 0.5 and shares.loc["NM", "share_estimated"] == 0.5

    def summarise(part: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"model": ["baseline-mix"], "n_images": [len(part)]})

    split = summary_by_polygon(images, summarise)
    assert split[["polygon_source", "n_images"]].values.tolist() == [["exact", 1], ["estimated", 2]]


WHOLE = InputFrame((0.0, 0.0, 96.0, 96.0), 0.0, 96)  # the whole 96-px image is the input


def test_run_images_estimate_a_missing_polygon_from_the_images_own_landmarks(tmp_path):
    face = ibug_face()
    table = pd.DataFrame({
        "image_id": ["drawn", "landmarks-only", "nothing"], "path": "x.png", "subject": "s", "label": "happy",
        "masked": [True, True, False], "pair_id": "", "source": "test",
        "mask_polygon": ["[[20,55],[76,55],[76,92],[20,92]]", "", ""],
        "landmarks": [format_points(face), format_points(face), ""], "landmark_layout": ["ibug-68", "ibug-68", ""],
    })
    Image.new("RGB", (RUN_SIZE, RUN_SIZE)).save(tmp_path / "x.png")
    images = RunImages(table, tmp_path)
    geometry, source = images._geometry(images.manifest.table.iloc[1], WHOLE)
    assert source == "estimated"
    polygon = geometry.mask_polygon
    layout = LAYOUTS["ibug-68"]
    assert PolygonPath(polygon).contains_points(layout.points(face, "nose_tip", "lips_outer")).all()
    assert not PolygonPath(polygon).contains_points(layout.points(face, "right_eye", "left_eye")).any()
    assert [images._geometry(images.manifest.table.iloc[row], WHOLE)[1]
            for row in (0, 2)] == ["exact", "none"]


@pytest.mark.slow
def test_audit_splits_region_metrics_and_warns_with_the_shares(tmp_path, monkeypatch, caplog):
    from interp.analyze import analyze

    monkeypatch.setenv("MASKFER_CACHE", str(tmp_path / "cache"))
    run = _write_run(tmp_path, models=("baseline-mix",))
    frozen = pd.read_csv(run / "manifest.csv", dtype=str, keep_default_na=False)
    real = frozen["masked"] == "True"  # the masked photos: landmarks only, as for real masked photos
    frozen.loc[real, "mask_polygon"] = ""
    frozen.loc[real, "landmarks"] = format_points(ibug_face())
    frozen.loc[real, "landmark_layout"] = "ibug-68"
    frozen.loc[frozen["image_id"] == "s0-happy-n", ["landmarks", "landmark_layout", "mask_polygon"]] = ""
    frozen.to_csv(run / "manifest.csv", index=False)
    options = {"attributions": {"max_images": "8", "sanity": "false", "overlay_pairs": "1", "map_size": "12",
                                "target": "pred"}}  # the predicted class: the tiny model's true-class maps may be all negative
    with caplog.at_level(logging.WARNING):
        analyze(run, only=["attributions"], options=options)
    out = run / "analysis" / "attributions" / "gradcam"
    images = pd.read_parquet(out / "images.parquet")
    assert set(images["mask_polygon_source"]) == {"exact", "estimated", "none"}
    assert images.loc[images["mask_polygon_source"] == "estimated", "mask_fraction"].notna().all()
    assert images.loc[images["mask_polygon_source"] == "none", "mask_fraction"].isna().all()
    split = pd.read_parquet(out / "summary_by_polygon.parquet")
    assert set(split["polygon_source"]) == {"exact", "estimated"}
    summary = pd.read_parquet(out / "summary.parquet")
    assert {"share_estimated", "share_without_polygon", "share_without_landmarks"} <= set(summary.columns)
    geometry = json.loads((out / "audit.json").read_text())["geometry"]
    assert geometry["estimated"] == 0.5 and geometry["without_polygon"] == geometry["without_landmarks"] == 0.125
    assert "have a mask polygon estimated from landmarks" in geometry["warning"]
    assert "attention audit: of 8 audited image(s)" in caplog.text
    index = json.loads((run / "analysis" / "index.json").read_text())
    assert any("have a mask polygon estimated" in w for w in index["steps"]["attributions"]["warnings"])
