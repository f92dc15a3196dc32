"""Section ``sanity``: can the attribution maps be trusted? Model-randomisation curves with a pass/fail
verdict, cross-fold consistency, faithfulness (occluding the mask versus an equal random region) and,
on demo data, agreement with the known evidence maps."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from reportlab.platypus import Flowable

from interp.palette import CORRECT_COLOURS
from interp.present import percent
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from interp.results import Results
from reports.flowables import figure, paragraph, plot_style, swatch, table, vector
from reports.styles import FRAME_WIDTH


def verdict_markup(verdict: str) -> str:
    """``pass``/``fail`` in green/red bold."""
    colour = {"pass": CORRECT_COLOURS[True], "fail": CORRECT_COLOURS[False]}.get(verdict)
    return f'<font color="{colour}"><b>{verdict}</b></font>' if colour else verdict


def randomisation_curves(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean over folds of the similarity to the trained maps per arm and randomisation stage."""
    return (summary.groupby(["model", "stage"], sort=False)
            .agg(layer=("layer", "first"), spearman=("spearman", "mean"), spearman_abs=("spearman_abs", "mean"),
                 ssim=("ssim", "mean"))
            .reset_index())


@register
class SanitySection(Section):
    name = "sanity"
    title = "Sanity checks of the attribution maps"
    order = 80
    steps = ("attributions",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        parts: list[Flowable] = [paragraph(
            "Attribution maps can look plausible and still not depend on what the model learnt (Adebayo et al. "
            "2018). The checks below say how far to trust the attention audit: maps must change when the trained "
            "weights are replaced by random ones, fold models should agree, and hiding what the maps point at "
            "should hurt more than hiding an equal random region.")]
        parts += context.optional(lambda: randomisation(results, context), "Randomisation check")
        parts += context.optional(lambda: consistency(results, context), "Cross-fold consistency")
        parts += context.optional(lambda: faithfulness(results, context), "Faithfulness check")
        parts += context.optional(lambda: evidence(results, context), "Evidence agreement")
        return parts


def randomisation(results: Results, context: Context) -> list[Flowable]:
    """Curves of similarity against randomisation stage, and the pass/fail table of the audit."""
    curves = randomisation_curves(results.sanity("randomisation_summary"))
    arms = [arm for arm in context.arms if arm in set(curves["model"])]
    check = results.sanity("randomisation_check")
    threshold = float(check["threshold"].iloc[0]) if len(check) else None
    rows = []
    for arm in arms:
        own = check[check["model"] == arm]
        if own.empty:
            continue
        verdict = "pass" if bool(own["model_passed"].iloc[0]) else "fail"
        rows.append([swatch(context.colours[arm], arm), f"{int(own['folds_passed'].iloc[0])} of "
                     f"{int(own['folds_checked'].iloc[0])}", str(own["last_layer"].iloc[0]),
                     f"{own['spearman_last'].mean():.3f}", f"{own['spearman_abs_last'].mean():.3f}",
                     f"{own['ssim_last'].mean():.3f}", verdict_markup(verdict)])
    parts = [figure(vector(randomisation_figure(curves, arms, context.colours, threshold)),
                    "Model-randomisation cascade: layer groups are re-initialised from the top (stage 1: the head) "
                    "down; each curve is an arm's mean Spearman correlation of absolute values (left) and SSIM "
                    "(right) between the trained model's maps and the randomised model's maps, averaged over images "
                    "and folds. Healthy maps fall towards 0 as soon as learnt layers are randomised"
                    + (f"; the dotted line is the pass threshold {threshold:g}." if threshold is not None else "."))]
    parts += table(["arm", "folds passed", "last layer randomised", "Spearman", "|Spearman|", "SSIM", "verdict"],
                   rows,
                   "Similarity of the fully randomised model's maps to the trained maps (last stage of the cascade, "
                   "mean over folds). A fold passes when the mean absolute-value Spearman correlation is below "
                   f"{threshold if threshold is not None else 'the threshold'} (the maps depend on the learnt "
                   "weights); an arm passes when every fold does, else its maps mostly show the architecture.",
                   widths=[w * FRAME_WIDTH for w in (0.17, 0.11, 0.24, 0.12, 0.12, 0.12, 0.12)],
                   numeric=(3, 4, 5), markup_columns=(0, 6))
    return parts


def randomisation_figure(curves: pd.DataFrame, arms: list[str], colours: dict[str, str],
                         threshold: float | None) -> Figure:
    """Two panels (|Spearman|, SSIM) of similarity against randomisation stage, one line per arm."""
    with plot_style():
        fig = Figure(figsize=(7.0, 2.4))
        for index, (column, label) in enumerate((("spearman_abs", "mean |Spearman| to trained maps"),
                                                  ("ssim", "mean SSIM to trained maps"))):
            axes = fig.add_subplot(1, 2, index + 1)
            for arm in arms:
                own = curves[curves["model"] == arm].sort_values("stage")
                axes.plot(own["stage"], own[column], marker="o", markersize=3, color=colours[arm], label=arm,
                          linewidth=1.2)
            if column == "spearman_abs" and threshold is not None:
                axes.axhline(threshold, color="#888888", linestyle=":", linewidth=0.8)
            axes.set_xlabel("randomisation stage (0 = trained)")
            axes.set_ylabel(label)
            axes.set_ylim(-0.05, 1.05)
        axes.legend(loc="upper right", frameon=False)
        fig.tight_layout()
    return fig


def consistency(results: Results, context: Context) -> list[Flowable]:
    """Cross-fold agreement of the maps per arm."""
    frame = results.sanity("consistency")
    if "kind" not in frame:  # analyses written before the kinds were told apart
        frame = frame.assign(kind="")
    rows = [[swatch(context.colours[arm], arm), row["kind"], str(int(row["k"])),
             f"{row['spearman_mean']:.3f} \u00b1 {row['spearman_std']:.3f}",
             f"{row['ssim_mean']:.3f} \u00b1 {row['ssim_std']:.3f}"]
            for arm in context.arms for _, row in frame[frame["model"] == arm].iterrows()]
    return table(["arm", "images", "folds", "Spearman between folds", "SSIM between folds"], rows,
                 "Cross-fold consistency: mean (\u00b1 sd over images) agreement between the maps that the k fold "
                 "models give for the same images. Near 1 the fold models look at the same places; near 0 a "
                 "single fold's maps are not reproducible. Only 'held-out' rows (no model of a pair trained on "
                 "the image) measure agreement on unseen faces; 'held-out vs trained' pairs one model that "
                 "held the image out with one that trained on it.",
                 widths=[w * FRAME_WIDTH for w in (0.18, 0.2, 0.08, 0.27, 0.27)], numeric=(2, 3, 4),
                 markup_columns=(0,))


def faithfulness(results: Results, context: Context) -> list[Flowable]:
    """Accuracy with the mask region or an equal random region occluded."""
    frame = results.sanity("faithfulness")
    rows = []
    for arm in context.arms:
        for _, row in frame[frame["model"] == arm].iterrows():
            rows.append([swatch(context.colours[arm], arm), row["subset"], percent(row["accuracy"]),
                         percent(row["faith_correct_occluded"]), percent(row["faith_correct_random"]),
                         percent(row["drop_mask"]), percent(row["drop_random"])])
    return table(["arm", "subset", "accuracy %", "mask occluded %", "random occluded %", "drop (mask)",
                  "drop (random)"], rows,
                 "Faithfulness: accuracy of the audited images as they are, with the mask region occluded, and "
                 "with a random region of equal area occluded (mean of repeats), and the two drops in points. A "
                 "larger drop for the mask says the model uses the mask pixels; equal drops say the mask region "
                 "is no more important than any other region of its size.",
                 widths=[w * FRAME_WIDTH for w in (0.17, 0.08, 0.13, 0.16, 0.16, 0.15, 0.15)],
                 numeric=(2, 3, 4, 5, 6), markup_columns=(0,))


def evidence(results: Results, context: Context) -> list[Flowable]:
    """Agreement of the maps with the demo's ground-truth evidence maps."""
    frame = results.sanity("evidence")
    if frame.empty:
        return [paragraph("No evidence maps: the manifest names none (only the demo data has them).")]
    rows = []
    for arm in context.arms:
        for _, row in frame[frame["model"] == arm].iterrows():
            rows.append([swatch(context.colours[arm], arm), row["subset"], f"{row['evidence_spearman']:.3f}",
                         percent(row["evidence_fraction"]), percent(row["evidence_rank_accuracy"])])
    return table(["arm", "subset", "Spearman", "mass on evidence %", "rank accuracy %"], rows,
                 "Agreement with the ground truth (demo data only: the generator knows which pixels carry the "
                 "expression): Spearman correlation of map and evidence map, share of the positive attribution on "
                 "the evidence, and share of the top-K pixels inside the K evidence pixels. Higher is better.",
                 widths=[w * FRAME_WIDTH for w in (0.2, 0.1, 0.2, 0.25, 0.25)], numeric=(2, 3, 4),
                 markup_columns=(0,))
