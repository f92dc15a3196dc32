"""Step ``stats``: the tidy comparison table (every test over every family) and the tests' metadata."""

from __future__ import annotations

from pathlib import Path

from interp import layout
from interp.runs import Run
from interp.stats import describe_tests
from interp.stats.comparisons import ComparisonConfig, comparison_table
from interp.steps import register
from interp.steps.base import Step
from interp.tables import evaluation_views, with_init
from trainers import rundir


@register
class StatsStep(Step):
    name = "stats"
    order = 20
    description = ("method vs baseline on NM/M and (Table 5) vs baseline-pe on the PE views, cl vs cl-ce, NM vs M, "
                   "Friedman + gated post-hoc; one primary test per family, Holm/BH adjusted")
    Config = ComparisonConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.study_file, run.manifest_file, *run.files(rundir.PREDICTIONS_FILE)]

    def run(self, run: Run, config: ComparisonConfig, analysis: Path) -> list[Path]:
        predictions = evaluation_views(run.predictions(), run.manifest())
        table = with_init(comparison_table(predictions, run.fold_sizes, run.models, config), run.inits())
        return (layout.write_table(table, analysis, "comparisons")
                + layout.write_table(describe_tests(), analysis, "tests"))
