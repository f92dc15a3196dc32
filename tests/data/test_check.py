"""check_manifest: every bad-input case raises with the file and row, or is skipped with --skip-bad."""

from __future__ import annotations

import shutil

import pytest

from tests.data import fixtures
from trainers.data.check import MAX_LISTED, check_manifest, format_report
from trainers.data.importers import import_dataset
from trainers.data.manifest import Manifest
from trainers.common.errors import DataError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A checked 2-subject MSD-E manifest (28 images, 14 pairs); tests copy its table."""
    root = tmp_path_factory.mktemp("msde")
    fixtures.write_msde_fixture(root / "src", subjects=2)
    return import_dataset("msd-e", root / "src", root / "manifest.csv")


def _fresh(dataset, tmp_path):
    """A private copy of the dataset's images and manifest, safe to corrupt."""
    shutil.copytree(dataset.root / "src", tmp_path / "src")
    shutil.copy(dataset.root / "manifest.csv", tmp_path / "manifest.csv")
    return Manifest.load(tmp_path / "manifest.csv")


def _row(manifest, name):
    return int(manifest.table.index[manifest.table["image_id"] == name][0])


def test_clean_manifest_passes(dataset):
    result = check_manifest(dataset)
    assert len(result.manifest) == 28 and result.skipped.empty
    assert "content hash:" in format_report(result)


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (fixtures.corrupt_truncate, "cannot decode image"),
        (fixtures.corrupt_zero_bytes, "file is empty"),
        (fixtures.corrupt_not_image, "cannot decode image"),
        (fixtures.corrupt_garble, "cannot decode image"),
        (lambda path: path.unlink(), "file not found"),
    ],
    ids=["truncated", "zero-byte", "non-image", "corrupt", "missing"],
)
def test_bad_file_is_named_or_skipped(dataset, tmp_path, corrupt, reason):
    manifest = _fresh(dataset, tmp_path)
    name = "MSD-ME/2_3_0.png"
    corrupt(manifest.abspath(manifest.table.at[_row(manifest, name), "path"]))
    with pytest.raises(DataError) as error:
        check_manifest(manifest)
    message = str(error.value)
    assert f"src/{name} (image_id {name}, row {_row(manifest, name) + 2}): {reason}" in message
    assert "1 problem(s)" in message and "fix:" in message
    result = check_manifest(manifest, skip_bad=True)
    assert len(result.manifest) == 27
    assert result.skipped[["image_id", "action"]].values.tolist() == [
        [name, "dropped"],
        ["MSD-E/2_3_0.png", "unpaired"],
    ]
    partner = result.manifest.table.set_index("image_id").loc["MSD-E/2_3_0.png"]
    assert partner["pair_id"] == ""


def test_no_decode_only_checks_existence_and_size(dataset, tmp_path):
    manifest = _fresh(dataset, tmp_path)
    fixtures.corrupt_truncate(manifest.abspaths()[0])
    assert check_manifest(manifest, decode=False).skipped.empty
    fixtures.corrupt_zero_bytes(manifest.abspaths()[1])
    with pytest.raises(DataError, match="file is empty"):
        check_manifest(manifest, decode=False)


def _edited(dataset, edit):
    table = dataset.table.copy()
    edit(table)
    return dataset.with_table(table)


def test_duplicate_id(dataset):
    def edit(table):
        table.loc[5, "image_id"] = table.loc[4, "image_id"]

    manifest = _edited(dataset, edit)
    with pytest.raises(DataError, match=r"row 7\): duplicate image_id \(also on row 6\)"):
        check_manifest(manifest)
    result = check_manifest(manifest, skip_bad=True)
    assert result.manifest.table["image_id"].is_unique and len(result.manifest) == 27


def test_pair_partner_missing(dataset):
    manifest = dataset.with_table(dataset.table[dataset.table["image_id"] != "MSD-ME/1_4_0.jpg"])
    with pytest.raises(DataError, match=r"MSD-E/1_4_0\.jpg .*pair_id '1_4_0\.jpg' has no partner image"):
        check_manifest(manifest)
    result = check_manifest(manifest, skip_bad=True)
    assert len(result.manifest) == len(manifest)  # kept, unpaired
    assert result.skipped["action"].tolist() == ["unpaired"]


def test_partner_with_other_subject(dataset):
    def edit(table):
        table.loc[table["image_id"] == "MSD-ME/1_4_0.jpg", "subject"] = "9"

    manifest = _edited(dataset, edit)
    with pytest.raises(DataError) as error:
        check_manifest(manifest)
    assert "MSD-ME/1_4_0.jpg" in str(error.value) and "joins subjects '1' and '9'" in str(error.value)
    assert "2 problem(s)" in str(error.value)  # both rows of the pair are named
    result = check_manifest(manifest, skip_bad=True)
    assert len(result.manifest) == len(manifest) - 2
    assert set(result.skipped["action"]) == {"dropped"}


def test_inconsistent_masked_flags(dataset):
    def edit(table):
        table.loc[table["image_id"] == "MSD-E/2_6_0.png", "masked"] = True

    manifest = _edited(dataset, edit)
    with pytest.raises(DataError, match=r"MSD-E/2_6_0\.png .*joins two masked images"):
        check_manifest(manifest)


def test_three_images_in_one_pair_and_empty_subject(dataset):
    def edit(table):
        table.loc[0, "pair_id"] = table.loc[1, "pair_id"]
        table.loc[3, "subject"] = ""

    with pytest.raises(DataError) as error:
        check_manifest(_edited(dataset, edit))
    assert "joins 3 images" in str(error.value) and "row 5): subject is empty" in str(error.value)


def test_bad_geometry_cell(dataset):
    def edit(table):
        table.loc[0, "landmarks"] = "[[1, 2], [3, 4]]"
        table.loc[1, "landmarks"] = "[1, 2]"

    manifest = _edited(dataset, edit)
    with pytest.raises(DataError, match=r"row 3\): landmarks: geometry '\[1, 2\]'"):
        check_manifest(manifest, decode=False)


def test_landmark_count_must_match_the_declared_layout(dataset):
    def edit(table):
        table["landmark_layout"] = ""
        table.loc[0, "landmarks"] = "[[1, 2], [3, 4]]"
        table.loc[0, "landmark_layout"] = "five-point"

    with pytest.raises(DataError, match=r"row 2\): landmarks: 2 points, landmark_layout five-point has 5"):
        check_manifest(_edited(dataset, edit), decode=False)


def test_long_problem_lists_are_capped(dataset, tmp_path):
    manifest = _fresh(dataset, tmp_path)
    for path in manifest.abspaths():
        path.unlink()
    with pytest.raises(DataError) as error:
        check_manifest(manifest)
    message = str(error.value)
    assert message.count("file not found") == MAX_LISTED
    assert f"... and {28 - MAX_LISTED} more" in message
