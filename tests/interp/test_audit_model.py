"""interp.audit of a model trained elsewhere: the run directory it writes (one arm, fold 'all'), that every
reader opens it, labels optional, mask sensitivity, and bad input (exit 2, nothing half-written)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

import interp.results
from interp.audit import audit_model
from interp.audit.arm_model import choose_layer
from interp.audit.cli import main
from interp.audit.sensitivity import class_shift_table, pair_table, summary_table
from interp.audit.targets import pair_classes
from interp.runs import open_run
from tests.audit_fixture import (  # noqa: F401  (pytest fixtures)
    CLASS_NAMES,
    audit_data,
    audited_study,
    tiny_card,
    tiny_cnn,
    unlabelled_study,
)
from trainers import rundir
from trainers.common.errors import DataError
from trainers.data.labels import CLASSES


# ---- the run directory -------------------------------------------------------------------------------
def test_audit_writes_one_arm_with_fold_all_and_its_card(audited_study):  # noqa: F811
    study = rundir.read_study(audited_study)
    assert study["models"] == ["tiny"] and study["k"] == 1 and study["folds"] == [0]
    assert study["audit"]["fold"] == "all" and study["audit"]["target"] == "true" and study["audit"]["labelled"]
    record = study["arms"]["tiny"]["audited"]
    assert record["card"]["classes"] == CLASS_NAMES and record["card"]["input_size"] == 32
    assert record["output_classes"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt"]
    assert record["layer"] == {"name": "4", "side": 8, "rule": "deepest convolution with a map >= 7x7"}
    assert record["source"] == "python" and record["outputs"] == "logits"
    assert study["manifest_hash"] and study["git_commit"]
    assert not list(audited_study.parent.glob(".tiny.*"))  # the staging folder was renamed, nothing left over


def test_predictions_cover_every_image_with_seven_logits_and_every_output(audited_study, audit_data):  # noqa: F811
    run = open_run(audited_study)
    assert run.folds == [0] and run.fold_sizes()["n_train"].tolist() == [0]
    predictions = pd.read_csv(audited_study / "tiny" / "fold-0" / rundir.PREDICTIONS_FILE)
    assert len(predictions) == len(pd.read_csv(audit_data))
    probs = predictions[[f"prob_{name}" for name in record_classes(audited_study)]].to_numpy()
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    # the stored logits are the model's own outputs for our seven classes, reordered: log p up to a row constant
    logits = predictions[[f"logit_{name}" for name in CLASSES]].to_numpy()
    shifted = logits - np.log(predictions[[f"prob_{name}" for name in CLASSES]].to_numpy())
    assert np.allclose(shifted, shifted[:, :1], atol=1e-4)
    assert run.embeddings("tiny").shape == (len(predictions), 16)  # input of the last linear layer


def record_classes(run) -> list[str]:
    return rundir.read_study(run)["arms"]["tiny"]["audited"]["output_classes"]


def test_results_read_accuracy_audit_and_mask_sensitivity(audited_study):  # noqa: F811
    results = interp.results.load(audited_study)
    assert results.arms == ["tiny"] and not results.missing_steps()
    accuracy = results.accuracy().set_index("subset")
    assert set(accuracy.index) >= {"NM", "M"} and 0 <= accuracy.loc["NM", "accuracy_mean"] <= 1
    attention = results.attention()
    assert set(attention["fold"]) == {0} and len(attention) == 12 and attention["mask_fraction"].notna().any()
    summary = results.mask_sensitivity()
    overall = summary[summary["class"] == "all"].iloc[0]
    assert overall["n_pairs"] == 21 and overall["n_subjects"] == 3 and overall["n_labelled"] == 21
    assert overall["flip_ci_low"] <= overall["flip_rate"] <= overall["flip_ci_high"]
    for column in ("accuracy_nm", "accuracy_m", "ece_nm", "ece_m", "brier_nm", "brier_m"):
        assert math.isfinite(overall[column])
    pairs = results.mask_sensitivity("pairs")
    assert len(pairs) == 21 and 0 < pairs["mask_fraction_m"].notna().sum() <= 6  # 12 audited images = 6 pairs
    assert overall["flip_rate"] == pytest.approx(pairs["flip"].mean())
    shares = results.mask_sensitivity("classes")
    assert shares["share_nm"].sum() == pytest.approx(1) and shares["share_m"].sum() == pytest.approx(1)
    assert results.audited()["arms"]["tiny"]["layer"]["name"] == "4"


def test_unlabelled_photos_say_no_labels_and_explain_the_non_masked_prediction(unlabelled_study):  # noqa: F811
    results = interp.results.load(unlabelled_study)
    assert rundir.read_study(unlabelled_study)["audit"]["target"] == "pair"
    assert results.accuracy()["accuracy_mean"].isna().all()
    overall = results.mask_sensitivity().set_index("class").loc["all"]
    assert overall["n_labelled"] == 0 and math.isnan(overall["accuracy_nm"]) and math.isnan(overall["ece_m"])
    attention = results.attention()
    assert (attention["label"] == "").all()
    nm = attention[~attention["masked"]].set_index("pair_id")
    m = attention[attention["masked"]].set_index("pair_id")
    assert (nm["target"] == nm["pred"]).all()  # the non-masked image explains its own prediction...
    assert (m["target"] == nm.loc[m.index, "target"]).all()  # ...and the masked one the same class
    assert set(results.mask_sensitivity("pairs")["class"]) <= set(CLASS_NAMES) | set(CLASSES)


# ---- mask sensitivity on known numbers ---------------------------------------------------------------
def _predictions(p_nm: list[float], p_m: list[float], label: str = "happy") -> pd.DataFrame:
    rows = []
    for masked, probs in ((False, p_nm), (True, p_m)):
        row = {"model": "m", "fold": 0, "image_id": f"a{int(masked)}", "subject": "s", "pair_id": "a",
               "masked": masked, "label": label}
        row.update({f"logit_{name}": math.log(p) for name, p in zip(CLASSES, probs)})
        rows.append(row)
    return pd.DataFrame(rows)


def test_flip_drop_and_kl_of_a_pair():
    p = [0.05, 0.05, 0.05, 0.6, 0.1, 0.1, 0.05]
    q = [0.05, 0.05, 0.05, 0.2, 0.5, 0.1, 0.05]
    row = pair_table(_predictions(p, q)).iloc[0]
    assert row["pred_nm"] == "happy" and row["pred_m"] == "sad" and row["flip"]
    assert row["drop"] == pytest.approx(0.4)
    assert row["kl"] == pytest.approx(sum(a * math.log(a / b) for a, b in zip(p, q)))
    assert row["correct_nm"] == 1 and row["correct_m"] == 0
    shares = class_shift_table(pair_table(_predictions(p, q))).set_index("class")
    assert shares.loc["sad", "change"] == 1 and shares.loc["happy", "change"] == -1


def test_flip_rate_interval_resamples_subjects():
    frames = []
    for index in range(10):
        flips = index < 3  # 3 of 10 subjects flip
        p = [0.05, 0.05, 0.05, 0.6, 0.1, 0.1, 0.05]
        q = [0.05, 0.05, 0.05, 0.2, 0.5, 0.1, 0.05] if flips else p
        frame = _predictions(p, q)
        frame["subject"], frame["pair_id"] = f"s{index}", f"p{index}"
        frames.append(frame)
    summary = summary_table(pair_table(pd.concat(frames, ignore_index=True)), n_boot=500).set_index("class")
    assert summary.loc["all", "flip_rate"] == pytest.approx(0.3)
    assert 0 <= summary.loc["all", "flip_ci_low"] < 0.3 < summary.loc["all", "flip_ci_high"] <= 1


def test_pair_target_is_the_non_masked_prediction():
    preds = np.array([3, 4, 1, 2])
    chosen = pair_classes(preds, np.array([False, True, True, False]), np.array(["a", "a", "b", ""]))
    assert chosen.tolist() == [3, 3, 1, 2]  # b has no non-masked image; the last image is unpaired


def test_layer_rule_and_a_named_layer():
    model = tiny_cnn()
    sample = torch.zeros(1, 3, 32, 32)
    assert choose_layer(model, sample).name == "4"
    tiny_input = choose_layer(torch.nn.Sequential(model), torch.zeros(1, 3, 6, 6))  # maps 6, 3, 2: none >= 7
    assert tiny_input.name == "0.0" and tiny_input.side == 6 and "none >= 7x7" in tiny_input.rule
    assert choose_layer(model, sample, "2").rule == "--layer"
    with pytest.raises(DataError, match="--layer 'nope'"):
        choose_layer(model, sample, "nope")


# ---- bad input ---------------------------------------------------------------------------------------
def test_class_count_mismatch_names_the_option_and_writes_nothing(audit_data, tmp_path):  # noqa: F811
    card = tiny_card()
    card.classes = CLASS_NAMES[:7]
    with pytest.raises(DataError, match="--classes: 7 names"):
        audit_model(tiny_cnn(), audit_data, card, tmp_path / "run")
    assert not list(tmp_path.iterdir())


def test_manifest_without_pairs_exits_2(audit_data, tmp_path, capsys):  # noqa: F811
    table = pd.read_csv(audit_data, dtype=str, keep_default_na=False)
    table = table[table["masked"] == "False"].assign(pair_id="")
    table["path"] = [str((audit_data.parent / path).resolve()) for path in table["path"]]
    table.to_csv(tmp_path / "nm.csv", index=False)
    torch.jit.script(tiny_cnn()).save(str(tmp_path / "model.pt"))
    code = main([str(tmp_path / "model.pt"), "--data", str(tmp_path / "nm.csv"), "--out", str(tmp_path / "run"),
                 "--input-size", "32", "--classes", ",".join(CLASS_NAMES)])
    assert code == 2 and "no pair of a non-masked and a masked image" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not list(tmp_path.glob(".run.*"))


def test_missing_model_file_and_foreign_out_folder_exit_2(audit_data, tmp_path, capsys):  # noqa: F811
    assert main([str(tmp_path / "absent.onnx"), "--data", str(audit_data), "--out", str(tmp_path / "run")]) == 2
    assert "absent.onnx" in capsys.readouterr().err
    (tmp_path / "trained").mkdir()
    (tmp_path / "trained" / "notes.txt").write_text("keep me")
    torch.jit.script(tiny_cnn()).save(str(tmp_path / "model.pt"))
    assert main([str(tmp_path / "model.pt"), "--data", str(audit_data), "--out", str(tmp_path / "trained"),
                 "--input-size", "32", "--classes", ",".join(CLASS_NAMES)]) == 2
    assert "is not an audit's run directory" in capsys.readouterr().err
    assert (tmp_path / "trained" / "notes.txt").read_text() == "keep me"


def test_unknown_class_name_exits_2(audit_data, tmp_path, capsys):  # noqa: F811
    torch.jit.script(tiny_cnn()).save(str(tmp_path / "model.pt"))
    names = ",".join(CLASS_NAMES[:-1] + ["boredom"])
    assert main([str(tmp_path / "model.pt"), "--data", str(audit_data), "--out", str(tmp_path / "run"),
                 "--input-size", "32", "--classes", names]) == 2
    assert "boredom" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_study_json_is_valid_json_with_the_card(audited_study):  # noqa: F811
    card = json.loads((audited_study / "study.json").read_text())["arms"]["tiny"]["audited"]["card"]
    assert card["name"] == "tiny" and card["layer"] == "4"
