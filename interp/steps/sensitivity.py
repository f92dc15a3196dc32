"""Step ``sensitivity``: mask sensitivity per pair, per class and overall (:mod:`interp.audit.sensitivity`).

Runs after ``attributions`` so that each pair carries the audit's mask and eye fractions when the
audit ran; without the audit the tables hold the prediction changes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from interp import layout
from interp.audit import sensitivity
from interp.runs import Run
from interp.steps import register
from interp.steps.base import Step
from interp.tables import with_init
from trainers import rundir


@dataclass
class SensitivityConfig:
    """Options of the ``sensitivity`` step: ``n_boot`` subject-bootstrap resamples of the flip rate's
    interval, its ``seed``, and the attribution ``method`` whose per-image metrics join the pairs."""

    n_boot: int = 2000
    seed: int = 0
    method: str = "gradcam"


@register
class SensitivityStep(Step):
    name = "sensitivity"
    order = 50
    description = ("mask sensitivity per NM/M pair: prediction flips (subject-bootstrap CI), probability drop, "
                   "KL divergence, classes masks collapse onto, accuracy and calibration NM vs M")
    Config = SensitivityConfig

    def inputs(self, run: Run) -> list[Path]:
        audit = layout.table_paths(layout.analysis_dir(run.path), "attention_images", "gradcam")[0]
        return [run.study_file, *run.files(rundir.PREDICTIONS_FILE), *([audit] if audit.is_file() else [])]

    def run(self, run: Run, config: SensitivityConfig, analysis: Path) -> list[Path]:
        pairs = sensitivity.pair_table(_predictions(run), _attention(analysis, config.method))
        inits = run.inits()
        written = layout.write_table(with_init(pairs, inits), analysis, "mask_sensitivity")
        written += layout.write_table(with_init(sensitivity.summary_table(pairs, config.n_boot, config.seed), inits),
                                      analysis, "mask_sensitivity_summary")
        written += layout.write_table(with_init(sensitivity.class_shift_table(pairs), inits), analysis,
                                      "mask_sensitivity_classes")
        return written


def _predictions(run: Run) -> pd.DataFrame:
    """Every fold's predictions with the extra ``prob_<class>`` columns an audited arm writes."""
    predictions = run.predictions()
    extras = []
    for model, fold, folder in run.fold_dirs():
        raw = pd.read_csv(folder / rundir.PREDICTIONS_FILE, dtype={"image_id": str}, keep_default_na=False)
        columns = [c for c in raw.columns if c.startswith(sensitivity.PROB_PREFIX)]
        extras.append(raw[["image_id", *columns]].assign(model=model, fold=fold))
    extra = pd.concat(extras, ignore_index=True)
    return predictions.merge(extra, on=["model", "fold", "image_id"], how="left")


def _attention(analysis: Path, method: str) -> pd.DataFrame | None:
    path = layout.table_paths(analysis, "attention_images", method)[0]
    return pd.read_parquet(path) if path.is_file() else None
