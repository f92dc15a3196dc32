"""Figures written by the analysis steps (matplotlib, PNG and SVG; no pyplot global state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trainers.common.atomic import atomic_path
from trainers.data.labels import CLASSES

FORMATS: tuple[str, ...] = ("png", "svg")
CLASS_COLOURS: dict[str, str] = dict(zip(CLASSES, ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                   "#9467bd", "#8c564b", "#7f7f7f")))


def save_figure(figure: Figure, directory: Path, name: str, dpi: int = 150) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg`` in ``directory`` atomically; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:
        target = directory / f"{name}.{fmt}"
        with atomic_path(target) as tmp:
            # Fixed metadata keeps the bytes stable across reruns (no creation date).
            figure.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight",
                           metadata={"Date": None} if fmt == "svg" else {"Software": None})
        paths.append(target)
    return paths


def confusion_figure(pooled: pd.DataFrame, model: str) -> Figure:
    """Row-normalised pooled confusion heatmaps of one model, one panel per subset."""
    own = pooled[pooled["model"] == model]
    subsets = list(dict.fromkeys(own["subset"]))
    figure = Figure(figsize=(4.2 * len(subsets), 4.0))
    for index, subset in enumerate(subsets):
        axes = figure.add_subplot(1, len(subsets), index + 1)
        rates = (own[own["subset"] == subset].pivot(index="true", columns="pred", values="rate")
                 .reindex(index=list(CLASSES), columns=list(CLASSES)).to_numpy())
        image = axes.imshow(np.nan_to_num(rates), vmin=0, vmax=1, cmap="Blues")
        for (row, column), value in np.ndenumerate(rates):
            if not np.isnan(value):
                axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=6,
                          color="white" if value > 0.6 else "black")
        axes.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right", fontsize=7)
        axes.set_yticks(range(len(CLASSES)), CLASSES, fontsize=7)
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
        axes.set_title(f"{model} - {subset} (pooled over folds)", fontsize=9)
        figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    return figure


def projection_figure(projections: pd.DataFrame, model: str) -> Figure:
    """Scatter of one model's 2-d projections: rows are methods, columns scopes (NM, M, both).

    Colour is the class; circles are non-masked images, crosses masked ones.
    """
    own = projections[projections["model"] == model]
    methods, scopes = list(dict.fromkeys(own["method"])), list(dict.fromkeys(own["scope"]))
    figure = Figure(figsize=(3.6 * len(scopes), 3.4 * len(methods)))
    for row, method in enumerate(methods):
        for column, scope in enumerate(scopes):
            axes = figure.add_subplot(len(methods), len(scopes), row * len(scopes) + column + 1)
            part = own[(own["method"] == method) & (own["scope"] == scope)]
            for masked, marker in ((False, "o"), (True, "x")):
                points = part[part["masked"] == masked]
                axes.scatter(points["x"], points["y"], s=10, marker=marker, linewidths=0.8,
                             c=points["label"].map(CLASS_COLOURS).tolist())
            folds = sorted(set(part["fold"]))
            axes.set_title(f"{model} {method} {scope} (fold {', '.join(map(str, folds))})", fontsize=8)
            axes.set_xticks([])
            axes.set_yticks([])
    handles = [axes.scatter([], [], c=colour, s=10, label=name) for name, colour in CLASS_COLOURS.items()]
    handles += [axes.scatter([], [], c="black", s=10, marker=marker, label=label)
                for marker, label in (("o", "non-masked"), ("x", "masked"))]
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7, frameon=False)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure
