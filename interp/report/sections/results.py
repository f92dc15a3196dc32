"""Section ``results``: accuracy and macro-F1 of every arm on non-masked (NM) and masked (M) validation
images, mean and spread over folds (the paper's Tables 3-5), and a plot of the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from reportlab.platypus import Flowable

from interp.present import accuracy_cells, percent
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from reports.flowables import figure, paragraph, plot_style, swatch, table, text, vector
from reports.styles import FRAME_WIDTH
from trainers.data.views import FULL_VIEWS, PE_VIEWS

VIEWS: tuple[tuple[str, ...], ...] = (FULL_VIEWS, PE_VIEWS)
CI_NAMES: dict[str, str] = {"nadeau-bengio": "Nadeau-Bengio corrected 95% interval", "t": "95% t-interval"}


def ci_name(accuracy: pd.DataFrame) -> str:
    """How the table's intervals were computed, in words (from its ``ci_method`` column)."""
    methods = sorted(set(accuracy["ci_method"])) if "ci_method" in accuracy else ["t"]
    return " / ".join(CI_NAMES.get(str(method), f"95% interval ({method})") for method in methods)


def tint(colour: str, amount: float = 0.55) -> str:
    """``colour`` mixed with white (``amount`` of white): the masked-view shade of an arm's colour."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    mixed = (round(c + (255 - c) * amount) for c in (red, green, blue))
    return "#" + "".join(f"{c:02X}" for c in mixed)


@register
class ResultsSection(Section):
    name = "results"
    title = "Results"
    order = 30
    steps = ("tables",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        accuracy = results.accuracy()
        arms = [arm for arm in context.arms if arm in set(accuracy["model"])]
        interval = ci_name(accuracy)
        best = {subset: accuracy[accuracy["subset"] == subset].sort_values("accuracy_mean").iloc[-1]
                for subset in VIEWS[0] if (accuracy["subset"] == subset).any()}
        summary = " ".join(f"On {subset} images the best arm is <b>{text(row['model'])}</b> with "
                           f"{percent(row['accuracy_mean'])}% mean accuracy over {int(row['n_folds'])} folds."
                           for subset, row in best.items())
        parts: list[Flowable] = [paragraph(
            "Accuracy is computed on each fold's held-out subjects and then summarised over folds: mean, sample "
            f"standard deviation (sd) and the {interval} of the mean. "
            + ("The corrected interval is wider than a naive t-interval because the folds' training sets overlap. "
               if "corrected" in interval else "")
            + "NM: all non-masked validation images, M: all "
            "masked ones; PE-NM and PE-M: only the images of complete validated NM/M pairs (the paper's MSD-PE). "
            f"{summary}")]
        views = [pair for pair in VIEWS if any((accuracy["subset"] == view).any() for view in pair)]
        for pair in views:
            parts += accuracy_table(accuracy, arms, pair, context.colours, interval)
        parts.append(figure(vector(accuracy_figure(accuracy, results.accuracy(folds=True), arms, context.colours)),
                            "Accuracy per arm on non-masked (NM, dark bar) and masked (M, light bar) validation "
                            f"images: the bar is the mean over folds, the whisker its {interval} (clipped to "
                            "0-100%), each dot one fold. The gap between an arm's two bars is what the mask costs it."))
        return parts


def accuracy_table(accuracy: pd.DataFrame, arms: list[str], pair: tuple[str, str], colours: dict[str, str],
                   interval: str) -> list[Flowable]:
    """One table of accuracy cells (:func:`interp.present.accuracy_cells`) for two views side by side."""
    cells = accuracy_cells(accuracy).set_index(["model", "subset"])
    rows = []
    for arm in arms:
        row = [swatch(colours[arm], arm)]
        for subset in pair:
            if (arm, subset) in cells.index:
                cell = cells.loc[(arm, subset)]
                row += [cell["accuracy %"].replace("+-", "\u00b1"), cell["95% CI"], cell["macro-F1 %"]]
            else:
                row += ["n/a"] * 3
        rows.append(row)
    folds = ", ".join(map(str, sorted(set(accuracy["n_folds"].astype(int)))))
    header = ["arm"] + [f"{view} {column}" for view in pair for column in ("accuracy %", "95% CI", "macro-F1 %")]
    what = ("all non-masked (NM) and masked (M) validation images (the paper's Tables 3-4)" if pair == VIEWS[0] else
            "the images of complete validated pairs only, non-masked (PE-NM) and masked (PE-M) (the paper's Table 5)")
    return table(header, rows, f"Accuracy (mean \u00b1 sd over {folds} folds, %), its {interval} and macro-F1 "
                 f"(mean over folds, %) per arm on {what}.",
                 widths=[0.16 * FRAME_WIDTH] + [0.14 * FRAME_WIDTH] * 6, numeric=(1, 2, 3, 4, 5, 6),
                 markup_columns=(0,))


def accuracy_figure(accuracy: pd.DataFrame, folds: pd.DataFrame, arms: list[str], colours: dict[str, str]) -> Figure:
    """Bars of mean accuracy (%) per arm on NM and M with interval whiskers and fold points."""
    with plot_style():
        fig = Figure(figsize=(7.0, 2.8))
        axes = fig.add_subplot(1, 1, 1)
        width = 0.38
        for index, arm in enumerate(arms):
            for offset, subset in zip((-width / 2, width / 2), VIEWS[0]):
                row = accuracy[(accuracy["model"] == arm) & (accuracy["subset"] == subset)]
                if row.empty:
                    continue
                row = row.iloc[0]
                x = index + offset
                mean = 100 * row["accuracy_mean"]
                fill = colours[arm] if subset == "NM" else tint(colours[arm])
                axes.bar(x, mean, width * 0.92, color=fill, edgecolor=colours[arm], linewidth=0.6)
                low, high = row["accuracy_ci_low"], row["accuracy_ci_high"]
                if not (np.isnan(low) or np.isnan(high)):
                    axes.errorbar(x, mean, yerr=[[mean - max(0, 100 * low)], [min(100, 100 * high) - mean]],
                                  color="#333333", capsize=2, linewidth=0.8)
                points = folds[(folds["model"] == arm) & (folds["subset"] == subset)]["accuracy"] * 100
                axes.scatter(np.full(len(points), x), points, s=7, color="black", zorder=3, linewidths=0)
        axes.set_xticks(range(len(arms)), arms)
        axes.set_ylabel("accuracy (%)")
        axes.set_ylim(0, 100)
        axes.set_xlim(-0.6, len(arms) - 0.4)
        handles = [Patch(facecolor=fill, edgecolor="#777777", label=label)
                   for fill, label in (("#777777", "non-masked (NM)"), (tint("#777777"), "masked (M)"))]
        axes.legend(handles=handles, loc="upper right", frameon=False)
        fig.tight_layout()
    return fig
