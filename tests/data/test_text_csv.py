"""The one CSV read guard of the importers and the votes reader (trainers.data.text_csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainers.common.errors import DataError
from trainers.data.importers.csv_table import CsvOptions, read_csv_table
from trainers.data.importers.fer2013 import _read as read_fer2013
from trainers.data.text_csv import read_text_csv
from trainers.data.validation import load_votes


def test_cells_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("image_id,subject,score\n007,,1.5\n")
    frame = read_text_csv(path, "not found")
    assert frame.to_dict("records") == [{"image_id": "007", "subject": "", "score": "1.5"}]


def test_each_caller_names_the_file_and_the_fix(tmp_path: Path) -> None:
    absent = tmp_path / "absent.csv"
    with pytest.raises(DataError, match="absent.csv: the csv format reads one CSV file; give its path as SRC"):
        read_csv_table(absent, tmp_path / "out", CsvOptions())
    with pytest.raises(DataError, match="absent.csv: file not found; give fer2013.csv or its folder as SRC"):
        read_fer2013(absent, {"emotion"})
    with pytest.raises(DataError, match="absent.csv: votes file not found"):
        load_votes(absent)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b'a,b\n"unclosed,1\n')
    with pytest.raises(DataError, match=r"bad.csv: cannot read votes CSV \("):
        load_votes(bad)
    with pytest.raises(DataError, match=r"bad.csv: cannot read CSV \("):
        read_csv_table(bad, tmp_path / "out", CsvOptions())
