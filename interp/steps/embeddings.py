"""Step ``embeddings``: t-SNE/UMAP projections per model (NM, M, both) and cluster quality per fold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from interp import embeddings, layout, plots, tables
from interp.runs import Run
from interp.steps import register
from interp.steps.base import Step
from trainers import rundir
from trainers.common.errors import DataError


@dataclass
class EmbeddingsConfig:
    """Options of the ``embeddings`` step.

    Attributes
    ----------
    methods
        Projections to make (``tsne``, ``umap``).
    projection_folds
        Folds to project; empty projects the first finished fold of each model (each fold is a
        different model, so folds are never pooled into one projection).
    neighbours
        k of the kNN accuracy.
    threads
        BLAS/OpenMP threads during the step; 0 keeps the libraries' default. 1 by default: fold-sized
        sets (hundreds of points) project faster on one thread, and OpenMP pools thrash on a shared
        machine (t-SNE of 300 points: 2 s on one thread, 14 s on two busy cores).
    """

    methods: tuple[str, ...] = ("tsne", "umap")
    projection_folds: tuple[int, ...] = ()
    seed: int = 0
    neighbours: int = 5
    threads: int = 1


@register
class EmbeddingsStep(Step):
    name = "embeddings"
    order = 30
    description = "t-SNE/UMAP projections and cluster quality (silhouette, kNN, pair distance) per fold"
    Config = EmbeddingsConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.study_file, *run.files(rundir.PREDICTIONS_FILE), *run.files(rundir.EMBEDDINGS_FILE)]

    def run(self, run: Run, config: EmbeddingsConfig, analysis: Path) -> list[Path]:
        unknown = [m for m in config.methods if m not in embeddings.PROJECTIONS]
        if unknown:
            raise DataError(f"unknown projection(s) {unknown}; use {', '.join(embeddings.PROJECTIONS)}")
        with threadpool_limits(config.threads or None):
            quality, projected = self._compute(run, config)
        columns = ["model", "fold", "scope", "n", *embeddings.QUALITY_METRICS]
        quality_folds = tables.ordered(pd.DataFrame(quality, columns=columns))
        summary = (tables.summarise(quality_folds, ["model", "scope"], list(embeddings.QUALITY_METRICS))
                   if len(quality_folds) else pd.DataFrame(columns=["model", "scope", "n_folds"]))
        written = (layout.write_table(quality_folds, analysis, "embedding_quality_folds")
                   + layout.write_table(summary, analysis, "embedding_quality"))
        projections = pd.concat(projected, ignore_index=True) if projected else pd.DataFrame(
            columns=list(embeddings.PROJECTION_COLUMNS))
        written += layout.write_table(projections, analysis, "embedding_projections")
        for model in projections["model"].unique():
            written += plots.save_figure(plots.projection_figure(projections, model),
                                         analysis / layout.FIGURES_DIR,
                                         f"projection-{model}")
        return written

    def _compute(self, run: Run, config: EmbeddingsConfig) -> tuple[list[dict], list[pd.DataFrame]]:
        predictions = run.predictions()
        quality, projected = [], []
        for model, fold, _ in tqdm(run.fold_dirs(), desc="embeddings", unit="fold"):
            table = predictions[(predictions["model"] == model) & (predictions["fold"] == fold)]
            table = table.reset_index(drop=True)
            features = run.embeddings(model, fold)
            quality += embeddings.quality_rows(table, features, neighbours=config.neighbours)
            wanted = config.projection_folds or run.finished[model][:1]
            if fold in wanted:
                projected.append(embeddings.projections(table, features, config.methods, seed=config.seed))
        return quality, projected
