"""Section ``classes``: per-class recall of every arm (the paper's Table 6) and the pooled confusion
matrices of the key arms (the baseline and the paper's methods) on NM and M images."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from reportlab.platypus import Flowable

from interp.palette import class_colour
from interp.present import percent
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from reports.flowables import figure, paragraph, plot_style, raster, swatch, table, text
from reports.styles import FRAME_WIDTH
from trainers.data.labels import CLASSES

# Arms whose confusion matrices are shown when present: the baselines, then the paper's methods.
KEY_ARMS: tuple[str, ...] = ("baseline-mix", "baseline-nm", "cl", "kd")
SUBSETS: tuple[str, ...] = ("NM", "M")


def key_arms(arms: list[str], limit: int = 3) -> list[str]:
    """The arms whose confusion matrices are drawn: one baseline and the paper's methods present
    (at most ``limit``); the first arms of the study when none of :data:`KEY_ARMS` is."""
    baseline = [arm for arm in KEY_ARMS[:2] if arm in arms][:1]
    ours = [arm for arm in KEY_ARMS[2:] if arm in arms]
    chosen = (baseline + ours)[:limit]
    return chosen or arms[:limit]


@register
class ClassesSection(Section):
    name = "classes"
    title = "Per-class results"
    order = 40
    steps = ("tables",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        recall = results.per_class_recall()
        classes = [name for name in CLASSES if name in set(recall["true"])]
        rows = []
        for arm in context.arms:
            for subset in SUBSETS:
                own = recall[(recall["model"] == arm) & (recall["subset"] == subset)].set_index("true")
                if own.empty:
                    continue
                rows.append([swatch(context.colours[arm], arm), subset,
                             *(percent(own["recall_mean"].get(name)) for name in classes)])
        width = (FRAME_WIDTH - 0.24 * FRAME_WIDTH) / len(classes)
        parts: list[Flowable] = [paragraph(
            "Recall of a class is the share of its images predicted as that class (the diagonal of the "
            "row-normalised confusion matrix), computed per fold and averaged over folds. Masks hide the "
            "mouth, so classes read from it (happy, surprise, disgust) usually lose most on M images.")]
        parts += table(["arm", "subset", *classes], rows,
                       "Per-class recall (%, mean over folds) per arm on non-masked (NM) and masked (M) validation "
                       "images (the paper's Table 6). A fold without an image of a class is left out of its mean.",
                       widths=[0.16 * FRAME_WIDTH, 0.08 * FRAME_WIDTH] + [width] * len(classes),
                       numeric=tuple(range(2, 2 + len(classes))), markup_columns=(0,))
        header = ", ".join(f'{swatch(class_colour(name), name)}' for name in classes)
        parts.append(paragraph(f"Class colours used in the figures: {header}."))
        arms = key_arms(context.arms)
        parts += context.optional(lambda: [figure(
            raster(confusion_grid(results.confusion(), arms, context.colours), 0.82 * FRAME_WIDTH),
            "Confusion matrices of the key arms (rows: " + ", ".join(text(arm) for arm in arms) + ") on non-masked "
            "(NM, left) and masked (M, right) validation images, pooled over folds and row-normalised: row = true "
            "class, column = predicted class, each cell the share of the row's images (darker = larger). The "
            "diagonal is the recall of the table above, pooled rather than fold-averaged; mass moving off the "
            "diagonal from NM to M shows which expressions the mask confuses.")], "Confusion matrices")
        return parts


def confusion_grid(confusion: pd.DataFrame, arms: list[str], colours: dict[str, str]) -> Figure:
    """Row-normalised pooled confusion heat maps: one row per arm, NM and M side by side."""
    with plot_style():
        fig = Figure(figsize=(6.4, 3.0 * len(arms)))
        for row, arm in enumerate(arms):
            for column, subset in enumerate(SUBSETS):
                axes = fig.add_subplot(len(arms), len(SUBSETS), row * len(SUBSETS) + column + 1)
                own = confusion[(confusion["model"] == arm) & (confusion["subset"] == subset)]
                rates = (own.pivot(index="true", columns="pred", values="rate")
                         .reindex(index=list(CLASSES), columns=list(CLASSES)).to_numpy(dtype=float))
                axes.imshow(np.nan_to_num(rates), vmin=0, vmax=1, cmap="Blues")
                for (y, x), value in np.ndenumerate(rates):
                    if not np.isnan(value) and value > 0:
                        axes.text(x, y, f"{value:.2f}", ha="center", va="center", fontsize=5.5,
                                  color="white" if value > 0.6 else "black")
                axes.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right")
                axes.set_yticks(range(len(CLASSES)), CLASSES if column == 0 else [])
                axes.set_title(f"{arm} - {subset}", color=colours.get(arm, "black"), fontweight="bold")
                if row == len(arms) - 1:
                    axes.set_xlabel("predicted")
                if column == 0:
                    axes.set_ylabel("true")
        fig.tight_layout()
    return fig
