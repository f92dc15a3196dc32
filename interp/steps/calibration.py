"""Step ``calibration``: ECE, Brier score and reliability per arm on NM and M, and the predicted-class
distribution against the true one, from the stored logits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from interp import layout
from interp.calibration import calibration_folds, calibration_summary, predicted_classes, reliability
from interp.runs import Run
from interp.stats.calibration import BINS
from interp.steps import register
from interp.steps.base import Step
from interp.tables import with_init
from trainers import rundir
from trainers.common.errors import DataError


@dataclass
class CalibrationConfig:
    """Options of the ``calibration`` step: equal-width confidence ``bins`` (15, Guo et al. 2017) and the
    ``confidence`` of the fold intervals."""

    bins: int = BINS
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.bins < 1:
            raise DataError(f"calibration.bins must be a positive integer, got {self.bins}")


@register
class CalibrationStep(Step):
    name = "calibration"
    order = 15
    description = "ECE (15 bins), Brier score and reliability per arm on NM and M; predicted vs true class shares"
    Config = CalibrationConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.study_file, run.manifest_file, *run.files(rundir.PREDICTIONS_FILE)]

    def run(self, run: Run, config: CalibrationConfig, analysis: Path) -> list[Path]:
        predictions, inits = run.predictions(), run.inits()
        folds = calibration_folds(predictions, run.fold_sizes, config.bins)
        written = []
        for name, frame in {
            "calibration_folds": folds,
            "calibration": calibration_summary(folds, config.confidence),
            "reliability": reliability(predictions, config.bins),
            "predicted_classes": predicted_classes(predictions),
        }.items():
            written += layout.write_table(with_init(frame, inits), analysis, name)
        return written
