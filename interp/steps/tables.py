"""Step ``tables``: the dataset summary (Table 2), accuracy and macro-F1 per fold and summarised,
per-class recall, confusion matrices (tables and heatmaps), training histories."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from interp import layout, plots, tables
from interp.runs import Run
from interp.steps import register
from interp.steps.base import Step
from trainers import rundir
from trainers.data.manifest import Manifest, summary


@dataclass
class TablesConfig:
    """Options of the ``tables`` step: ``confidence`` of the fold intervals (corrected and naive)."""

    confidence: float = 0.95


@register
class TablesStep(Step):
    name = "tables"
    order = 10
    description = "accuracy/macro-F1 (mean, sd, CI over folds), per-class recall, confusion matrices"
    Config = TablesConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.study_file, run.manifest_file, *run.files(rundir.PREDICTIONS_FILE),
                *run.files(rundir.HISTORY_FILE)]

    def run(self, run: Run, config: TablesConfig, analysis: Path) -> list[Path]:
        predictions = tables.evaluation_views(run.predictions(), run.manifest())
        inits = run.inits()
        per_fold, pooled = tables.confusion_tables(predictions)
        recall_folds, recall = tables.per_class_recall(predictions, config.confidence, run.fold_sizes)
        written = []
        for name, frame in {
            "dataset": dataset_table(run),
            "accuracy_folds": tables.fold_scores(predictions, run.fold_sizes),
            "accuracy": tables.accuracy_table(predictions, config.confidence, run.fold_sizes),
            "per_class_recall_folds": recall_folds,
            "per_class_recall": recall,
            "confusion_folds": per_fold,
            "confusion_pooled": pooled,
            "histories": run.histories(),
        }.items():
            written += layout.write_table(tables.with_init(frame, inits), analysis, name)
        for model in run.models:
            written += plots.save_figure(plots.confusion_figure(pooled, model), analysis / layout.FIGURES_DIR,
                                         f"confusion-{model}")
        return written


def dataset_table(run: Run) -> pd.DataFrame:
    """The frozen manifest's per-class counts (the paper's Table 2) with a leading ``class`` column."""
    frame = summary(Manifest(run.manifest(), run.path))
    return frame.rename_axis("class").reset_index()
