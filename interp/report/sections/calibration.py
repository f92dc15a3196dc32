"""Section ``calibration``: calibration under masking - ECE and Brier score per arm on NM and M, reliability
diagrams, and the predicted-class distribution on M against the true one."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from reportlab.platypus import Flowable

from interp.palette import class_colour
from interp.present import interval, percent
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from reports.flowables import figure, paragraph, plot_style, swatch, table, vector
from reports.styles import FRAME_WIDTH
from trainers.data.labels import CLASSES

VIEWS: tuple[str, ...] = ("NM", "M")


@register
class CalibrationSection(Section):
    name = "calibration"
    title = "Calibration under masking"
    order = 45
    steps = ("calibration",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        summary = results.calibration()
        if summary.empty:  # an audit of unlabelled photos: nothing to be right or wrong about
            return [paragraph("<i>No labels</i>: calibration compares confidence with correctness and needs "
                              "labelled images; see the mask sensitivity for how masking changes the predictions.")]
        arms = [arm for arm in context.arms if arm in set(summary["model"])]
        parts: list[Flowable] = [paragraph(
            "Does a model know when the mask fools it? From the logits stored for every validation image, the "
            "softmax confidence of the predicted class is compared with how often that prediction is right. "
            "<b>ECE</b> (expected calibration error, 15 equal-width confidence bins, Guo et al. 2017) is the "
            "image-weighted gap between confidence and accuracy (0 = calibrated); the <b>Brier score</b> is the "
            "squared distance between the probabilities and the true class, summed over classes (0 perfect, 2 "
            "confidently wrong). Both are computed per fold and summarised over folds with the corrected "
            "interval of the accuracy tables. An arm whose ECE grows from NM to M stays confident while the "
            "mask makes it wrong.")]
        cells = summary.set_index(["model", "subset"])
        rows = []
        for arm in arms:
            row = [swatch(context.colours.get(arm, "#000000"), arm)]
            for view in VIEWS:
                if (arm, view) in cells.index:
                    cell = cells.loc[(arm, view)]
                    row += [f"{percent(cell['ece_mean'])} {interval(cell['ece_ci_low'], cell['ece_ci_high'])}",
                            f"{cell['brier_mean']:.3f}", percent(cell["confidence_mean"])]
                else:
                    row += ["n/a"] * 3
            rows.append(row)
        parts += table(["arm"] + [f"{view} {what}" for view in VIEWS for what in ("ECE % [CI]", "Brier", "conf. %")],
                       rows, "ECE (% with its corrected 95% interval), Brier score and mean top-label confidence "
                       "(%), mean over folds, per arm on non-masked (NM) and masked (M) validation images.",
                       widths=[0.16 * FRAME_WIDTH] + [w * FRAME_WIDTH for w in (0.2, 0.08, 0.08)] * 2,
                       numeric=(2, 3, 5, 6), markup_columns=(0,))
        parts.append(figure(vector(reliability_figure(results.reliability(), arms, context.colours)),
                            "Reliability diagrams (pooled over folds): accuracy against mean confidence per "
                            "confidence bin with at least one image, NM (solid) and M (dashed) per arm; the "
                            "diagonal is perfect calibration, points below it are over-confident."))
        classes = results.predicted_classes()
        parts.append(figure(vector(predicted_figure(classes, arms, context.colours)),
                            "Predicted-class distribution on masked (M) images, pooled over folds: the share of "
                            "images predicted as each class by each arm (bars) against the true share (black "
                            "line). A bar above the line is a class masked faces collapse onto."))
        return parts


def reliability_figure(bins: pd.DataFrame, arms: list[str], colours: dict[str, str]) -> Figure:
    """Accuracy against confidence per filled bin, one panel per arm, NM solid and M dashed."""
    columns = min(4, max(1, len(arms)))
    lines = int(np.ceil(len(arms) / columns)) or 1
    with plot_style():
        fig = Figure(figsize=(7.0, 1.9 * lines + 0.3))
        for index, arm in enumerate(arms):
            axes = fig.add_subplot(lines, columns, index + 1)
            axes.plot([0, 1], [0, 1], color="#AAAAAA", linewidth=0.7)
            for view, style in zip(VIEWS, ("-", "--")):
                own = bins[(bins["model"] == arm) & (bins["subset"] == view) & (bins["count"] > 0)]
                axes.plot(own["confidence"], own["accuracy"], style, marker="o", markersize=2.5,
                          color=colours.get(arm, "#333333"), linewidth=1.0, label=view)
            axes.set_title(arm, fontsize=8)
            axes.set_xlim(0, 1)
            axes.set_ylim(0, 1)
            axes.tick_params(labelsize=6)
            if index % columns == 0:
                axes.set_ylabel("accuracy", fontsize=7)
            if index == 0:
                axes.legend(fontsize=6, frameon=False, loc="upper left")
        fig.supxlabel("mean confidence of the bin", fontsize=7)
        fig.tight_layout()
    return fig


def predicted_figure(classes: pd.DataFrame, arms: list[str], colours: dict[str, str]) -> Figure:
    """Grouped bars: predicted share of each class on M per arm, with the true share as a line."""
    masked = classes[classes["subset"] == "M"]
    with plot_style():
        fig = Figure(figsize=(7.0, 2.6))
        axes = fig.add_subplot(1, 1, 1)
        width = 0.8 / max(1, len(arms))
        x = np.arange(len(CLASSES))
        for index, arm in enumerate(arms):
            own = masked[masked["model"] == arm].set_index("class").reindex(list(CLASSES))
            axes.bar(x - 0.4 + width * (index + 0.5), 100 * own["predicted_share"].fillna(0), width * 0.95,
                     color=colours.get(arm, "#777777"), label=arm)
        truth = masked.groupby("class")["true_share"].first().reindex(list(CLASSES))
        axes.step(np.append(x - 0.5, x[-1] + 0.5), 100 * np.append(truth.to_numpy(), truth.to_numpy()[-1]),
                  where="post", color="black", linewidth=1.0, label="true share")
        axes.set_xticks(x, list(CLASSES))
        for label in axes.get_xticklabels():
            label.set_color(class_colour(label.get_text()))
        axes.set_ylabel("share of M images (%)")
        axes.legend(fontsize=6, frameon=False, ncol=min(5, len(arms) + 1), loc="upper right")
        fig.tight_layout()
    return fig
