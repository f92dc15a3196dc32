"""interp.results: the one reader of analysis/, over run directories written by the real writers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import interp.results
from interp import layout, palette, present
from interp.analyze import analyze
from interp.results import ResultMissing
from interp.steps import available
from trainers.data.labels import CLASSES
from trainers.common.errors import DataError


def test_every_table_is_written_by_a_registered_step():
    assert {spec.step for spec in layout.TABLES.values()} <= set(available())
    paths = layout.table_paths(layout.analysis_dir("runs/x"), "attention_images", "gradcam")
    assert [p.as_posix() for p in paths] == ["runs/x/analysis/attributions/gradcam/images.parquet",
                                           "runs/x/analysis/attributions/gradcam/images.csv"]
    with pytest.raises(ValueError, match="per attribution method"):
        layout.table_paths(layout.analysis_dir("runs/x"), "attention_images")


def test_write_table_round_trip(tmp_path):
    frame = pd.DataFrame({"model": ["a", "b"], "value": [0.5, 0.25]})
    parquet, csv = layout.write_table(frame, tmp_path, "accuracy")
    assert parquet == tmp_path / "tables" / "accuracy.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), frame)
    pd.testing.assert_frame_equal(pd.read_csv(csv), frame)


def test_unanalysed_run_names_the_command(known_run):
    results = interp.results.load(known_run)
    assert results.arms == ["baseline-mix", "cl", "kd"]
    assert results.arm_colours == palette.arm_colours(results.study)
    assert not results.has("tables")
    assert results.missing_steps(["tables", "stats"]) == ["tables", "stats"]
    with pytest.raises(ResultMissing, match=f"python -m interp.analyze {known_run} --only tables"):
        results.accuracy()
    with pytest.raises(ResultMissing, match="--only attributions"):
        results.attention()


def test_not_a_run_directory(tmp_path):
    with pytest.raises(DataError, match="not a run directory"):
        interp.results.load(tmp_path)


def test_tables_match_the_known_answers(known_run):
    analyze(known_run, only=["tables", "stats"])
    results = interp.results.load(known_run)
    assert results.has("tables") and results.has("stats") and not results.has("embeddings")
    accuracy = results.accuracy().set_index(["model", "subset"])
    assert {(m, s) for m in ("baseline-mix", "cl", "kd") for s in ("NM", "M")} <= set(accuracy.index)
    assert accuracy.loc[("baseline-mix", "NM"), "accuracy_mean"] == pytest.approx(6 / 7)
    assert accuracy.loc[("baseline-mix", "M"), "accuracy_mean"] == pytest.approx(5 / 7)
    assert accuracy.loc[("cl", "M"), "accuracy_mean"] == pytest.approx(1.0)
    assert len(results.accuracy(folds=True).query("subset in ['NM', 'M']")) == 3 * 3 * 2
    recall = results.per_class_recall().set_index(["model", "subset", "true"])
    assert recall.loc[("kd", "M", "disgust"), "recall_mean"] == pytest.approx(0.0)
    dataset = results.dataset_summary().set_index("class")
    assert list(dataset.index) == [*CLASSES, "total"]
    assert dataset.loc["total", "total"] == 3 * 2 * 7 * 2
    assert not results.comparisons().empty and not results.tests().empty
    assert results.confusion().query("subset in ['NM', 'M']")["count"].sum() == 3 * 3 * 2 * 7 * 2
    assert {"tables/accuracy.parquet", "figures/confusion-cl.png"} <= results.files()
    assert results.figure("confusion-cl").is_file()
    provenance = results.provenance()
    assert provenance["study"] == "known" and "tables" in provenance["analysis"]
    steps = results.steps()
    assert set(steps["step"]) == {"tables", "stats"} and steps["time"].str.match(r"\d{4}-\d\d-\d\dT").all()


def test_tables_are_copies_read_once(known_run):
    analyze(known_run, only=["tables"])
    results = interp.results.load(known_run)
    first = results.accuracy()
    first.loc[:, "accuracy_mean"] = -1.0
    assert (results.accuracy()["accuracy_mean"] >= 0).all()


def test_thumbnails_listed_and_only_listed(known_run):
    manifest = pd.read_csv(known_run / "manifest.csv")
    rng = np.random.default_rng(0)
    for path in manifest["path"]:
        (known_run / path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(known_run / path)
    analyze(known_run, only=["thumbnails"], options={"thumbnails": {"size": "24"}})
    results = interp.results.load(known_run)
    first = manifest["image_id"].iloc[0]
    path = results.thumbnail(first)
    assert path is not None and Image.open(path).size == (24, 24)
    assert results.thumbnail("../../study") is None and results.thumbnail("nope") is None
    assert len(results.table("thumbnails")) == len(manifest)


def test_present_cells():
    assert present.percent(0.12345) == "12.35" and present.percent(float("nan")) == "n/a"
    assert present.interval(0.1, 0.2) == "[10.00, 20.00]"
    assert present.p_value(0.0004) == "<0.001" and present.p_value(0.04321) == "0.0432"
    table = pd.DataFrame({"model": ["cl"], "subset": ["M"], "n_folds": [3], "accuracy_mean": [0.5],
                          "accuracy_sd": [0.1], "accuracy_ci_low": [0.4], "accuracy_ci_high": [0.6],
                          "macro_f1_mean": [0.45]})
    row = present.accuracy_cells(table).iloc[0]
    assert row["accuracy %"] == "50.00 +- 10.00" and row["95% CI"] == "[40.00, 60.00]" and "init" not in row
    cells = present.accuracy_cells(table.assign(init="random"))
    assert list(cells.columns[:3]) == ["model", "init", "subset"] and cells.iloc[0]["init"] == "random"
    assert present.points(2.345) == "+2.35" and present.points(-1e-9) == "+0.00" and present.points(None) == "n/a"


def test_cross_dataset_note_names_both_datasets_and_missing_classes():
    assert present.cross_dataset_note(None) is None
    record = {"train_manifest": "/data/raf-masked/manifest.csv", "test_manifest": "/data/msd/manifest.csv",
              "missing_in_train": ["fear"], "missing_in_test": []}
    note = present.cross_dataset_note(record)
    assert note.startswith("Cross-dataset study: every fold's model trains on the folds of raf-masked/manifest.csv "
                           "and is evaluated on all of msd/manifest.csv")
    assert "Classes not in raf-masked/manifest.csv (never predicted correctly): fear." in note
    assert "never scored" not in note


def test_palette_reads_the_recorded_colours_and_fills_in_distinct_ones():
    arms = {"cl": {"colour": "#009e73"}, "kd": {"colour": "#E69F00"}, "new-arm": {}}
    first = palette.arm_colours({"models": ["cl", "new-arm", "kd", "other"], "arms": arms})
    second = palette.arm_colours({"models": ["other", "kd"], "arms": arms})
    assert first["cl"] == "#009E73" and first["kd"] == second["kd"] == "#E69F00"
    assert len(set(first.values())) == 4
    old = palette.arm_colours({"models": ["baseline-nm", "cl"]})  # a study.json without colours
    assert len(set(old.values())) == 2 and all(colour.startswith("#") for colour in old.values())
    assert set(palette.CLASS_COLOURS) == set(CLASSES) and len(set(palette.CLASS_COLOURS.values())) == 7


def test_predictions_are_the_trainers_rows_read_once(known_run):
    results = interp.results.load(known_run)
    predictions = results.predictions()
    assert len(predictions) == 3 * 84 and set(predictions["model"]) == {"baseline-mix", "cl", "kd"}
    fear = predictions[(predictions["model"] == "kd") & (predictions["label"] == "fear")]
    assert set(fear["pred"]) == {"surprise"} and not fear["correct"].any()
    predictions.loc[:, "pred"] = "x"
    assert "x" not in set(results.predictions()["pred"])


def test_images_are_the_frozen_manifest_rows(known_run):
    results = interp.results.load(known_run)
    images = results.images()
    assert list(images.columns) == ["image_id", "subject", "label", "masked", "pair_id", "source", "fold"]
    assert len(images) == 3 * 2 * 7 * 2 and images.groupby("subject")["fold"].nunique().eq(1).all()
    images.loc[:, "label"] = "x"
    assert "x" not in set(results.images()["label"])
