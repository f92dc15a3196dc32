"""``python -m trainers data folds`` and ``data validate``: outputs and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from trainers.cli import main
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest

REPO = Path(__file__).resolve().parents[1]


def write_manifest(folder: Path, n_subjects: int = 6) -> Path:
    """A paired manifest: every subject has a non-masked/masked pair of three classes."""
    rows = []
    for s in range(n_subjects):
        for label in CLASSES[:3]:
            for masked in (False, True):
                image_id = f"s{s}_{label}_{'m' if masked else 'nm'}"
                rows.append(dict(image_id=image_id, path=f"images/{image_id}.jpg", subject=f"s{s}", label=label,
                                 masked=masked, pair_id=f"s{s}_{label}", source="test"))
    return Manifest(pd.DataFrame(rows), folder).save(folder / "manifest.csv")


def test_folds_prints_sizes_and_writes_assignments(tmp_path, capsys):
    manifest = write_manifest(tmp_path)
    out = tmp_path / "folds.csv"
    assert main(["data", "folds", str(manifest), "--k", "3", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 subject-disjoint folds" in printed and "total" in printed
    folds = pd.read_csv(out)
    assert list(folds.columns) == ["image_id", "subject", "fold"] and len(folds) == 36
    assert sorted(folds["fold"].unique()) == [0, 1, 2]
    assert folds.groupby(folds["image_id"].str.split("_").str[0])["fold"].nunique().max() == 1


def test_folds_with_too_many_folds_exits_2_and_writes_nothing(tmp_path, capsys):
    manifest = write_manifest(tmp_path, n_subjects=3)
    out = tmp_path / "folds.csv"
    assert main(["data", "folds", str(manifest), "--k", "4", "--out", str(out)]) == 2
    assert "more folds than subjects (3)" in capsys.readouterr().err
    assert not out.exists()


def test_validate_writes_outputs_and_prints_counts(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "data")
    votes = tmp_path / "votes.csv"
    rows = [("s0_surprise_m", f"v{v}", "fear") for v in range(4)] + [("s1_fear_nm", f"v{v}", "none") for v in range(4, 7)]
    pd.DataFrame(rows, columns=["image_id", "volunteer", "proposed_label"]).to_csv(votes, index=False)
    out = tmp_path / "validated"
    assert main(["data", "validate", str(manifest), str(votes), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # s0_surprise_m: fear 4 of 7, surprise 3 > 25% -> removed; s1_fear_nm: fear 4 of 7 -> kept.
    assert "36 images, 7 volunteers: 34 unflagged, 2 flagged (1 kept, 0 relabelled, 1 removed)" in printed
    assert "pairs 18 -> 17 (1 removed)" in printed
    validated = Manifest.load(out / "manifest.csv")
    assert len(validated) == 35 and validated.abspaths()[0].resolve() == (tmp_path / "data/images/s0_surprise_nm.jpg")
    assert len(Manifest.load(out / "pairs.csv")) == 34
    assert pd.read_csv(out / "audit.csv")["decision"].tolist() == ["removed", "kept"]


@pytest.mark.parametrize(
    ("votes_text", "message"),
    [
        ("image_id,volunteer,proposed_label\ns0_surprise_m,v0,joyful\n", "votes.csv: line 2: unknown label 'joyful'"),
        ("image_id,volunteer,proposed_label\ns0_surprise_m,v0,\nnobody,v0,sad\n", "votes.csv: line 3: image_id 'nobody'"),
    ],
)
def test_validate_bad_votes_exits_2_and_writes_nothing(tmp_path, capsys, votes_text, message):
    manifest = write_manifest(tmp_path)
    votes = tmp_path / "votes.csv"
    votes.write_text(votes_text)
    out = tmp_path / "validated"
    assert main(["data", "validate", str(manifest), str(votes), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_manifest_exits_2(tmp_path, capsys):
    assert main(["data", "folds", str(tmp_path / "nothing.csv")]) == 2
    assert "manifest file not found" in capsys.readouterr().err


def test_module_entry_point(tmp_path):
    manifest = write_manifest(tmp_path)
    done = subprocess.run([sys.executable, "-m", "trainers", "data", "folds", str(manifest), "--k", "2"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 subject-disjoint folds" in done.stdout
