"""Section ``attention``: the attention audit - a figure-6-style grid of the same image pairs explained
by every arm with the mask outlined, the mask fraction per arm and class beside the uniform-attention
reference, the region metrics' references, and the fold tests against the baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from reportlab.platypus import Flowable

from interp.palette import class_colour
from interp.present import p_value, percent, points
from interp.report.figure6 import figure6_table
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from interp.results import Results
from reports.flowables import figure, paragraph, plot_style, swatch, table, text, vector
from reports.styles import FRAME_WIDTH
from trainers.data.labels import CLASSES

METRIC = "mask_fraction"
SUBSETS: tuple[str, ...] = ("M", "NM")
ALL = "all"


def uniform_reference(images: pd.DataFrame) -> pd.DataFrame:
    """What a map uniform over the whole input image would score: the mean share of the image covered by the
    mask polygon, per subset (``M``/``NM``) and class (and ``all``), over exactly the images whose mask fraction
    is scored (those without a polygon or without enough positive evidence count in neither)."""
    scored = images[images[METRIC].notna()]
    frame = scored.assign(subset=np.where(scored["masked"].astype(bool), "M", "NM"))
    per_class = frame.groupby(["subset", "label"])["mask_share"].mean().rename_axis(["subset", "class"])
    overall = frame.groupby("subset")["mask_share"].mean()
    overall.index = pd.MultiIndex.from_arrays([overall.index, [ALL] * len(overall)], names=["subset", "class"])
    return pd.concat([per_class, overall]).rename("reference").reset_index()


@register
class AttentionSection(Section):
    name = "attention"
    title = "Attention audit"
    order = 70
    steps = ("attributions",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        audit = results.audit()
        method, config = audit.get("method", {}), audit.get("config", {})
        summary = results.attention_summary()
        metric = summary[summary["metric"] == METRIC]
        reference = uniform_reference(results.attention())
        parts: list[Flowable] = [paragraph(
            f"Attribution maps by <b>{text(method.get('name', '?'))}</b> ({text(method.get('reference', ''))}) "
            f"explain the {'predicted' if config.get('target', 'pred') == 'pred' else 'labelled'} class of up to "
            f"{text(config.get('max_images') or 'all')} validation images per arm and fold, both images of each pair. "
            "The <i>mask fraction</i> is the share of the positive attribution that falls inside the mask polygon "
            "(on a non-masked image: where the mask would be). A model that reads the eyes and brows instead of "
            "the mask scores low; a map uniform over the whole input image scores the polygon's share of the "
            "image (the reference).")]
        parts += context.optional(lambda: [figure(
            figure6_table(results, context.arms, context.colours),
            "The same image pairs explained by every arm (rows, first fold); columns: the non-masked (NM) then the "
            "masked (M) image of each pair, headed with its true class. Heat map of the attribution, white outline "
            "of the mask polygon, green border when the arm's prediction is right and red when wrong; under each "
            "tile the class the arm predicted. Compare rows: an arm that avoids the mask keeps its heat above the "
            "outline.")], "Figure-6 grid")
        parts += mask_table(metric, reference, context)
        if len(metric):
            parts.append(figure(vector(mask_figure(metric, reference, context.arms, context.colours)),
                                "Mask fraction (%) per arm on masked (M) and non-masked (NM) images over all classes: "
                                "dot = mean over folds, line = its t-interval over folds, dashed line = the uniform "
                                "reference (a map uniform over the whole input image: the mask polygon's share of "
                                "it). Below the line the arm looks away from the mask; above it, it leans on the "
                                "mask region."))
        parts += context.optional(lambda: metrics_table(results), "Region metric references")
        parts += context.optional(lambda: fold_tests(results, context), "Fold tests of the mask fraction")
        return parts


def mask_table(metric: pd.DataFrame, reference: pd.DataFrame, context: Context) -> list[Flowable]:
    """Mask fraction (%) per arm, subset and class, with the uniform-attention reference rows."""
    classes = [name for name in CLASSES if name in set(metric["class"])]
    columns = [ALL, *classes]
    values = metric.set_index(["model", "subset", "class"])["mean"]
    reference = reference.set_index(["subset", "class"])["reference"]
    rows = []
    for subset in SUBSETS:
        for arm in context.arms:
            if (arm, subset, ALL) not in values.index:
                continue
            rows.append([swatch(context.colours[arm], arm), subset,
                         *(percent(values.get((arm, subset, name)), 1) for name in columns)])
        rows.append(["<i>uniform reference</i>", subset,
                     *(percent(reference.get((subset, name)), 1) for name in columns)])
    width = 0.76 * FRAME_WIDTH / len(columns)
    return table(["arm", "subset", *columns], rows,
                 "Mask fraction (%, mean over folds) per arm, subset and true class; the <i>uniform reference</i> "
                 "row is what a map uniform over the whole input image would score (the polygon's mean share of the "
                 "image, over the same images as the arm rows). Lower is better: the paper's claim is that CL and "
                 "KD lower it on masked faces.",
                 widths=[0.16 * FRAME_WIDTH, 0.08 * FRAME_WIDTH] + [width] * len(columns),
                 numeric=tuple(range(2, 2 + len(columns))), markup_columns=(0,))


def mask_figure(metric: pd.DataFrame, reference: pd.DataFrame, arms: list[str], colours: dict[str, str]) -> Figure:
    """Dot-and-interval plot of the mask fraction per arm, one panel per subset, uniform reference dashed."""
    overall = metric[metric["class"] == ALL]
    with plot_style():
        fig = Figure(figsize=(7.0, 2.4))
        for index, subset in enumerate(SUBSETS):
            axes = fig.add_subplot(1, len(SUBSETS), index + 1)
            own = overall[overall["subset"] == subset].set_index("model")
            shown = [arm for arm in arms if arm in own.index]
            for position, arm in enumerate(shown):
                row = own.loc[arm]
                if pd.notna(row["ci_low"]) and pd.notna(row["ci_high"]):
                    axes.plot([position, position], [100 * row["ci_low"], 100 * row["ci_high"]], color=colours[arm])
                axes.plot([position], [100 * row["mean"]], "o", color=colours[arm], markersize=5)
            level = reference[(reference["subset"] == subset) & (reference["class"] == ALL)]["reference"]
            if len(level):
                axes.axhline(100 * float(level.iloc[0]), color="#555555", linestyle="--", linewidth=0.8,
                             label="uniform reference")
                axes.legend(loc="upper right", frameon=False)
            axes.set_xticks(range(len(shown)), shown, rotation=20)
            axes.set_xlim(-0.6, len(shown) - 0.4)
            axes.set_ylim(0, 100)
            axes.set_title("masked images (M)" if subset == "M" else "non-masked images (NM)")
            axes.set_ylabel("mask fraction (%)")
        fig.tight_layout()
    return fig


def metrics_table(results: Results) -> list[Flowable]:
    """Each region metric with its region, direction and literature reference."""
    metrics = results.attention_metrics()
    rows = [[row["name"], row["region"], row["direction"], row["description"], row["reference"]]
            for _, row in metrics.iterrows()]
    return table(["metric", "region", "better", "what it measures", "reference"], rows,
                 "The region metrics of the audit (all in <i>attributions/&lt;method&gt;/images</i>): region, which "
                 "direction a model that looks away from the mask scores, and the reference of each.",
                 widths=[w * FRAME_WIDTH for w in (0.17, 0.07, 0.07, 0.38, 0.31)])


def fold_tests(results: Results, context: Context) -> list[Flowable]:
    """The audit's fold tests of the mask fraction of each method against the baseline."""
    comparisons = results.attention_comparisons()
    per_class = comparisons["class"] != ALL
    shown = comparisons[~per_class | comparisons["lower"].astype(bool)]
    if comparisons.empty:
        return [paragraph("No fold test: the study has no method arm next to the baseline.")]
    rows = []
    for _, row in shown.iterrows():
        effect, low, high = (100 * row[column] if pd.notna(row[column]) else None
                             for column in ("effect", "ci_low", "ci_high"))
        label = row["class"] if row["class"] == ALL else swatch(class_colour(str(row["class"])), str(row["class"]))
        rows.append([swatch(context.colours.get(str(row["model_a"]), "#000000"), row["comparison"]), row["subset"],
                     label, points(effect), f"[{points(low)}, {points(high)}]", p_value(row["p_raw"]),
                     p_value(row["p_adjusted"]), "yes" if bool(row["lower"]) else "no"])
    notes = sorted({str(note) for note in comparisons["note"].dropna() if str(note)})
    caption = ("Fold tests of the mask fraction of each method against the baseline (corrected resampled t-test over "
               "folds, Holm-adjusted over the family of methods x classes): effect = method - baseline in "
               "percentage points with its corrected 95% interval; <i>lower</i> = significantly lower mask fraction. "
               f"Per-class rows are shown where <i>lower</i> holds ({int(per_class.sum())} per-class tests in "
               "<i>attributions/&lt;method&gt;/comparisons</i>).")
    if notes:
        caption += f" Note: {text('; '.join(notes))}."
    return table(["comparison", "subset", "class", "effect", "95% CI", "p", "p adjusted", "lower"], rows, caption,
                 widths=[w * FRAME_WIDTH for w in (0.22, 0.07, 0.12, 0.1, 0.2, 0.09, 0.11, 0.09)],
                 numeric=(3, 5, 6), markup_columns=(0, 2))
