"""Step ``tables``: accuracy and macro-F1 per fold and summarised, per-class recall, confusion
matrices (tables and heatmaps), training histories."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from interp import plots, tables
from interp.runs import Run
from interp.steps import register
from interp.steps.base import Step


@dataclass
class TablesConfig:
    """Options of the ``tables`` step: ``confidence`` of the t-based fold intervals."""

    confidence: float = 0.95


@register
class TablesStep(Step):
    name = "tables"
    order = 10
    description = "accuracy/macro-F1 (mean, sd, CI over folds), per-class recall, confusion matrices"
    Config = TablesConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.path / "study.json", *run.files("predictions.csv"), *run.files("history.csv")]

    def run(self, run: Run, config: TablesConfig, analysis: Path) -> list[Path]:
        predictions = run.predictions()
        out = analysis / "tables"
        per_fold, pooled = tables.confusion_tables(predictions)
        recall_folds, recall = tables.per_class_recall(predictions, config.confidence)
        written = []
        for name, frame in {
            "accuracy_folds": tables.fold_scores(predictions),
            "accuracy": tables.accuracy_table(predictions, config.confidence),
            "per_class_recall_folds": recall_folds,
            "per_class_recall": recall,
            "confusion_folds": per_fold,
            "confusion_pooled": pooled,
            "histories": run.histories(),
        }.items():
            written += tables.write_table(frame, out, name)
        for model in run.models:
            written += plots.save_figure(plots.confusion_figure(pooled, model), analysis / "figures",
                                         f"confusion-{model}")
        return written
