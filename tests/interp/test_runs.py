"""The run reader: schema, DONE markers, tidy tables, embedding alignment."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interp.runs import PartialRunWarning, open_run
from tests.interp.conftest import known_rule, write_run
from trainers.common.errors import DataError


def test_tidy_predictions_and_alignment(known_run):
    run = open_run(known_run)
    assert run.models == ["baseline-mix", "cl", "kd"] and run.k == 3 and run.folds == [0, 1, 2]
    table = run.predictions()
    assert len(table) == 3 * 3 * 28
    assert set(table["subset"]) == {"NM", "M"}
    assert (table["subset"] == np.where(table["masked"], "M", "NM")).all()
    part = table[(table["model"] == "cl") & (table["fold"] == 1)]
    array = run.embeddings("cl", 1)
    stored = np.load(known_run / "cl" / "fold-1" / "embeddings.npy")
    assert np.array_equal(array, stored) and len(part) == len(array)
    assert run.embeddings("cl").shape[0] == int((table["model"] == "cl").sum())


def test_fold_sizes_from_manifest(known_run):
    sizes = open_run(known_run).fold_sizes("NM")
    assert sizes["n_test"].tolist() == [14, 14, 14] and sizes["n_train"].tolist() == [28, 28, 28]


def test_histories(known_run):
    histories = open_run(known_run).histories()
    assert list(histories.columns[:3]) == ["model", "fold", "epoch"] and len(histories) == 18


@pytest.mark.parametrize("how", ["skip", "unfinished"])
def test_truncated_run_names_the_missing_fold(tmp_path, how):
    kwargs = {how: (("cl", 2),)}
    path = write_run(tmp_path / "cut", {"baseline-mix": known_rule, "cl": known_rule}, **kwargs)
    with pytest.raises(DataError, match=r"cl[/\\]fold-2.*'cl' fold 2"):
        open_run(path)
    with pytest.warns(PartialRunWarning, match="'cl' fold 2"):
        run = open_run(path, allow_partial=True)
    assert run.finished["cl"] == [0, 1] and run.missing[0][:2] == ("cl", 2)
    assert set(run.predictions().query("model == 'cl'")["fold"]) == {0, 1}


def test_bad_study_and_predictions(tmp_path, known_run):
    with pytest.raises(DataError, match="study.json: not a run directory"):
        open_run(tmp_path / "nowhere")
    study = json.loads((known_run / "study.json").read_text())
    (known_run / "study.json").write_text(json.dumps({**study, "schema": 2}))
    with pytest.raises(DataError, match="schema 2"):
        open_run(known_run)
    (known_run / "study.json").write_text(json.dumps(study))
    predictions = known_run / "kd" / "fold-0" / "predictions.csv"
    predictions.write_text(predictions.read_text().replace(",happy,happy,True", ",happy,sad,True", 1))
    with pytest.raises(DataError, match="kd.fold-0.predictions.csv: row .*'correct' disagrees"):
        open_run(known_run).predictions()


def test_embeddings_row_mismatch(known_run):
    np.save(known_run / "cl" / "fold-1" / "embeddings.npy", np.zeros((3, 8), np.float32))
    with pytest.raises(DataError, match=r"fold-1.embeddings.npy: shape \(3, 8\)"):
        open_run(known_run).embeddings("cl", 1)
