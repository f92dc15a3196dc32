"""Section ``embeddings``: cluster quality of each arm's penultimate features (silhouette, kNN accuracy,
NM-M pair distance) and a grid of their t-SNE/UMAP projections."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from reportlab.platypus import Flowable

from interp.palette import class_colour
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from reports.flowables import figure, paragraph, plot_style, raster, swatch, table, text
from reports.styles import FRAME_HEIGHT, FRAME_WIDTH
from trainers.data.labels import CLASSES

METRICS: dict[str, str] = {
    "silhouette": "silhouette", "knn_accuracy": "kNN accuracy %", "pair_distance_ratio": "pair distance ratio",
}
PROJECTION_SCOPE = "both"
GRID_COLUMNS = 5


def _mean_sd(row: pd.Series, metric: str) -> str:
    mean, sd = row.get(f"{metric}_mean"), row.get(f"{metric}_sd")
    if mean is None or pd.isna(mean):
        return "n/a"
    scale = 100 if metric == "knn_accuracy" else 1
    digits = 1 if metric == "knn_accuracy" else 3
    spread = "" if sd is None or pd.isna(sd) else f" \u00b1 {scale * sd:.{digits}f}"
    return f"{scale * mean:.{digits}f}{spread}"


@register
class EmbeddingsSection(Section):
    name = "embeddings"
    title = "Embeddings"
    order = 60
    steps = ("embeddings",)

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        quality = results.embedding_quality()
        parts: list[Flowable] = [paragraph(
            "Each fold model maps a face to a feature vector (the layer before the classifier). Features are "
            "L2-normalised; the silhouette score says how tight and separate the classes are (1 best, 0 "
            "overlapping), the kNN accuracy whether a face's class can be read from its nearest neighbours of "
            "<i>other</i> subjects, and the pair distance ratio how close a masked face lands to its own unmasked "
            "partner relative to all NM-M distances (well below 1: the mask barely moves the face, which is what "
            "contrastive learning aims for). Values are mean \u00b1 sd over folds.")]
        rows = []
        for arm in context.arms:
            for _, row in quality[quality["model"] == arm].iterrows():
                rows.append([swatch(context.colours[arm], arm), str(row["scope"]),
                             *(_mean_sd(row, metric) for metric in METRICS)])
        parts += table(["arm", "images", *METRICS.values()], rows,
                       "Cluster quality of the embeddings per arm and image scope (NM, M, both), mean \u00b1 sd "
                       "over folds; the pair distance ratio exists for scope <i>both</i> only.",
                       widths=[w * FRAME_WIDTH for w in (0.18, 0.1, 0.24, 0.24, 0.24)], numeric=(2, 3, 4),
                       markup_columns=(0,))
        projections = results.embedding_projections()
        projections = projections[projections["scope"] == PROJECTION_SCOPE]
        if len(projections):
            arms = [arm for arm in context.arms if arm in set(projections["model"])]
            methods = list(dict.fromkeys(projections["method"]))
            folds = ", ".join(f"{text(arm)} fold {int(projections[projections['model'] == arm]['fold'].iloc[0])}"
                              for arm in arms)
            legend = ", ".join(swatch(class_colour(name), name) for name in CLASSES)
            grid = projection_grid(projections, arms, methods, context.colours)
            parts.append(figure(raster(grid, FRAME_WIDTH, max_height=0.7 * FRAME_HEIGHT),
                                f"{' and '.join(m.upper() if m == 'umap' else 't-SNE' for m in methods)} projections "
                                "of the validation features of one fold per arm (columns; "
                                f"{folds}), NM and M images together: colour is the class ({legend}), circles "
                                "non-masked and crosses masked images. Clusters by colour mean classes are "
                                "separated; a cross sitting on its own circle's cluster means the mask changes "
                                "little. Axes have no units."))
        return parts


def projection_grid(projections: pd.DataFrame, arms: list[str], methods: list[str],
                    colours: dict[str, str]) -> Figure:
    """Scatter grid: one column per arm (at most :data:`GRID_COLUMNS`, then a new block of rows), one row
    per projection method within each block."""
    blocks = [arms[start:start + GRID_COLUMNS] for start in range(0, len(arms), GRID_COLUMNS)]
    columns = min(len(arms), GRID_COLUMNS)
    rows = len(blocks) * len(methods)
    with plot_style():
        fig = Figure(figsize=(1.45 * columns, 1.45 * rows + 0.5))
        for block_index, block in enumerate(blocks):
            for method_index, method in enumerate(methods):
                row = block_index * len(methods) + method_index
                for column, arm in enumerate(block):
                    axes = fig.add_subplot(rows, columns, row * columns + column + 1)
                    part = projections[(projections["model"] == arm) & (projections["method"] == method)]
                    for masked, marker in ((False, "o"), (True, "x")):
                        points = part[part["masked"].astype(bool) == masked]
                        axes.scatter(points["x"], points["y"], s=6 if marker == "o" else 9, marker=marker,
                                     linewidths=0.7, c=[class_colour(str(label)) for label in points["label"]])
                    axes.set_aspect("equal", adjustable="datalim")  # a unit as long on both axes
                    axes.set_xticks([])
                    axes.set_yticks([])
                    for spine in axes.spines.values():
                        spine.set_visible(True)
                        spine.set_color("#BBBBBB")
                    if method_index == 0:
                        axes.set_title(arm, color=colours.get(arm, "black"), fontweight="bold")
                    if column == 0:
                        axes.set_ylabel("t-SNE" if method == "tsne" else method.upper())
        handles = [Line2D([], [], marker="o", linestyle="", color=class_colour(name), label=name) for name in CLASSES]
        handles += [Line2D([], [], marker=marker, linestyle="", color="black", label=label)
                    for marker, label in (("o", "non-masked"), ("x", "masked"))]
        fig.legend(handles=handles, loc="lower center", ncol=math.ceil(len(handles) / 2), frameon=False)
        fig.tight_layout(rect=(0, 0.5 / (1.45 * rows + 0.5) + 0.03, 1, 1))
    return fig
