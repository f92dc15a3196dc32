"""A real smoke study, built once per test session, for the end-to-end tests of what reads a study
(``interp.results``, the PDF report, the dashboard).

Tiny demo data (6 subjects, 64 px), the ``smoke`` preset (2 folds, 2 epochs, 32 px) with three arms,
and every analysis step with at most 8 attributed images per (arm, fold) and t-SNE only (UMAP's first
compile costs minutes on a busy machine), all through the real command lines run in-process. Use it
from a test module with::

    from tests.study_fixture import smoke_study  # noqa: F401  (pytest fixture)

and treat the run directory as read-only (copy it with ``shutil.copytree`` to change it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import interp.analyze
import trainers.cli
from trainers import rundir

ARMS = "baseline-nm,baseline-mix,cl"


def build_smoke_study(root: Path) -> Path:
    """Demo data, a smoke training run and its full analysis under ``root``; returns the run directory."""
    data, run = root / "data", root / "runs" / "smoke"
    steps = (
        (trainers.cli.main, ["data", "demo", "--out", str(data), "--subjects", "6", "--size", "64"]),
        (trainers.cli.main, ["run", "--data", str(data / "manifest.csv"), "--preset", "smoke", "--models", ARMS,
                             "--out", str(run)]),
        (interp.analyze.main, [str(run), "--max-images", "8", "--set", "embeddings.methods=tsne"]),
    )
    for main, argv in steps:
        code = main(argv)
        assert code == 0, f"{main.__module__} {' '.join(argv)} exited {code}"
    return run


@pytest.fixture(scope="session")
def smoke_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run directory of an analysed smoke study (three arms, two folds); read-only."""
    return build_smoke_study(tmp_path_factory.mktemp("smoke-study"))


def labelled_cross_dataset(run: Path, copy: Path) -> Path:
    """A copy of ``run`` whose study.json carries a cross-dataset record (as ``trainers run --test-data``
    writes it), for the doors that must label such a study; its numbers stay the smoke study's."""
    copy = Path(shutil.copytree(run, copy))
    study = rundir.read_study(copy)
    study["cross_dataset"] = {
        "train_manifest": "/data/raf-masked/manifest.csv", "train_manifest_hash": "0" * 64,
        "test_manifest": "/data/msd/manifest.csv", "test_manifest_hash": "1" * 64,
        "train_classes": ["surprise", "happy", "sad", "angry", "neutral"],
        "test_classes": ["surprise", "fear", "happy", "sad", "angry", "neutral"],
        "missing_in_train": ["fear"], "missing_in_test": [],
    }
    rundir.write_study(copy, study)
    return copy
