"""Section ``attention_shift``: does masking move a model's evidence up the face? The forest of the
within-pair shift d per arm with both intervals and the null band, the subject shares NM -> M, the mean
M - NM map on a common face frame (the quantitative figure 6), and the checks of the maps: faithfulness
(deletion, insertion, face-region occlusion with ROAD imputation) and agreement between two methods."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from reportlab.platypus import Flowable

from interp.attention_views import (
    REGION_SHARES, agreement_cells, difference_grid, faithfulness_cells, forest_rows, subject_shares,
)
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from reports.flowables import figure, paragraph, plot_style, raster, table, text, vector
from reports.styles import FRAME_WIDTH

MAPS_PER_ROW = 5


@register
class AttentionShiftSection(Section):
    name = "attention_shift"
    title = "Attention shift and the faithfulness of the maps"
    order = 72
    steps = ("attributions",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        parts: list[Flowable] = [paragraph(
            "For each pair - the same subject and expression without (NM) and with (M) a mask, both explained for "
            "the same class by the model that held the pair out - the shift index U of a map is the log of the "
            "area-normalised share of its positive evidence on the upper face (eyes and forehead) minus that of the "
            "lower face, and d = U(M) - U(NM). A positive d says masking moved the model's evidence up the face. "
            "d is averaged per subject, then per fold; randomised networks of the same architecture give the null "
            "band, what the architecture and the attribution method produce with nothing learnt.")]
        parts += context.optional(lambda: [figure(
            vector(forest_figure(forest_rows(results.attention_shift(), context.arms), context.colours)),
            "Attention shift d per arm: dot = mean over folds of subject means; thick line = corrected resampled "
            "t-interval over folds (95%); thin line below = subject cluster-bootstrap interval (95%); grey bar = "
            "the randomised-network null band (2.5-97.5% over draws); dashed line = no shift.")], "Attention-shift forest")
        parts += context.optional(lambda: [figure(
            vector(slopes_figure(subject_shares(results.attention_shift(pairs=True), context.arms), context.colours)),
            "Upper-face and lower-face share of the positive evidence on the face, per subject (thin lines) from the "
            "non-masked (left end) to the masked image (right end) of its pairs, arm by arm; black = the mean over "
            "subjects.")], "Subject shares NM -> M")
        parts += context.optional(lambda: difference_part(results.attention_difference_map(), context.arms),
                                  "Mean M - NM maps")
        parts += context.optional(lambda: faithfulness_part(results.faithfulness()), "Faithfulness")
        parts += context.optional(lambda: agreement_part(results.attention_agreement()), "Method agreement")
        return parts


def forest_figure(rows: pd.DataFrame, colours: dict[str, str]) -> Figure:
    """Dot, t-interval, bootstrap interval and null band of d per arm."""
    with plot_style():
        fig = Figure(figsize=(6.5, 0.9 + 0.35 * max(1, len(rows))))
        axes = fig.add_subplot(1, 1, 1)
        for position, row in enumerate(rows.itertuples(index=False)):
            colour = colours.get(row.model, "#333333")
            if pd.notna(getattr(row, "null_low", np.nan)) and pd.notna(getattr(row, "null_high", np.nan)):
                axes.fill_betweenx([position - 0.3, position + 0.3], row.null_low, row.null_high, color="#cccccc",
                                   linewidth=0)
            if pd.notna(row.ci_low) and pd.notna(row.ci_high):
                axes.plot([row.ci_low, row.ci_high], [position, position], color=colour, linewidth=3)
            if pd.notna(getattr(row, "boot_low", np.nan)) and pd.notna(getattr(row, "boot_high", np.nan)):
                axes.plot([row.boot_low, row.boot_high], [position + 0.22] * 2, color=colour, linewidth=1,
                          linestyle=":")
            axes.plot([row.effect], [position], "o", color=colour, markersize=5)
        axes.axvline(0, color="#555555", linestyle="--", linewidth=0.8)
        axes.set_yticks(range(len(rows)), list(rows["model"]))
        axes.set_ylim(len(rows) - 0.5, -0.5)
        axes.set_xlabel("d = U(M) - U(NM)")
        fig.tight_layout()
    return fig


def slopes_figure(shares: pd.DataFrame, colours: dict[str, str]) -> Figure:
    """Subject means NM -> M of the upper-face and lower-face shares, one panel per region."""
    arms = list(dict.fromkeys(shares["model"]))
    with plot_style():
        fig = Figure(figsize=(7.0, 2.6))
        for index, region in enumerate(REGION_SHARES):
            axes = fig.add_subplot(1, len(REGION_SHARES), index + 1)
            own = shares[shares["region"] == region]
            for position, arm in enumerate(arms):
                rows = own[own["model"] == arm]
                for row in rows.itertuples(index=False):
                    axes.plot([position - 0.2, position + 0.2], [row.nm, row.m], color=colours.get(arm, "#333333"),
                              linewidth=0.6, alpha=0.8)
                if len(rows):
                    axes.plot([position - 0.2, position + 0.2], [rows["nm"].mean(), rows["m"].mean()], color="black",
                              linewidth=1.6)
            axes.set_xticks(range(len(arms)), arms, rotation=30, ha="right")
            axes.set_title(f"{region} share")
            axes.set_ylim(0, 1)
        fig.tight_layout()
    return fig


def difference_part(cells: pd.DataFrame, arms: list[str]) -> list[Flowable]:
    """The mean M - NM maps on the common face frame, one panel per arm, one diverging colour scale."""
    shown = [arm for arm in arms if arm in set(cells["model"])]
    if not shown:
        return [paragraph("No pair had eye landmarks on both images: no common-frame map.")]
    columns = min(MAPS_PER_ROW, len(shown))
    rows = math.ceil(len(shown) / columns)
    limit = float(np.nanmax(np.abs(cells["difference"]))) or 1.0
    pairs = cells.drop_duplicates("model").set_index("model")["n_pairs"]
    with plot_style():
        fig = Figure(figsize=(1.45 * columns + 0.6, 1.7 * rows))
        image = None
        for index, arm in enumerate(shown):
            grid, u, v = difference_grid(cells, arm)
            axes = fig.add_subplot(rows, columns, index + 1)
            image = axes.imshow(grid, cmap="RdBu_r", vmin=-limit, vmax=limit,
                                extent=(u[0], u[-1], v[-1], v[0]), interpolation="nearest")
            axes.plot([-0.5, 0.5], [0, 0], "kx", markersize=4)
            axes.set_title(f"{arm} ({int(pairs[arm])})", fontsize=7)
            axes.set_xticks([])
            axes.set_yticks([])
        fig.colorbar(image, ax=fig.axes, shrink=0.8, label="M - NM share")
    return [figure(raster(fig, width=FRAME_WIDTH),
                   "Mean masked minus non-masked map per arm (pairs in brackets) on a common face frame: every map is "
                   "warped by a similarity transform on its eye landmarks (crosses: the eye centres; forehead above, "
                   "mouth below) and taken as shares of its positive mass. Red cells gained evidence on the masked "
                   "image, blue cells lost it: the quantitative version of the paper's figure 6.")]


def faithfulness_part(summary: pd.DataFrame) -> list[Flowable]:
    """Deletion/insertion AUCs and the face-region occlusion drops per arm and subset."""
    cells = faithfulness_cells(summary)
    shown = cells[summary["measure"].isin(["auc_deletion", "auc_insertion", "excess_upper", "excess_lower"])]
    rows = [list(row) for row in shown.astype(str).itertuples(index=False)]
    return table(list(cells.columns), rows,
                 "Faithfulness of the audit's maps per arm on non-masked (NM) and masked (M) images, pixels removed "
                 "with ROAD's noisy linear imputation (Rong et al. 2022): areas under the deletion curve (most relevant "
                 "pixels removed first; lower = more faithful) and the insertion curve (higher = more faithful), and the "
                 "drop of the explained class's probability when the upper or the lower face is removed minus the drop "
                 "for an equal-area control region on the face (excess > 0: the region matters beyond its size). Mean "
                 "over images with a 95% subject cluster-bootstrap interval; every measure is in "
                 "<i>attributions/&lt;method&gt;/faithfulness</i>.",
                 widths=[w * FRAME_WIDTH for w in (0.14, 0.07, 0.3, 0.1, 0.19, 0.1, 0.1)], numeric=(3, 5, 6))


def agreement_part(agreement: pd.DataFrame) -> list[Flowable]:
    """Spearman of the shift index between two methods per arm and subset, and whether the arm order holds."""
    cells = agreement_cells(agreement[agreement["subset"] == "all"])
    rows = [list(row) for row in cells.drop(columns=["subset"]).astype(str).itertuples(index=False)]
    methods = text(str(cells["methods"].iloc[0])) if len(cells) else "two methods"
    holds = bool(agreement["same_order"].iloc[0]) if len(agreement) else False
    tau = agreement["kendall_tau"].iloc[0] if len(agreement) else float("nan")
    caption = (f"Agreement of {methods} on the same images and classes: Spearman rank correlation of the per-image "
               "shift index U, the mean pair shift d under each method and the arm's rank by it (1 = largest shift). "
               f"The arm ordering {'holds' if holds else 'does not hold'} across the methods (Kendall's tau "
               f"{tau:.2f} between the two orderings).") if pd.notna(tau) else (
               f"Agreement of {methods}: fewer than two arms could be ranked by their mean shift.")
    return table(list(cells.drop(columns=["subset"]).columns), rows, caption,
                 widths=[w * FRAME_WIDTH for w in (0.12, 0.2, 0.07, 0.1, 0.07, 0.1, 0.1, 0.1, 0.1)],
                 numeric=(2, 3, 4, 5, 6))
