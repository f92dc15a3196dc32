"""Tests of the built-in demo dataset generator (tiny: 3 subjects at 64 px)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path as Polygon
from PIL import Image

from trainers.cli import main
from trainers.data.demo import generate_demo
from trainers.data.demo.mesh import LANDMARK_INDICES, load_face_model
from trainers.data.landmarks import LAYOUTS
from trainers.data.labels import CLASSES
from trainers.data.manifest import COLUMNS, Manifest, parse_points

SUBJECTS, SIZE = 3, 64


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(out, subjects=SUBJECTS, size=SIZE, seed=3, preview=out.parent / "sheet.png")
    return out


def _hashes(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file() and path.name != "demo.json"
    }


def _description(folder: Path) -> dict:
    description = json.loads((folder / "demo.json").read_text())
    description.pop("provenance")
    return description


def _groups(folder: Path) -> dict[str, list[int]]:
    return json.loads((folder / "demo.json").read_text())["landmarks"]["groups"]


def test_same_seed_gives_identical_files_whatever_the_workers(demo: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_demo(again, subjects=SUBJECTS, size=SIZE, seed=3, workers=2)
    assert _hashes(again) == _hashes(demo)
    assert _description(again) == _description(demo)
    other = tmp_path / "other"
    generate_demo(other, subjects=1, size=SIZE, seed=4)
    first = {k: v for k, v in _hashes(demo).items() if k.startswith("images/s001/")}
    assert first != {k: v for k, v in _hashes(other).items() if k.startswith("images/s001/")}


def test_counts_and_schema(demo: Path) -> None:
    manifest = Manifest.load(demo / "manifest.csv")
    table = manifest.table
    assert list(table.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert len(table) == SUBJECTS * len(CLASSES) * 2
    assert table["image_id"].is_unique and set(table["source"]) == {"demo"}
    assert all(re.fullmatch(r"s\d{3}_[a-z]+_\d_[nm]", i) for i in table["image_id"])
    assert sorted(table["subject"].unique()) == ["s001", "s002", "s003"]
    for _, pair in table.groupby("pair_id"):
        assert sorted(pair["masked"]) == [False, True] and pair["label"].nunique() == 1
        assert pair["landmarks"].nunique() == 1 and pair["mask_polygon"].nunique() == 1
    for path in manifest.abspaths():
        with Image.open(path) as image:
            assert image.size == (SIZE, SIZE) and image.mode == "RGB"
    assert len(parse_points(table["landmarks"].iloc[0])) == len(LANDMARK_INDICES)
    assert set(table["landmark_layout"]) == {"demo-148"} and LAYOUTS["demo-148"].size == len(LANDMARK_INDICES)
    votes = pd.read_csv(demo / "votes.csv", dtype=str, keep_default_na=False)
    assert list(votes.columns) == ["image_id", "volunteer", "proposed_label"]
    assert len(votes) == 7 * len(table) and set(votes["volunteer"]) == {f"v{i}" for i in range(1, 8)}
    assert set(votes["proposed_label"]) <= {"", "none", *CLASSES}
    description = json.loads((demo / "demo.json").read_text())
    assert description["seed"] == 3 and len(description["subjects"]) == SUBJECTS
    assert {"generator_version", "parameters", "provenance"} <= set(description)
    assert (demo.parent / "sheet.png").is_file()


def test_mask_polygon_covers_nose_and_mouth_but_no_eye(demo: Path) -> None:
    table = Manifest.load(demo / "manifest.csv").table
    groups = _groups(demo)
    nose_tip = list(LANDMARK_INDICES).index(1)
    for _, row in table.iterrows():
        polygon = parse_points(row["mask_polygon"])
        points = parse_points(row["landmarks"])
        assert polygon.min() >= 0 and polygon.max() <= SIZE - 1
        region = Polygon(polygon)
        mouth = np.vstack([points[groups["lips_outer"]], points[groups["lips_inner"]]])
        assert region.contains_point(points[nose_tip]), row["image_id"]
        assert region.contains_points(mouth).all(), row["image_id"]
        eyes = np.vstack([points[groups[name]] for name in ("right_eye", "left_eye", "right_iris", "left_iris")])
        assert not region.contains_points(eyes).any(), row["image_id"]


def test_pair_differs_only_where_the_mask_is(demo: Path) -> None:
    manifest = Manifest.load(demo / "manifest.csv")
    table = manifest.table
    for pair_id in table["pair_id"].unique()[:5]:
        pair = table[table["pair_id"] == pair_id].sort_values("masked")
        plain, masked = (np.asarray(Image.open(manifest.abspath(p)), dtype=int) for p in pair["path"])
        changed = np.abs(plain - masked).sum(axis=2) > 0
        ys, xs = np.nonzero(changed)
        inside = Polygon(parse_points(pair["mask_polygon"].iloc[0])).contains_points(np.c_[xs + 0.5, ys + 0.5], radius=3)
        assert changed.sum() > 0.05 * SIZE * SIZE
        assert inside.mean() > 0.85, pair_id


def test_evidence_is_zero_for_neutral_and_lies_on_moved_features(demo: Path) -> None:
    table = Manifest.load(demo / "manifest.csv").table
    groups = _groups(demo)
    for _, row in table.iterrows():
        assert row["evidence"] == f"evidence/{row['image_id']}.npy"
        evidence = np.load(demo / row["evidence"])
        assert evidence.dtype == np.float16 and evidence.shape == (64, 64)
        if row["label"] == "neutral":
            assert not evidence.any(), row["image_id"]
            continue
        assert evidence.max() > 0, row["image_id"]
        assert evidence[0, 0] == 0 and evidence[-1, -1] == 0  # background never moves
        if row["label"] == "surprise" and not row["masked"]:
            points = parse_points(row["landmarks"])
            lips = points[groups["lips_outer"]] * (64 / SIZE)
            at_lips = evidence[np.clip(lips[:, 1].astype(int), 0, 63), np.clip(lips[:, 0].astype(int), 0, 63)]
            assert at_lips.astype(float).mean() > evidence[evidence > 0].astype(float).mean() * 0.5


def test_masked_evidence_excludes_what_the_mask_hides(demo: Path) -> None:
    table = Manifest.load(demo / "manifest.csv").table
    moved = table[table["label"] != "neutral"]
    for pair_id in moved["pair_id"].unique()[:6]:
        pair = moved[moved["pair_id"] == pair_id].sort_values("masked")
        plain, masked = (np.load(demo / path).astype(float) for path in pair["evidence"])
        polygon = Polygon(parse_points(pair["mask_polygon"].iloc[0]) * (64 / SIZE))
        ys, xs = np.mgrid[:64, :64]
        under = polygon.contains_points(np.c_[xs.ravel() + 0.5, ys.ravel() + 0.5]).reshape(64, 64)
        assert plain[under].max() > 0, pair_id  # the expression moved the lower face
        assert not masked[under].any(), pair_id
        kept = masked > 0
        np.testing.assert_array_equal(masked[kept], plain[kept])
        assert masked.sum() > 0 and masked.sum() < plain.sum()


def test_votes_round_trip_through_label_validation(demo: Path) -> None:
    validation = pytest.importorskip("trainers.data.validation", reason="label validation not in the tree yet")
    manifest = Manifest.load(demo / "manifest.csv")
    votes = validation.load_votes(demo / "votes.csv", manifest)
    result = validation.validate_labels(manifest, votes)
    assert result.counts["images"] == len(manifest) and result.counts["volunteers"] == 7
    assert result.counts["kept"] + result.counts["relabelled"] + result.counts["removed"] == result.counts["flagged"]
    assert len(result.manifest) == len(manifest) - result.counts["removed"]
    assert set(result.manifest.table["label"]) <= set(CLASSES)


def test_face_model_is_read_without_importing_feat() -> None:
    import sys

    model = load_face_model()
    assert model.coef.shape == (20, 478, 3) and model.triangles.shape == (898, 3)
    assert "feat" not in sys.modules


def test_cli_writes_the_dataset_and_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    assert main(["data", "demo", "--out", str(out), "--subjects", "1", "--size", "64"]) == 0
    printed = capsys.readouterr().out
    assert "non-masked" in printed and "14 images" in printed
    assert (out / "manifest.csv").is_file()
    assert main(["data", "demo", "--out", str(tmp_path / "bad"), "--subjects", "0"]) == 2
