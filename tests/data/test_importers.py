"""Each importer on a fixture of its layout; bad input fails with the file named and nothing written."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from PIL import Image

from tests.data import fixtures
from trainers.data.importers import IMPORTERS, import_dataset, run_import
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest, content_hash, summary
from trainers.common.errors import DataError


def test_registry_lists_every_format():
    assert {"msd-e", "csv", "folders", "rafdb", "fer2013"} <= set(IMPORTERS)
    for importer in IMPORTERS.values():
        assert importer.summary and importer.options() is not None  # every option has a default


def test_msde(tmp_path, caplog):
    fixtures.write_msde_fixture(tmp_path / "src", subjects=3, poses_per_class=2, only_nonmasked=2, unlisted=1)
    with caplog.at_level(logging.WARNING):
        manifest = import_dataset("msd-e", tmp_path / "src", tmp_path / "out" / "m.parquet")
    table = manifest.table
    assert len(table) == 3 * 7 * 2 * 2 - 2
    assert table["pair_id"].ne("").sum() == 2 * (3 * 7 * 2 - 2 - 1)
    assert "2 image(s) only in MSD-E/" in caplog.text and "1 image pair(s) in both folders but not in" in caplog.text
    row = table.set_index("image_id").loc["MSD-ME/2_5_1.png"]
    assert (row["subject"], row["label"], row["masked"], row["pair_id"]) == ("2", "angry", True, "2_5_1.png")
    assert (tmp_path / "out" / row["path"]).resolve() == (tmp_path / "src" / "MSD-ME" / "2_5_1.png").resolve()
    assert summary(manifest).loc["total", "pairs"] == 3 * 7 * 2 - 3
    assert Manifest.load(tmp_path / "out" / "m.parquet").table.equals(table)


def test_msde_is_deterministic(tmp_path):
    hashes = []
    for name in ("a", "b"):
        fixtures.write_msde_fixture(tmp_path / name / "src", subjects=2, seed=3)
        hashes.append(content_hash(import_dataset("msd-e", tmp_path / name / "src", tmp_path / name / "m.csv")))
    assert hashes[0] == hashes[1]
    assert (tmp_path / "a/src/MSD-E/1_0_0.jpg").read_bytes() == (tmp_path / "b/src/MSD-E/1_0_0.jpg").read_bytes()


def test_csv_with_custom_columns(tmp_path):
    columns = {"path": "file", "subject": "person", "label": "emotion", "masked": "mask", "pair": "pose"}
    csv_path = fixtures.write_csv_fixture(tmp_path / "data", subjects=2, columns=columns, label_order="rafdb1")
    options = dict(path_col="file", subject_col="person", label_col="emotion", masked_col="mask", pair_col="pose")
    manifest = import_dataset("csv", csv_path, tmp_path / "m.csv", label_order="rafdb1", **options)
    assert len(manifest) == 28 and manifest.table["masked"].sum() == 14
    assert summary(manifest).loc["total", "pairs"] == 14
    raw = pd.read_csv(csv_path, dtype=str)
    assert dict(zip(raw["file"], raw["emotion"], strict=True))["images/s1/surprise_nm.png"] == "1"
    assert manifest.table.set_index("path").loc["data/images/s1/surprise_nm.png", "label"] == "surprise"
    with pytest.raises(DataError, match=r"no column 'path' .*pass --path-col"):
        import_dataset("csv", csv_path, tmp_path / "m2.csv")
    assert not (tmp_path / "m2.csv").exists()


def test_csv_root_option(tmp_path):
    csv_path = fixtures.write_csv_fixture(tmp_path / "data", subjects=1)
    moved = tmp_path / "elsewhere" / "labels.csv"
    moved.parent.mkdir()
    csv_path.rename(moved)
    manifest = import_dataset("csv", moved, tmp_path / "m.csv", root=tmp_path / "data")
    assert len(manifest) == 14


@pytest.mark.parametrize("masked_tree", [True, False])
def test_folders(tmp_path, masked_tree):
    fixtures.write_folders_fixture(tmp_path / "src", subjects=3, masked_tree=masked_tree)
    if masked_tree:
        (tmp_path / "src" / "masked").rename(tmp_path / "src" / "Masked")
        (tmp_path / "src" / "unmasked").rename(tmp_path / "src" / "non-masked")
    manifest = import_dataset("folders", tmp_path / "src", tmp_path / "m.csv", subject_regex=r"^(?P<subject>[^_]+)_")
    table = manifest.table
    assert len(table) == 21 * (2 if masked_tree else 1)
    assert sorted(table["subject"].unique()) == ["p1", "p2", "p3"]
    assert summary(manifest).loc["total", "pairs"] == (21 if masked_tree else 0)
    assert set(table["label"]) == set(CLASSES)


@pytest.mark.parametrize("masked_tree", [True, False])
def test_folders_image_folder_tree_without_subjects(tmp_path, caplog, masked_tree):
    """A torchvision ImageFolder tree (any file names) imports with each image (or pose) its own subject."""
    fixtures.write_folders_fixture(tmp_path / "src", subjects=2, masked_tree=masked_tree)
    for path in (tmp_path / "src").rglob("*.png"):
        path.rename(path.with_name(f"face {path.name.replace('_', '-')}"))  # no subject in the names
    with caplog.at_level(logging.WARNING):
        manifest = import_dataset("folders", tmp_path / "src", tmp_path / "m.csv")
    table = manifest.table
    assert len(table) == 14 * (2 if masked_tree else 1)
    assert "no --subject-regex" in caplog.text and "cannot keep one person's images apart" in caplog.text
    per_subject = table.groupby("subject").size()
    assert (per_subject == (2 if masked_tree else 1)).all()
    if masked_tree:  # the masked and unmasked image of a pose share their subject and pair
        assert summary(manifest).loc["total", "pairs"] == 14
        assert (table.groupby("subject")["pair_id"].nunique() == 1).all()
    with pytest.raises(DataError, match="does not match --subject-regex"):
        import_dataset("folders", tmp_path / "src", tmp_path / "r.csv", subject_regex=r"^(?P<subject>p\d+)_")


def test_folders_pair_regex(tmp_path):
    fixtures.write_folders_fixture(tmp_path / "src", subjects=2)
    for path in (tmp_path / "src" / "masked").rglob("*.png"):
        path.rename(path.with_name(path.stem + "_mask.png"))
    assert summary(import_dataset("folders", tmp_path / "src", tmp_path / "a.csv")).loc["total", "pairs"] == 0
    manifest = import_dataset("folders", tmp_path / "src", tmp_path / "b.csv", pair_regex=r"^(?P<pair>[^_]+_\d+)")
    assert summary(manifest).loc["total", "pairs"] == 14
    with pytest.raises(DataError, match="named group"):
        import_dataset("folders", tmp_path / "src", tmp_path / "c.csv", subject_regex=r"^[^_]+")


@pytest.mark.parametrize("aligned_suffix", [True, False])
def test_rafdb(tmp_path, caplog, aligned_suffix):
    fixtures.write_rafdb_fixture(tmp_path / "raf", images=14, aligned_suffix=aligned_suffix)
    with caplog.at_level(logging.WARNING):
        manifest = import_dataset("rafdb", tmp_path / "raf", tmp_path / "m.csv")
    assert "each image is its own subject" in caplog.text
    table = manifest.table.set_index("image_id")
    assert len(table) == 14 and table["subject"].nunique() == 14
    assert table.loc["train_00001", "label"] == "surprise"  # label 1 = surprise in RAF-DB order
    assert table.loc["test_00014", "label"] == "neutral"


def test_fer2013_with_ferplus(tmp_path, caplog):
    outcomes = ["happy", "tie", "contempt", "sad", "unknown", "NF", "unknown", "neutral"]
    fixtures.write_fer2013_fixture(tmp_path / "fer", outcomes)
    out = tmp_path / "out" / "m.csv"
    with caplog.at_level(logging.INFO):
        manifest = import_dataset("fer2013", tmp_path / "fer", out)
    assert manifest.table["label"].tolist() == ["happy", "sad", "neutral"]
    assert manifest.table["image_id"].tolist() == ["fer2013/00000", "fer2013/00003", "fer2013/00007"]
    assert "dropped 5 image(s): 1 NF majority, 1 contempt majority, 1 tie, 2 unknown majority" in caplog.text
    with Image.open(out.parent / "images" / "fer2013" / "00003.png") as image:
        assert image.size == (48, 48) and image.mode == "L"
    written = (out.parent / "images" / "fer2013" / "00003.png").stat().st_mtime_ns
    import_dataset("fer2013", tmp_path / "fer", out)
    assert (out.parent / "images" / "fer2013" / "00003.png").stat().st_mtime_ns == written  # identical file kept


def test_fer2013_labels_by_name(tmp_path):
    fixtures.write_fer2013_fixture(tmp_path / "fer", list(CLASSES), ferplus=False)
    raw = pd.read_csv(tmp_path / "fer" / "fer2013.csv")
    assert raw["emotion"].tolist() == [5, 2, 1, 3, 4, 0, 6]  # FER2013's own order
    manifest = import_dataset("fer2013", tmp_path / "fer" / "fer2013.csv", tmp_path / "m.csv")
    assert manifest.table["label"].tolist() == list(CLASSES)
    assert set(manifest.table["source"]) == {"fer2013"}


def _msde(tmp_path):
    return fixtures.write_msde_fixture(tmp_path / "src", subjects=2)


def _csv(tmp_path):
    return fixtures.write_csv_fixture(tmp_path / "src", subjects=2)


def _edit_csv(path, edit):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)


def _set_cell(row, column, value):
    def edit(frame):
        frame.loc[row, column] = value
        return frame

    return lambda csv: _edit_csv(csv, edit)


def _duplicate_id(csv):
    def edit(frame):
        frame["image_id"] = frame["path"]
        frame.loc[5, "image_id"] = frame.loc[4, "path"]
        return frame

    _edit_csv(csv, edit)


def _rename(old, new):
    return lambda src: (src / old).rename(src / new)


# case: (format, fixture writer, corruption, texts the error must contain: the file or line, the reason)
BAD_INPUTS = {
    "corrupt": (
        "msd-e",
        _msde,
        lambda src: fixtures.corrupt_garble(src / "MSD-ME/2_1_0.png"),
        ("MSD-ME/2_1_0.png", "cannot decode"),
    ),
    "truncated": (
        "msd-e",
        _msde,
        lambda src: fixtures.corrupt_truncate(src / "MSD-E/1_1_0.jpg"),
        ("MSD-E/1_1_0.jpg", "cannot decode"),
    ),
    "zero-byte": (
        "msd-e",
        _msde,
        lambda src: fixtures.corrupt_zero_bytes(src / "MSD-E/2_2_0.png"),
        ("MSD-E/2_2_0.png", "file is empty"),
    ),
    "non-image": (
        "msd-e",
        _msde,
        lambda src: fixtures.corrupt_not_image(src / "MSD-ME/1_6_0.jpg"),
        ("MSD-ME/1_6_0.jpg", "cannot decode"),
    ),
    "label-out-of-range": (
        "msd-e",
        _msde,
        _rename("MSD-E/1_1_0.jpg", "MSD-E/1_9_0.jpg"),
        ("MSD-E/1_9_0.jpg", "outside 0-6"),
    ),
    "missing": (
        "csv",
        _csv,
        lambda csv: (csv.parent / "images/s2/fear_m.png").unlink(),
        ("images/s2/fear_m.png", "file not found"),
    ),
    "unknown-label": (
        "csv",
        _csv,
        _set_cell(3, "label", "contempt"),
        ("labels.csv line 5", "unknown label 'contempt'"),
    ),
    "duplicate-id": (
        "csv",
        _csv,
        _duplicate_id,
        ("images/s1/disgust_m.png (image_id images/s1/disgust_nm.png, row 7)", "duplicate image_id (also on row 6)"),
    ),
    "partner-missing": (
        "csv",
        _csv,
        lambda csv: _edit_csv(csv, lambda f: f.drop(index=[7])),
        ("images/s1/happy_nm.png", "pair_id 's1-3' has no partner"),
    ),
    "partner-other-subject": (
        "csv",
        _csv,
        _set_cell(1, "subject", "s9"),
        ("images/s1/surprise_m.png", "joins subjects"),
    ),
    "masked-flags": (
        "csv",
        _csv,
        _set_cell(0, "masked", "yes"),
        ("images/s1/surprise_nm.png", "joins two masked images"),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_file_and_writes_nothing(tmp_path, case):
    fmt, write, corrupt, expected = BAD_INPUTS[case]
    src = write(tmp_path)
    corrupt(src)
    out = tmp_path / "out" / "manifest.csv"
    with pytest.raises(DataError) as error:
        import_dataset(fmt, src, out)
    for text in expected:
        assert text in str(error.value)
    assert "fix:" in str(error.value)
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())  # no temporary file left either
    result = run_import(fmt, src, out, skip_bad=True)
    assert out.exists() and len(result.skipped) >= 1
    assert len(Manifest.load(out)) == len(result.manifest)
