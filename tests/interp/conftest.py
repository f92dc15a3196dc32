"""Run directories with known answers, written through the run directory's own writers (trainers.rundir).

Each model's predictions follow a rule (a function of the image's row), so the tables and tests have
answers known by hand; every file goes through the writer the trainers use (study.json, the frozen
manifest, history.csv, predictions.csv + embeddings.npy, DONE). There is no checkpoint: the analysis
steps that need trained models run on a real smoke run (``tests/fixtures.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainers import rundir
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest

Rule = Callable[[pd.Series], str]


def make_manifest(k: int = 3, subjects_per_fold: int = 2) -> pd.DataFrame:
    """Every subject poses every class once unmasked and once masked (a pair); subjects fill folds in turn."""
    rows = []
    for fold in range(k):
        for s in range(subjects_per_fold):
            subject = f"s{fold}{s}"
            for label in CLASSES:
                for masked in (False, True):
                    image_id = f"{subject}-{label}-{'m' if masked else 'n'}"
                    rows.append({"image_id": image_id, "path": f"images/{image_id}.png", "subject": subject,
                                 "label": label, "masked": masked, "pair_id": f"{subject}-{label}",
                                 "source": "test", "fold": fold})
    return pd.DataFrame(rows)


def known_rule(row: pd.Series) -> str:
    """Right except: fear is always called surprise; masked disgust is called angry.

    Recall NM: fear 0, others 1 (accuracy 6/7); M: fear 0, disgust 0, others 1 (accuracy 5/7).
    """
    if row["label"] == "fear":
        return "surprise"
    if row["masked"] and row["label"] == "disgust":
        return "angry"
    return row["label"]


def perfect_rule(row: pd.Series) -> str:
    return row["label"]


def _embeddings(table: pd.DataFrame, seed: int, dim: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.eye(len(CLASSES), dim) * 4.0
    index = table["label"].map(CLASSES.index).to_numpy()
    shift = np.where(table["masked"].to_numpy()[:, None], 0.5, 0.0)
    return (centres[index] + shift + rng.normal(0, 0.3, (len(table), dim))).astype(np.float32)


def write_fold(folder: Path, table: pd.DataFrame, rule: Rule, seed: int, done: bool = True) -> None:
    """predictions.csv, embeddings.npy, history.csv and (when ``done``) DONE for one fold."""
    folder.mkdir(parents=True, exist_ok=True)
    preds = table.apply(rule, axis=1).map(CLASSES.index).to_numpy()
    logits = np.where(np.arange(len(CLASSES)) == preds[:, None], 2.0, -1.0)
    rundir.write_predictions(folder, rundir.prediction_table(table, logits), _embeddings(table, seed))
    rundir.write_history(folder, [
        {"epoch": epoch, "lr_backbone": 1e-4, "lr_head": 1e-3, "loss": loss, "loss_ce": loss, "train_acc": acc,
         "val_acc_nm": nm, "val_acc_m": m, "seconds": 1.0}
        for epoch, loss, acc, nm, m in ((1, 1.5, 0.4, 0.5, 0.3), (2, 1.0, 0.6, 0.6, 0.4))
    ])
    if done:
        rundir.write_done(folder, epochs=2, seconds=2.0)


def write_run(root: Path, rules: dict[str, Rule], manifest: pd.DataFrame | None = None,
              k: int | None = None, skip: tuple[tuple[str, int], ...] = (),
              unfinished: tuple[tuple[str, int], ...] = ()) -> Path:
    """A run directory at ``root``: one model per rule, every fold of the manifest.

    ``skip`` leaves out a (model, fold) folder; ``unfinished`` writes it without DONE.
    """
    manifest = make_manifest() if manifest is None else manifest
    k = int(manifest["fold"].max()) + 1 if k is None else k
    root.mkdir(parents=True, exist_ok=True)
    rundir.write_study(root, {"schema": rundir.SCHEMA, "study": root.name, "preset": "smoke", "config": {},
                              "models": list(rules), "k": k, "folds": list(range(k)), "seed": 0})
    rundir.write_manifest(root, Manifest(manifest, root))
    for m, (model, rule) in enumerate(rules.items()):
        for fold in range(k):
            if (model, fold) in skip:
                continue
            table = manifest[manifest["fold"] == fold].reset_index(drop=True)
            write_fold(rundir.fold_dir(root, model, fold), table, rule, seed=100 * m + fold,
                       done=(model, fold) not in unfinished)
    return root


@pytest.fixture
def known_run(tmp_path: Path) -> Path:
    """Three models over 3 folds x 2 subjects: baseline-mix (known_rule), cl (perfect), kd (known_rule)."""
    return write_run(tmp_path / "known", {"baseline-mix": known_rule, "cl": perfect_rule, "kd": known_rule})


@pytest.fixture(autouse=True)
def one_blas_thread():
    """OpenMP/BLAS pools spin on a loaded 2-core machine (t-SNE ran 7x slower with 2 threads)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield
