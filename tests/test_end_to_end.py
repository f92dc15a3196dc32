"""End to end, as a user runs it: demo data -> ``trainers run --preset smoke`` -> ``interp.analyze``.

Every command runs as its own process through its command line, so the run directory the analysis
reads is the one the trainers wrote (nothing hand-made between them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import interp.results
from interp import layout
from trainers import rundir
from trainers.methods import arm_names

ROOT = Path(__file__).resolve().parents[1]


def _cli(env: dict[str, str], *args: object) -> None:
    result = subprocess.run([sys.executable, "-m", *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, f"{args[:2]} exited {result.returncode}:\n{result.stderr[-3000:]}"


@pytest.mark.slow
def test_demo_data_through_training_to_the_analysis(tmp_path: Path) -> None:
    env = {**os.environ, "MASKFER_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    data, run = tmp_path / "data", tmp_path / "runs" / "e2e"
    _cli(env, "trainers", "data", "demo", "--out", data, "--subjects", "4", "--size", "64")
    _cli(env, "trainers", "run", "--data", data / "manifest.csv", "--preset", "smoke", "--out", run,
         "--device", "cpu")
    arms = arm_names()
    study = rundir.read_study(run)
    assert study["models"] == arms and study["folds"] == [0, 1]
    assert all(rundir.fold_problem(rundir.fold_dir(run, arm, fold)) is None for arm in arms for fold in (0, 1))

    _cli(env, "interp.analyze", run, "--max-images", "2", "--set", "embeddings.methods=tsne",
         "--set", "attributions.sanity=false")
    index = json.loads((layout.analysis_dir(run) / layout.INDEX_FILE).read_text())
    assert {"tables", "stats", "embeddings", "attributions"} <= set(index["steps"])
    results = interp.results.load(run)
    assert results.arms == arms and not results.missing_steps()
    accuracy = results.accuracy()
    assert all(set(subsets) >= {"NM", "M"} for _, subsets in accuracy.groupby("model")["subset"])
    assert accuracy["accuracy_mean"].between(0, 1).all()
    per_arm = {
        "accuracy": accuracy, "accuracy per fold": results.accuracy(folds=True),
        "per-class recall": results.per_class_recall(), "confusion": results.confusion(),
        "histories": results.histories(), "embedding quality": results.embedding_quality(),
        "attention": results.attention(),
    }
    for name, table in per_arm.items():
        assert set(table["model"]) == set(arms), name
    comparisons = results.comparisons()
    assert set(comparisons["model_a"]) - {""} <= set(arms) and comparisons["p_raw"].notna().any()
    assert results.attention()["mask_fraction"].notna().any()
