"""Section ``sensitivity``: how often masking changes each arm's answer, which classes masks collapse onto,
accuracy and calibration on non-masked vs masked faces, and the attention on the mask region of each pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from reportlab.platypus import Flowable

from interp.report.sections import register
from interp.report.sections.base import Context, Section
from interp.results import Results
from interp.sensitivity_views import sensitivity_cells
from reports.flowables import figure, paragraph, swatch, table, vector
from reports.styles import FRAME_WIDTH


def class_share_figure(shares: pd.DataFrame, arm: str) -> Figure:
    """Bars of the share of pairs predicted as each class on NM and on M (one arm)."""
    part = shares[(shares["model"] == arm) & ((shares["n_nm"] > 0) | (shares["n_m"] > 0))]
    fig = Figure(figsize=(6.0, 2.4))
    axis = fig.add_subplot()
    x = np.arange(len(part))
    axis.bar(x - 0.2, part["share_nm"], width=0.4, label="non-masked", color="#4c72b0")
    axis.bar(x + 0.2, part["share_m"], width=0.4, label="masked", color="#dd8452")
    axis.set_xticks(x, list(part["class"]))
    axis.set_ylabel("share of pairs")
    axis.set_title(f"{arm}: predicted class, non-masked vs masked")
    axis.legend(frameon=False)
    return fig


@register
class SensitivitySection(Section):
    name = "sensitivity"
    title = "Mask sensitivity"
    order = 75
    steps = ("sensitivity",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        parts: list[Flowable] = [paragraph(
            "Each pair is one face without and with a mask, scored by the same model. A <i>flip</i> is a pair whose "
            "predicted class changes under the mask; the interval of the flip rate resamples subjects (a percentile "
            "bootstrap, 2,000 draws), since pairs of one person are not independent. <i>Drop</i> is how much the "
            "probability of the non-masked prediction falls on the masked face, and KL the divergence of the masked "
            "face's class distribution from the non-masked one's (nats). Accuracy, ECE (15 bins) and Brier are on the "
            "seven classes for labelled pairs; without labels they read <i>no labels</i>.")]
        parts += context.optional(lambda: summary(results, context), "Mask sensitivity")
        parts += context.optional(lambda: collapse(results, context), "Predicted classes on NM vs M")
        return parts


def summary(results: Results, context: Context) -> list[Flowable]:
    """The per-arm, per-class table of flips, drops, KL, accuracy and calibration NM vs M."""
    cells = sensitivity_cells(results.mask_sensitivity())
    rows = [[swatch(context.colours.get(row["model"], "#000000"), row["model"]), *map(str, row.iloc[1:])]
            for _, row in cells.iterrows()]
    return table(["arm", *cells.columns[1:]], rows,
                 "Mask sensitivity per arm and class (the pair's label, or without labels the class predicted on the "
                 "non-masked face) and over all pairs. The mask fraction is the share of the attribution map on "
                 "the mask region, on the non-masked and on the masked face.",
                 widths=[w * FRAME_WIDTH for w in (0.1, 0.09, 0.06, 0.15, 0.07, 0.07, 0.12, 0.11, 0.11, 0.12)],
                 numeric=(2, 4, 5), markup_columns=(0,))


def collapse(results: Results, context: Context) -> list[Flowable]:
    """Per arm: bars of the predicted-class shares on NM and M, and the classes masks collapse onto."""
    shares = results.mask_sensitivity("classes")
    parts: list[Flowable] = []
    for arm in [arm for arm in context.arms if arm in set(shares["model"])]:
        own = shares[shares["model"] == arm]
        gains = own[own["change"] > 0].sort_values("change", ascending=False)
        onto = ", ".join(f"{name} (+{100 * change:.1f} points)" for name, change in zip(gains["class"], gains["change"]))
        parts.append(figure(vector(class_share_figure(shares, arm), max_height=0.3 * FRAME_WIDTH),
                            f"Share of pairs {arm} predicts as each class on the non-masked and on the masked face. "
                            + (f"Masks move predictions onto {onto}." if onto else "Masks move no class up.")))
    return parts
