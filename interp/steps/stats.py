"""Step ``stats``: the tidy comparison table (every test over every family) and the tests' metadata."""

from __future__ import annotations

from pathlib import Path

from interp import layout
from interp.runs import Run
from interp.stats import describe_tests
from interp.stats.comparisons import ComparisonConfig, comparison_table
from interp.stats.families import describe_arms
from interp.steps import register
from interp.steps.base import Step
from interp.tables import evaluation_views, with_init
from trainers import rundir


@register
class StatsStep(Step):
    name = "stats"
    order = 20
    description = ("declared families: confirmatory (ours vs baseline-pe on PE-M), Tables 3-5 vs the view-matched "
                   "baseline, non-inferiority on PE-NM, mechanism (arm vs its ablation), exploratory (NM vs M, "
                   "Friedman + gated post-hoc); one primary test per family, Holm (BH for exploratory)")
    Config = ComparisonConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.study_file, run.manifest_file, *run.files(rundir.PREDICTIONS_FILE)]

    def run(self, run: Run, config: ComparisonConfig, analysis: Path) -> list[Path]:
        predictions = evaluation_views(run.predictions(), run.manifest())
        arms = describe_arms(run.study, run.models)
        table = with_init(comparison_table(predictions, run.fold_sizes, run.models, config, arms=arms), run.inits())
        return (layout.write_table(table, analysis, "comparisons")
                + layout.write_table(describe_tests(), analysis, "tests"))
