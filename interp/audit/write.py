"""Summarising and writing the attention audit: tables, maps, overlays, the figure-6 grid and ``audit.json``.

:func:`write_tables` turns what :mod:`interp.audit.pipeline` computed (:class:`Collected`) into the tables
of :mod:`interp.layout` under ``analysis/attributions/<method>/``; the summaries themselves are computed
in :mod:`interp.audit.summaries` and :mod:`interp.audit.shift_tests`.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from interp import layout
from interp.attribution import ATTRIBUTIONS
from interp.audit.aggregate import BaselineTest, compare_to_baseline, summarise
from interp.audit.config import AuditConfig
from interp.audit.coverage import coverage_by_subset, coverage_warning, geometry_coverage, summary_by_polygon
from interp.audit.inputs import Selection
from interp.audit.overlays import labelled_grid, overlay, save_png
from interp.audit.sanity import randomisation_check
from interp.audit.shift_tests import ShiftTestConfig
from interp.audit.summaries import consistency_table, null_references, pool, shift_tables
from interp.regions import metric_metadata
from interp.runs import Run
from interp.stats.comparisons import PE_BASELINE, pick_baseline, table5_methods
from interp.stats.families import describe_arms
from interp.tables import with_init
from trainers.common.atomic import atomic_open
from trainers.data.views import M, NM, PE_M, PE_NM

log = logging.getLogger(__name__)


@dataclass
class Collected:
    """What the audit computed, fold by fold, for the writers.

    Attributes
    ----------
    rows
        Per (model, fold): the per-image table.
    tiles
        ``(model, image_id)`` -> overlay tile of the figure-6 grid.
    consistency
        Model -> fold -> pooled maps of the sanity images (cross-fold consistency).
    curves
        Randomisation-cascade tables.
    sanity_ids
        The sanity images.
    nulls
        Per (model, fold): the randomised networks' per-image scores (``draw``, ``image_id``, metrics).
    layers
        Model -> where its maps come from: ``layer``, ``grid`` (native map size), ``input_size``, ``map_kind``.
    """

    rows: list[pd.DataFrame] = field(default_factory=list)
    tiles: dict[tuple[str, str], object] = field(default_factory=dict)
    consistency: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    curves: list[pd.DataFrame] = field(default_factory=list)
    sanity_ids: list[str] = field(default_factory=list)
    nulls: list[pd.DataFrame] = field(default_factory=list)
    layers: dict[str, dict] = field(default_factory=dict)


def write_maps(path: Path, selection: Selection, maps: np.ndarray, targets: np.ndarray, preds: np.ndarray,
               map_size: int) -> Path:
    """The low-resolution maps of one (model, fold): ``image_id``, ``maps`` (float16), ``targets``, ``preds``."""
    with atomic_open(path, "wb") as handle:
        np.savez_compressed(handle, image_id=np.asarray(selection.image_ids, dtype=str),
                            maps=pool(maps, map_size).astype(np.float16), targets=targets.astype(np.int16),
                            preds=preds.astype(np.int16))
    return path


def write_overlays(analysis: Path, method: str, model: str, selection: Selection, maps: np.ndarray,
                   frame: pd.DataFrame, overlay_ids: list[str], collected: Collected) -> list[Path]:
    """Figure-6 tiles of the ``overlay_ids`` among ``selection`` (kept in ``collected`` for the grid)."""
    written = []
    for index, image_id in enumerate(selection.image_ids):
        if image_id not in overlay_ids:
            continue
        correct = bool(frame["correct"].iloc[index]) if frame["label"].iloc[index] else None  # None: no label
        tile = overlay(selection.images[index], maps[index], correct=correct,
                       polygon=selection.polygons[index])
        collected.tiles[(model, image_id)] = tile
        written.append(save_png(tile, layout.overlay_path(analysis, method, model, image_id)))
    return written


def write_tables(run: Run, analysis: Path, config: AuditConfig, collected: Collected) -> list[Path]:
    inits = run.inits()
    out = layout.attribution_dir(analysis, config.method)

    def save(frame: pd.DataFrame, name: str) -> list[Path]:
        return layout.write_table(with_init(frame, inits), analysis, name, config.method)

    images = pd.concat(collected.rows, ignore_index=True)
    written = save(images, "attention_images")
    coverage = geometry_coverage(images)
    warning = coverage_warning(coverage)
    if warning:
        warnings.warn(f"attention audit: {warning}", stacklevel=2)  # logged and kept in index.json by analyze
    summary = summarise(images, sizes=run.fold_sizes)  # the corrected (Nadeau-Bengio) interval
    if not summary.empty:
        summary = summary.merge(coverage_by_subset(images), on=["model", "subset"], how="left")
        summary = summary.merge(null_references(images, collected.curves, _nulls(collected)),
                                on=["model", "subset", "class"], how="left")
    written += save(summary, "attention_summary")
    by_polygon = summary_by_polygon(images, lambda chosen: summarise(chosen, sizes=run.fold_sizes))
    if not by_polygon.empty:
        written += save(by_polygon, "attention_summary_by_polygon")
    written += save(pd.DataFrame(metric_metadata()), "attention_metrics")
    comparisons = mask_comparisons(run, images, config)
    if not comparisons.empty:
        written += save(comparisons, "attention_comparisons")
    if collected.tiles:
        written.append(figure6(layout.figure6_path(analysis, config.method), images, collected))
    if config.sanity:
        written += write_sanity(run, images, collected, config, save)
    written += write_shift(run, images, collected, config, save)
    description = {"config": asdict(config), "method": {"name": config.method,
                   "description": ATTRIBUTIONS[config.method].description,
                   "reference": ATTRIBUTIONS[config.method].reference},
                   "metrics": metric_metadata(), "images": len(images),
                   "geometry": {**coverage, "warning": warning}, "layers": collected.layers,
                   "files": sorted(p.relative_to(out).as_posix() for p in written)}
    with atomic_open(out / layout.AUDIT_FILE) as handle:
        json.dump(description, handle, indent=1)
    return written + [out / layout.AUDIT_FILE]


def _nulls(collected: Collected) -> pd.DataFrame:
    return pd.concat(collected.nulls, ignore_index=True) if collected.nulls else pd.DataFrame()


def write_shift(run: Run, images: pd.DataFrame, collected: Collected, config: AuditConfig,
                save: Callable[[pd.DataFrame, str], list[Path]]) -> list[Path]:
    """The attention-shift tables (:func:`interp.audit.summaries.shift_tables`) that have rows."""
    if "shift_index" not in images:
        return []
    baseline = pick_baseline(run.models, config.baseline)
    reference = PE_BASELINE if PE_BASELINE in run.models else baseline
    sizes = run.fold_sizes(None)
    tests = ShiftTestConfig(compare=compared_arms(run, config), reference=reference,
                            n_train=float(sizes["n_train"].mean()),
                            n_test=float(sizes["n_test"].mean()), seed=config.seed)
    kinds = {model: info["map_kind"] for model, info in collected.layers.items()}
    written = []
    for name, frame in shift_tables(images, _nulls(collected), kinds, tests).items():
        if not frame.empty:
            written += save(frame, name)
    return written


def compared_arms(run: Run, config: AuditConfig) -> tuple[str, ...]:
    """The models tested against the baseline: the ``compare`` option, or (empty) the study's arms of role
    ``ours`` as ``study.json`` records them (:func:`interp.stats.families.describe_arms`)."""
    return config.compare or tuple(name for name, arm in describe_arms(run.study).items() if arm.role == "ours")


def mask_comparisons(run: Run, images: pd.DataFrame, config: AuditConfig) -> pd.DataFrame:
    baseline = pick_baseline(run.models, config.baseline)
    if baseline is None:
        log.info("no baseline model in %s: skipping the mask-fraction comparisons", run.models)
        return pd.DataFrame()
    frames = [compare_to_baseline(images, BaselineTest(baseline, compared_arms(run, config), subset=subset),
                                  run.fold_sizes)
              for subset in (M, NM)]
    if PE_BASELINE in run.models:  # Table 5: the pair-trained methods against the pair-trained baseline
        methods = tuple(table5_methods(run.models))
        frames += [compare_to_baseline(images, BaselineTest(PE_BASELINE, methods, subset=subset), run.fold_sizes)
                   for subset in (PE_M, PE_NM)]
    return pd.concat([f for f in frames if not f.empty] or [pd.DataFrame()], ignore_index=True)


def figure6(target: Path, images: pd.DataFrame, collected: Collected) -> Path:
    return save_png(labelled_grid(images, collected.tiles), target)


def write_sanity(run: Run, images: pd.DataFrame, collected: Collected, config: AuditConfig,
                  save: Callable[[pd.DataFrame, str], list[Path]]) -> list[Path]:
    written = []
    similarity = ["spearman", "spearman_abs", "ssim"]
    if collected.curves:
        curves = pd.concat(collected.curves, ignore_index=True)
        written += save(curves, "sanity_randomisation")
        summary = curves.groupby(["model", "fold", "stage", "layer"], sort=False)[similarity].mean().reset_index()
        written += save(summary, "sanity_randomisation_summary")
        check = randomisation_check(summary, config.randomisation_threshold)
        written += save(check, "sanity_randomisation_check")
        failed = sorted(set(check.loc[~check["model_passed"], "model"]))
        if failed:
            log.warning("randomisation check failed for %s: maps of the fully randomised model still correlate "
                        "with the trained model's (mean absolute-value Spearman >= %s)", ", ".join(failed),
                        config.randomisation_threshold)
    consistency = consistency_table(run, collected.consistency, collected.sanity_ids)
    if not consistency.empty:
        written += save(consistency, "sanity_consistency")
    if "faith_correct_occluded" in images:
        subset = np.where(images["masked"], "M", "NM")
        faith = images.assign(subset=subset, correct=images["correct"].astype(float)).dropna(
            subset=["faith_correct_occluded"]).groupby(["model", "subset"])[
            ["correct", "faith_correct_occluded", "faith_correct_random"]].mean().reset_index()
        faith["drop_mask"] = faith["correct"] - faith["faith_correct_occluded"]
        faith["drop_random"] = faith["correct"] - faith["faith_correct_random"]
        written += save(faith.rename(columns={"correct": "accuracy"}), "sanity_faithfulness")
    evidence = [c for c in images.columns if c.startswith("evidence_")]
    if evidence:
        summary = images.assign(subset=np.where(images["masked"], "M", "NM")).groupby(["model", "subset"])[evidence]
        written += save(summary.mean().reset_index(), "sanity_evidence")
    return written
