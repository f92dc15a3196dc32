"""Step ``tables``: accuracy and macro-F1 per fold and summarised, per-class recall, confusion
matrices (tables and heatmaps), training histories."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from interp import plots, tables
from interp.runs import Run
from interp.steps import register
from interp.steps.base import Step
from trainers import rundir


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
        out = analysis / "tables"
        per_fold, pooled = tables.confusion_tables(predictions)
        recall_folds, recall = tables.per_class_recall(predictions, config.confidence, run.fold_sizes)
        written = []
        for name, frame in {
            "accuracy_folds": tables.fold_scores(predictions, run.fold_sizes),
            "accuracy": tables.accuracy_table(predictions, config.confidence, run.fold_sizes),
            "per_class_recall_folds": recall_folds,
            "per_class_recall": recall,
            "confusion_folds": per_fold,
            "confusion_pooled": pooled,
            "histories": run.histories(),
        }.items():
            written += tables.write_table(tables.with_init(frame, inits), out, name)
        for model in run.models:
            written += plots.save_figure(plots.confusion_figure(pooled, model), analysis / "figures",
                                         f"confusion-{model}")
        return written
