"""A small writer of run directories with known answers, following the run-directory contract.

The trainers are written separately; these runs carry everything interp reads (study.json,
manifest.csv with ``fold``, per model and fold history.csv, predictions.csv, embeddings.npy, DONE)
and nothing it does not (no checkpoint).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainers.data.labels import CLASSES

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
    preds = table.apply(rule, axis=1)
    frame = table[["image_id", "subject", "pair_id", "masked", "label"]].copy()
    frame["pred"] = preds
    frame["correct"] = frame["label"] == frame["pred"]
    for name in CLASSES:
        frame[f"logit_{name}"] = np.where(frame["pred"] == name, 2.0, -1.0)
    frame.to_csv(folder / "predictions.csv", index=False)
    np.save(folder / "embeddings.npy", _embeddings(table, seed))
    history = pd.DataFrame({"epoch": [1, 2], "lr_backbone": [1e-4, 1e-4], "lr_head": [1e-3, 1e-3],
                            "loss": [1.5, 1.0], "loss_ce": [1.5, 1.0], "train_acc": [0.4, 0.6],
                            "val_acc_nm": [0.5, 0.6], "val_acc_m": [0.3, 0.4], "seconds": [1.0, 1.0]})
    history.to_csv(folder / "history.csv", index=False)
    if done:
        (folder / "DONE").write_text(json.dumps({"finished_utc": "2026-01-01T00:00:00+00:00",
                                                  "epochs": 2, "seconds": 2.0}))


def write_run(root: Path, rules: dict[str, Rule], manifest: pd.DataFrame | None = None,
              k: int | None = None, skip: tuple[tuple[str, int], ...] = (),
              unfinished: tuple[tuple[str, int], ...] = ()) -> Path:
    """A run directory at ``root``: one model per rule, every fold of the manifest.

    ``skip`` leaves out a (model, fold) folder; ``unfinished`` writes it without DONE.
    """
    manifest = make_manifest() if manifest is None else manifest
    k = int(manifest["fold"].max()) + 1 if k is None else k
    root.mkdir(parents=True, exist_ok=True)
    study = {"schema": 1, "study": root.name, "preset": "smoke", "config": {}, "models": list(rules),
             "k": k, "folds": list(range(k)), "seed": 0, "manifest_hash": "x", "device": "cpu",
             "versions": {}, "git_commit": "unknown", "created_utc": "2026-01-01T00:00:00+00:00"}
    (root / "study.json").write_text(json.dumps(study))
    manifest.to_csv(root / "manifest.csv", index=False)
    for m, (model, rule) in enumerate(rules.items()):
        for fold in range(k):
            if (model, fold) in skip:
                continue
            table = manifest[manifest["fold"] == fold].reset_index(drop=True)
            write_fold(root / model / f"fold-{fold}", table, rule, seed=100 * m + fold,
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
