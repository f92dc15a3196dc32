"""Section ``statistics``: the headline hypotheses (confirmatory family, mechanism family, non-inferiority),
then every family's primary test (effect with its corrected interval, raw and adjusted p, reachability),
Friedman's omnibus test, a forest plot, and the tests' assumptions. The primary test and the families come
from the comparisons table (:mod:`interp.headline`), never from a constant."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from reportlab.platypus import Flowable

from interp.headline import headline_cells, primary_rows, primary_test
from interp.present import p_value, points
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from reports.flowables import figure, paragraph, plot_style, swatch, table, vector
from reports.styles import FRAME_WIDTH

OMNIBUS_TEST = "friedman"



def _headline(comparisons: pd.DataFrame) -> list[Flowable]:
    """The headline hypotheses' table (confirmatory, mechanism, non-inferiority); none when the study has none."""
    headline = headline_cells(comparisons)
    if not len(headline):
        return []
    columns = ["family", "comparison", "view", "test", "effect", "interval", "p adjusted", "verdict", "budget"]
    return table(columns, headline[columns].values.tolist(),
                 "The headline hypotheses: the confirmatory family, the mechanism family (method against "
                 "its ablation) and non-inferiority (does the method lose less than the margin, in "
                 "accuracy points, against baseline-pe on PE-NM: one-sided, lower bound shown). "
                 "<i>budget</i> says whether the two arms took the same optimiser steps and saw the same "
                 "images per epoch (study.json).",
                 widths=[w * FRAME_WIDTH for w in (0.15, 0.15, 0.06, 0.11, 0.07, 0.13, 0.1, 0.13, 0.1)],
                 numeric=(4,))


def _reachable(value: object) -> str:
    return "yes" if str(value).lower() in ("true", "1") else "no"


@register
class StatisticsSection(Section):
    name = "statistics"
    title = "Statistical comparisons"
    order = 50
    steps = ("stats",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        comparisons = results.comparisons()
        primary = primary_rows(comparisons)
        primary = primary[~primary["family"].str.startswith("posthoc")].reset_index(drop=True)
        test = primary_test(comparisons) or "n/a"
        parts: list[Flowable] = [paragraph(
            "Every hypothesis belongs to exactly one declared family, adjusted on its own: <b>confirmatory</b> "
            "(the paper's methods against baseline-pe on PE-M, Holm), <b>table</b> (the paper's Tables 3-5 against "
            "the view-matched baseline, and non-inferiority on PE-NM, Holm), <b>mechanism</b> (each method against "
            "its ablation, Holm) and <b>exploratory</b> (NM against M within an arm, the ablations on PE-NM, "
            f"post-hoc pairs; Benjamini-Hochberg). The primary test of the families is <b>{test}</b>, Nadeau and "
            "Bengio's corrected resampled t-test over folds: fold models share most of their training data, so a "
            "plain paired t-test would be overconfident. Effects are differences in accuracy points (a - b; "
            "positive favours a). A family marked <i>not reachable</i> cannot reach significance with this many "
            "folds whatever the data: there a large p says nothing. Every other test (subject-clustered McNemar, "
            "subject bootstrap, Wilcoxon from 6 folds, post-hoc pairs) is in <i>analysis/tables/comparisons</i>.")]
        parts += _headline(comparisons)
        rows = []
        for _, row in primary.iterrows():
            colour = context.colours.get(str(row["model_a"]), "#000000")
            rows.append([row["family"], swatch(colour, row["comparison"]), row["subset"],
                         points(row["effect"]), f"[{points(row['ci_low'])}, {points(row['ci_high'])}]",
                         p_value(row["p_raw"]), f"{p_value(row['p_adjusted'])} ({row['adjustment']})",
                         _reachable(row["reachable"])])
        parts += table(["family", "comparison", "subset", "effect", "95% CI", "p", "p adjusted", "reachable"], rows,
                       "Every family's primary test: effect in accuracy points with its "
                       "corrected 95% interval, raw and family-adjusted p-value, and whether the family can reach "
                       "significance at all. <i>NM-M</i> rows compare an arm's NM and M accuracy.",
                       widths=[w * FRAME_WIDTH for w in (0.16, 0.23, 0.07, 0.08, 0.16, 0.08, 0.12, 0.10)],
                       numeric=(3, 5), markup_columns=(1,))
        omnibus = comparisons[comparisons["test"] == OMNIBUS_TEST]
        if len(omnibus):
            friedman_rows = [[row["subset"], f"{row['statistic']:.3g}" if pd.notna(row["statistic"]) else "n/a",
                              str(row["k"]), p_value(row["p_raw"]), p_value(row["p_adjusted"]),
                              _reachable(row["reachable"])] for _, row in omnibus.iterrows()]
            parts += table(["subset", "chi-square", "folds", "p", "p adjusted", "reachable"], friedman_rows,
                           "Friedman's test that all arms rank equally over folds, per subset. Read the post-hoc "
                           "pairs (in <i>comparisons</i>) only where this is significant.",
                           widths=[FRAME_WIDTH / 6] * 6, numeric=(1, 2, 3, 4))
        drawable = primary.dropna(subset=["effect"])
        if len(drawable):
            parts.append(figure(vector(forest_figure(drawable, context.colours)),
                                "Forest plot of the comparisons of the table above: the dot is the effect (accuracy "
                                "points, a - b), the line its corrected 95% interval; an interval crossing the "
                                "dashed zero line is compatible with no difference."))
        tests = results.tests()
        test_rows = [[row["test"], row["level"], row["assumptions"], row["reference"]] for _, row in tests.iterrows()]
        parts += table(["test", "level", "assumptions", "reference"], test_rows,
                       "The statistical tests of <i>analysis/tables/tests</i>: the level they resample or pair at, "
                       "what they assume, and where they come from.",
                       widths=[w * FRAME_WIDTH for w in (0.14, 0.09, 0.47, 0.3)])
        return parts


def forest_figure(rows: pd.DataFrame, colours: dict[str, str]) -> Figure:
    """Effects with intervals, one line per comparison, grouped by family (top to bottom)."""
    labels = [f"{row['comparison']} ({row['subset']})" for _, row in rows.iterrows()]
    with plot_style():
        fig = Figure(figsize=(7.0, 0.8 + 0.22 * len(rows)))
        axes = fig.add_subplot(1, 1, 1)
        y = np.arange(len(rows))[::-1]
        for position, (_, row) in zip(y, rows.iterrows()):
            colour = colours.get(str(row["model_a"]), "#333333")
            if pd.notna(row["ci_low"]) and pd.notna(row["ci_high"]):
                axes.plot([row["ci_low"], row["ci_high"]], [position, position], color=colour, linewidth=1.4)
            axes.plot([row["effect"]], [position], "o", color=colour, markersize=4)
        families = rows["family"].tolist()
        for index in range(1, len(rows)):
            if families[index] != families[index - 1]:
                axes.axhline(y[index] + 0.5, color="#CCCCCC", linewidth=0.6)
        axes.axvline(0, color="#555555", linestyle="--", linewidth=0.8)
        axes.set_yticks(y, labels)
        axes.set_xlabel("effect (accuracy points, a - b) with corrected 95% interval")
        axes.set_ylim(-0.7, len(rows) - 0.3)
        fig.tight_layout()
    return fig
