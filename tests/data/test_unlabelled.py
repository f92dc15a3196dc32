"""Unlabelled photos: the folders importer's --unlabelled, an empty label in the manifest, and training refusing it
(an audit of a model trained elsewhere takes such a manifest: tests/interp/test_audit_model.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from PIL import Image

import trainers.cli
from trainers.common.errors import DataError
from trainers.data.importers import import_dataset
from trainers.data.manifest import Manifest


def _photos(root):
    for relative in ("a.jpg", "b.png", "trip/c.jpg", "happy/d.jpg"):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 32), (120, 100, 90)).save(path)


def test_folders_unlabelled_imports_every_photo_with_an_empty_label(tmp_path):
    _photos(tmp_path / "photos")
    manifest = import_dataset("folders", tmp_path / "photos", tmp_path / "m.csv", unlabelled=True)
    table = manifest.table.set_index("image_id")
    assert sorted(table.index) == ["a.jpg", "b.png", "happy/d.jpg", "trip/c.jpg"]
    assert (table["label"] == "").all() and (table["pair_id"] == "").all()
    assert table.loc["trip/c.jpg", "subject"] == "trip/c" and table.loc["happy/d.jpg", "subject"] == "happy/d"
    assert (Manifest.load(tmp_path / "m.csv").table["label"] == "").all()  # read back as it was written
    with pytest.raises(DataError, match="not inside a label folder|cannot import"):  # without the flag: labels needed
        import_dataset("folders", tmp_path / "photos", tmp_path / "n.csv")


def test_training_refuses_unlabelled_rows(tmp_path, capsys):
    _photos(tmp_path / "photos")
    import_dataset("folders", tmp_path / "photos", tmp_path / "m.csv", unlabelled=True)
    code = trainers.cli.main(["run", "--data", str(tmp_path / "m.csv"), "--preset", "smoke", "--models",
                              "baseline-nm", "--out", str(tmp_path / "run")])
    assert code == 2 and "have no label" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_a_bad_label_is_still_refused(tmp_path):
    table = pd.DataFrame({"image_id": ["x"], "path": ["x.png"], "subject": ["s"], "label": ["boredom"],
                          "masked": [False], "pair_id": [""], "source": ["t"]})
    with pytest.raises(DataError, match="unknown label 'boredom'"):
        Manifest(table, tmp_path)
