"""``python -m interp.analyze``: outputs, index, incremental reruns, CLI errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from interp.analyze import analyze, build_config, main
from interp.runs import open_run
from interp.steps import steps
from tests.interp.conftest import known_rule, write_run
from trainers.common.errors import DataError

FAST = {"embeddings": {"methods": "tsne"}}
MINE = ["tables", "stats", "embeddings"]  # other helpers' steps need checkpoints


def _stamps(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def test_incremental_analysis(known_run):
    analysis = known_run / "analysis"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = analyze(known_run, only=MINE, options=FAST)
    assert first.ran == ["tables", "stats", "embeddings"]
    index = json.loads((analysis / "index.json").read_text())
    outputs = [item["path"] for entry in index["steps"].values() for item in entry["outputs"]]
    assert {"tables/accuracy.parquet", "tables/accuracy.csv", "tables/comparisons.parquet",
            "tables/per_class_recall.csv", "figures/confusion-cl.png", "figures/confusion-cl.svg",
            "tables/embedding_projections.parquet", "figures/projection-kd.svg"} <= set(outputs)
    assert all((analysis / path).is_file() for path in outputs)
    assert "versions" in index["provenance"] and "cl/fold-2/embeddings.npy" in index["steps"]["embeddings"]["inputs"]
    assert index["steps"]["stats"]["warnings"] == []  # 3 folds: no Wilcoxon rows, so no unreachable family
    before = _stamps(analysis)

    again = analyze(known_run, only=MINE, options=FAST)
    assert again.ran == [] and again.skipped == ["tables", "stats", "embeddings"]
    assert _stamps(analysis) == before

    np.save(known_run / "cl" / "fold-2" / "embeddings.npy", np.zeros((28, 8), np.float32))
    changed = analyze(known_run, only=MINE, options=FAST)
    assert changed.ran == ["embeddings"]
    after = _stamps(analysis)
    assert all(after[name] == stamp for name, stamp in before.items() if "embedding" not in name
               and "projection" not in name and name != "index.json")
    assert after["tables/embedding_quality.parquet"] != before["tables/embedding_quality.parquet"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert analyze(known_run, only=MINE, options={**FAST, "stats": {"baseline": "kd"}}).ran == ["stats"]
    table = pd.read_parquet(analysis / "tables" / "comparisons.parquet")
    assert set(table.loc[table["family"] == "table3-NM", "model_b"]) == {"kd"}
    (analysis / "tables" / "accuracy.csv").unlink()
    assert analyze(known_run, only=["tables"]).ran == ["tables"]


def test_cli_truncated_run_and_partial(tmp_path, capsys):
    path = write_run(tmp_path / "cut", {"baseline-mix": known_rule, "cl": known_rule}, unfinished=(("cl", 1),))
    assert main([str(path)]) == 2
    assert "'cl' fold 1 is unfinished (no DONE marker)" in capsys.readouterr().err
    with pytest.warns(UserWarning, match="leaving out model 'cl' fold 1"):
        assert main([str(path), "--allow-partial", "--only", "tables"]) == 0
    printed = capsys.readouterr().out
    assert "baseline-mix" in printed and "85.71 +- 0.00" in printed
    index = json.loads((path / "analysis" / "index.json").read_text())
    assert index["steps"]["tables"]["missing_folds"] == ["cl/fold-1"]
    assert main([str(path), "--only", "nonsense", "--allow-partial"]) == 2
    assert "unknown step(s) nonsense" in capsys.readouterr().err
    assert main([str(path), "--allow-partial", "--set", "tables.confidence"]) == 2
    assert "expected STEP.OPTION=VALUE" in capsys.readouterr().err


def test_step_options_are_parsed_and_checked():
    registry = steps(MINE)
    assert list(registry) == MINE
    assert build_config(registry["embeddings"], {"methods": "tsne,umap", "seed": "4"}).methods == ("tsne", "umap")
    assert build_config(registry["stats"], {"friedman": "false", "n_boot": "10"}).friedman is False
    with pytest.raises(DataError, match="step 'tables': unknown option 'bogus'; options: confidence"):
        build_config(registry["tables"], {"bogus": "1"})


@pytest.mark.parametrize(("flag", "message"), [
    ("attributions.sanity=ture", "step 'attributions': option 'sanity' = 'ture': expected bool"),
    ("attributions.max_images=1.5", "step 'attributions': option 'max_images' = '1.5': expected int"),
    ("attributions.settings.steps=32", "settings of gradcam: unknown option 'steps'; options: min_side"),
    ("tables.confidence=high", "step 'tables': option 'confidence' = 'high': expected float"),
    ("atributions.sanity=false", "unknown step(s) atributions"),
])
def test_cli_bad_set_exits_2_before_any_step_writes(flag, message, tmp_path, capsys):
    path = write_run(tmp_path / "run", {"baseline-mix": known_rule, "cl": known_rule})
    assert main([str(path), "--set", flag]) == 2
    assert message in capsys.readouterr().err
    assert not (path / "analysis").exists()


def test_attribution_settings_are_typed_and_enter_the_fingerprint(tmp_path, monkeypatch):
    step = steps(["attributions"])["attributions"]
    config = build_config(step, {"method": "integrated_gradients", "settings.steps": "32", "sanity": "no"})
    assert config.settings == {"steps": 32} and config.sanity is False
    assert build_config(step, {"method": "occlusion"}).settings == {"window": 0.125, "stride": 0.5}
    with pytest.raises(DataError, match="settings of occlusion: window .2.0. and stride .0.5. must be fractions"):
        build_config(step, {"method": "occlusion", "settings": {"window": 2}})
    run = open_run(write_run(tmp_path / "run", {"baseline-mix": known_rule, "cl": known_rule}))
    monkeypatch.setattr(type(step), "inputs", lambda self, run: [run.path / "study.json"])  # no checkpoints here
    default = step.fingerprint(run, build_config(step, {"method": "integrated_gradients"}))
    assert default["config"]["settings"] == {"steps": 16}
    assert step.fingerprint(run, config)["input_hash"] != default["input_hash"]
