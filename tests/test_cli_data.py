"""``python -m trainers data import`` and ``data check``: output and exit codes (run in-process)."""

from __future__ import annotations

import pytest

from tests.data import fixtures
from trainers.cli import main
from trainers.data.manifest import Manifest, content_hash


@pytest.fixture
def msde(tmp_path):
    return fixtures.write_msde_fixture(tmp_path / "src", subjects=2)


def test_import_prints_summary_and_hash(msde, tmp_path, capsys):
    out = tmp_path / "m.csv"
    assert main(["data", "import", "--format", "msd-e", str(msde), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "28 images (14 non-masked, 14 masked), 2 subjects, 14 pairs" in text
    assert "non-masked  masked  total  pairs" in text
    assert f"content hash: {content_hash(Manifest.load(out))}" in text


def test_import_options_reach_the_importer(tmp_path, capsys):
    csv_path = fixtures.write_csv_fixture(
        tmp_path / "d", subjects=1, columns={"label": "emotion"}, label_order="rafdb0"
    )
    args = ["data", "import", "--format", "csv", str(csv_path), "--out", str(tmp_path / "m.csv")]
    assert main([*args, "--label-col", "emotion", "--label-order", "rafdb0"]) == 0
    assert Manifest.load(tmp_path / "m.csv").table["label"].iloc[0] == "surprise"
    assert main([*args, "--label-col", "emotion"]) == 2  # numbers are refused without --label-order
    assert "unknown label '0'" in capsys.readouterr().err
    assert main([*args, "--subject-regex", "x"]) == 2
    assert "--subject-regex: not an option of --format csv" in capsys.readouterr().err


def test_import_bad_input_exits_2_and_writes_nothing(msde, tmp_path, capsys):
    fixtures.corrupt_truncate(msde / "MSD-E" / "1_2_0.jpg")
    out = tmp_path / "out" / "m.csv"
    assert main(["data", "import", "--format", "msd-e", str(msde), "--out", str(out)]) == 2
    assert "MSD-E/1_2_0.jpg" in capsys.readouterr().err
    assert not out.exists()
    assert main(["data", "import", "--format", "msd-e", str(msde), "--out", str(out), "--skip-bad"]) == 0
    text = capsys.readouterr().out
    assert "skipped: 1 image(s) dropped, 1 unpaired" in text and "MSD-E/1_2_0.jpg" in text
    assert len(Manifest.load(out)) == 27


def test_check_exit_codes_and_cleaned_output(msde, tmp_path, capsys):
    manifest = tmp_path / "m.csv"
    assert main(["data", "import", "--format", "msd-e", str(msde), "--out", str(manifest)]) == 0
    assert main(["data", "check", str(manifest)]) == 0
    assert "content hash:" in capsys.readouterr().out
    fixtures.corrupt_not_image(msde / "MSD-ME" / "2_0_0.png")
    assert main(["data", "check", str(manifest), "--no-decode"]) == 0
    assert main(["data", "check", str(manifest)]) == 2
    assert "MSD-ME/2_0_0.png" in capsys.readouterr().err
    cleaned = tmp_path / "clean" / "m.parquet"
    assert main(["data", "check", str(manifest), "--skip-bad", "--out", str(cleaned)]) == 0
    assert "dropped: src/MSD-ME/2_0_0.png" in capsys.readouterr().out
    assert len(Manifest.load(cleaned)) == 27
    assert main(["data", "check", str(tmp_path / "none.csv")]) == 2
