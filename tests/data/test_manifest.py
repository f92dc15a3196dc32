"""Manifest schema, load/save, rebasing, hashing, summary and label normalisation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.data.fixtures import draw_face, save_image
from trainers.data.labels import CLASSES, normalise_label
from trainers.data.manifest import (
    Manifest,
    complete_pairs,
    content_hash,
    format_points,
    parse_masked,
    parse_points,
    summary,
)
from trainers.common.errors import DataError


def _table(rows: list[tuple[str, str, str, bool, str]]) -> pd.DataFrame:
    """Rows of (image_id, subject, label, masked, pair_id); paths are ``img/<image_id>.png``."""
    return pd.DataFrame(
        [
            {
                "image_id": i,
                "path": f"img/{i}.png",
                "subject": s,
                "label": lab,
                "masked": m,
                "pair_id": p,
                "source": "t",
            }
            for i, s, lab, m, p in rows
        ]
    )


@pytest.fixture
def manifest(tmp_path):
    rows = [
        ("a", "s1", "happy", False, "p1"),
        ("b", "s1", "happy", True, "p1"),
        ("c", "s2", "sad", False, "p2"),
        ("d", "s2", "angry", True, "p2"),
        ("e", "s3", "fear", True, ""),
    ]
    rng = np.random.default_rng(0)
    for image_id, subject, label, masked, _ in rows:
        save_image(draw_face(16, int(subject[1]), label, masked, rng), tmp_path / "data" / "img" / f"{image_id}.png")
    return Manifest(_table(rows), tmp_path / "data")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_save_load_round_trip(manifest, tmp_path, suffix):
    target = tmp_path / "data" / f"manifest{suffix}"
    manifest.table.loc[0, "landmarks"] = format_points(np.array([[1.5, 2.0], [3.0, 4.25]]))
    manifest.save(target)
    loaded = Manifest.load(target)
    pd.testing.assert_frame_equal(loaded.table, manifest.table)
    assert loaded.root == manifest.root
    assert loaded.table["masked"].dtype == bool
    assert content_hash(loaded) == content_hash(manifest)


def test_save_elsewhere_rebases_paths(manifest, tmp_path):
    target = tmp_path / "elsewhere" / "deep" / "m.csv"
    manifest.save(target)
    loaded = Manifest.load(target)
    assert loaded.root == target.parent.resolve()
    assert loaded.table.loc[0, "path"] == "../../data/img/a.png"
    assert [p.resolve() for p in loaded.abspaths()] == [p.resolve() for p in manifest.abspaths()]
    assert content_hash(loaded) != content_hash(manifest)  # paths are part of the rows


def test_hash_changes_with_label_and_file_size(manifest):
    before = content_hash(manifest)
    assert content_hash(Manifest(manifest.table, manifest.root)) == before
    relabelled = manifest.table.copy()
    relabelled.loc[2, "label"] = "neutral"
    assert content_hash(manifest.with_table(relabelled)) != before
    shuffled = manifest.table.sample(frac=1, random_state=1)
    assert content_hash(manifest.with_table(shuffled)) == before  # row order does not matter
    path = manifest.abspath("img/a.png")
    path.write_bytes(path.read_bytes()[:-10])
    assert content_hash(manifest) != before


def test_summary_counts(manifest):
    table = summary(manifest)
    assert list(table.index) == [*CLASSES, "total"]
    assert table.loc["happy"].to_dict() == {"non-masked": 1, "masked": 1, "total": 2, "pairs": 1}
    assert table.loc["sad"].to_dict() == {"non-masked": 1, "masked": 0, "total": 1, "pairs": 0}
    assert table.loc["fear", "masked"] == 1
    assert table.loc["total"].to_dict() == {"non-masked": 2, "masked": 3, "total": 5, "pairs": 1}
    assert complete_pairs(manifest.table).to_dict() == {"p1": "happy"}  # p2's two labels differ


def test_labels_and_flags_are_normalised(tmp_path):
    rows = [("a", "s", "Happiness", "yes", ""), ("b", "s", " anger", "0", ""), ("c", "s", "SADNESS", "masked", "")]
    table = Manifest(_table(rows), tmp_path).table
    assert table["label"].tolist() == ["happy", "angry", "sad"]
    assert table["masked"].tolist() == [True, False, True]


def test_missing_values_become_empty_strings(tmp_path):
    table = _table([("a", "s", "happy", False, "")])
    table["pair_id"] = pd.array([pd.NA], dtype="string")
    table["subject"] = [np.nan]
    loaded = Manifest(table, tmp_path).table
    assert loaded.loc[0, "pair_id"] == "" and loaded.loc[0, "subject"] == ""


@pytest.mark.parametrize(("label", "message"), [("contempt", "unknown label 'contempt'"), ("3", "unknown label '3'")])
def test_unknown_label_names_row(tmp_path, label, message):
    with pytest.raises(DataError, match=rf"row 2 \(image_id a\): {message}"):
        Manifest(_table([("a", "s", label, False, "")]), tmp_path)


def test_numeric_label_orders():
    assert normalise_label(0, "rafdb0") == "surprise"
    assert normalise_label("7", "rafdb1") == "neutral"
    with pytest.raises(ValueError, match="outside 1-7"):
        normalise_label("0", "rafdb1")
    with pytest.raises(ValueError, match="outside 0-6"):
        normalise_label("7", "rafdb0")


def test_bad_masked_flag_and_missing_column(tmp_path):
    with pytest.raises(DataError, match=r"row 2 .*masked flag 'maybe'"):
        Manifest(_table([("a", "s", "happy", "maybe", "")]), tmp_path)
    with pytest.raises(DataError, match="lacks column"):
        Manifest(_table([("a", "s", "happy", False, "")]).drop(columns="subject"), tmp_path)
    with pytest.raises(ValueError):
        parse_masked("2")


def test_mask_polygon_source_is_exact_estimated_or_empty(tmp_path):
    table = _table([("a", "s", "happy", False, ""), ("b", "s", "happy", True, "")])
    table["mask_polygon_source"] = ["estimated", ""]
    assert Manifest(table, tmp_path).table["mask_polygon_source"].tolist() == ["estimated", ""]
    table["mask_polygon_source"] = ["exact", "guessed"]
    with pytest.raises(DataError, match=r"row 3 \(image_id b\): mask_polygon_source 'guessed' is not one of"):
        Manifest(table, tmp_path)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="manifest file not found"):
        Manifest.load(tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    _table([("a", "s", "joy?", False, "")]).to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"bad\.csv: row 2"):
        Manifest.load(bad)
    with pytest.raises(DataError, match=r"\.csv or \.parquet"):
        Manifest(_table([("a", "s", "happy", False, "")]), tmp_path).save(tmp_path / "m.txt")


def test_parse_points_inline_and_files(tmp_path):
    points = np.array([[1.0, 2.0], [3.5, 4.0], [5.0, 6.0]])
    assert parse_points("") is None
    np.testing.assert_allclose(parse_points(format_points(points)), points)
    (tmp_path / "p.json").write_text(json.dumps(points.tolist()))
    np.save(tmp_path / "p.npy", np.c_[points, np.ones(3)])
    np.testing.assert_allclose(parse_points("p.json", tmp_path), points)
    np.testing.assert_allclose(parse_points("p.npy", tmp_path), points)
    for bad in ("[1, 2, 3]", "[[1, 2], [3]", "missing.json"):
        with pytest.raises(DataError, match="geometry"):
            parse_points(bad, tmp_path)
