"""The attention audit of a run: maps, per-image region metrics, overlays, summaries, sanity checks.

:func:`audit_run` rebuilds every finished (model, fold) from its checkpoint, explains its
validation images (both images of every pair) and writes, under ``analysis/attributions/<method>/``:

- ``images.parquet``/``.csv``: one row per (model, fold, image) with every region metric;
- ``maps/<model>/fold-<k>.npz``: low-resolution maps (``image_id``, ``maps``, ``targets``, ``preds``);
- ``overlays/``: figure-6 style PNGs for a few pairs and ``figure6.png`` (rows = models);
- ``summary``, ``comparisons`` and ``metrics`` tables; ``sanity/`` tables; ``audit.json``;
- ``summary_by_polygon``: the summary split by where the mask polygon came from (``exact`` or
  ``estimated`` from landmarks); the summary and ``audit.json`` carry the shares of images whose
  polygon is estimated or missing and of those without landmarks (:mod:`interp.audit.coverage`).

The images are a seeded, subject-stratified sample over all folds (:mod:`interp.audit.sampling`):
``max_images`` per model in total, and ``sanity_images`` of those for the randomisation and
consistency checks (images no fold model trained on first, where the run has them). Every table
keyed by model carries its ``init`` (:meth:`interp.runs.Run.inits`).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from interp import layout
from interp.attribution import ATTRIBUTIONS, create, to_model_input
from interp.audit.aggregate import ALL_CLASSES, BaselineTest, compare_to_baseline, summarise, with_views
from interp.audit.coverage import coverage_by_subset, coverage_warning, geometry_coverage, summary_by_polygon
from interp.audit.inputs import RunImages, Selection
from interp.audit.overlays import contact_sheet, overlay, save_png
from interp.audit.sampling import stratified_sample
from interp.audit.sanity import (
    RANDOMISATION_THRESHOLD, consistency_pairs, evidence_agreement, faithfulness, randomisation_check,
    randomisation_curve,
)
from interp.regions import metric_metadata, score_regions
from interp.runs import Run
from interp.stats.comparisons import PE_BASELINE, pick_baseline, table5_methods
from interp.tables import pe_image_ids, with_init
from trainers import rundir
from trainers.common.atomic import atomic_open
from trainers.data.labels import CLASSES
from trainers.common.errors import DataError
from trainers.methods import arm_names
from trainers.models.checkpoint import load_fold_model
from trainers.common.options import build

log = logging.getLogger(__name__)


@dataclass
class AuditConfig:
    """Options of the attention audit (the ``attributions`` analysis step).

    Attributes
    ----------
    method
        Attribution method (a key of :data:`interp.attribution.ATTRIBUTIONS`).
    settings
        The method's own settings (its ``Settings`` dataclass, e.g. ``steps`` of integrated_gradients,
        ``window`` and ``stride`` of occlusion; ``--set attributions.settings.steps=32``); resolved
        with their defaults when the config is built, so they enter the step's fingerprint.
    target
        ``"pred"`` explains the predicted class, ``"true"`` the labelled class.
    batch_size
        Images per attribution batch.
    bf16
        Run attributions under bfloat16 autocast (faster on bf16-capable CPUs and on GPUs).
    max_images
        At most this many validation images per model over all folds, whole pairs, a seeded
        subject-stratified sample (:func:`interp.audit.sampling.stratified_sample`); 0 = all.
    map_size
        Side of the stored low-resolution maps.
    overlay_pairs
        Pairs drawn as overlays (from the first fold).
    baseline, compare
        Reference model (default: baseline-mix, else baseline-nm) and the models tested against it
        (default: the arms registered as ours, :func:`trainers.methods.arm_names`).
    sanity
        Run the sanity checks (randomisation, cross-fold consistency, faithfulness, evidence).
    sanity_images
        Images used by the randomisation and consistency checks: a seeded, subject-stratified
        sample of the audited images, from the images no fold model trained on where the run has
        them (a test set), else over all folds.
    randomisation_stages
        Most layer groups (blocks) randomised in the cascade.
    randomisation_folds
        Folds of each model that run the randomisation cascade (the first ones; 0 = all).
    randomisation_threshold
        Pass criterion of the randomisation check: the mean absolute-value Spearman correlation of
        the fully randomised model's maps with the trained model's is below it, in every fold checked
        (:func:`interp.audit.sanity.randomisation_check`).
    faithfulness_repeats
        Random equal-area regions per image.
    threads
        torch CPU threads during the step; 0 keeps torch's default. On a shared machine 1 can be
        several times faster than oversubscribed cores.
    """

    method: str = "gradcam"
    settings: dict[str, Any] = field(default_factory=dict)
    target: str = "pred"
    batch_size: int = 32
    bf16: bool = False
    max_images: int = 0
    map_size: int = 28
    overlay_pairs: int = 4
    baseline: str = ""
    compare: tuple[str, ...] = field(default_factory=lambda: tuple(arm_names("ours")))
    sanity: bool = True
    sanity_images: int = 16
    randomisation_stages: int = 8
    randomisation_folds: int = 3
    randomisation_threshold: float = RANDOMISATION_THRESHOLD
    faithfulness_repeats: int = 3
    seed: int = 0
    threads: int = 0

    def __post_init__(self) -> None:
        settings = build(ATTRIBUTIONS[self.method].Settings, self.settings, f"settings of {self.method}")
        self.settings = asdict(settings)
        if self.target not in ("pred", "true"):
            raise DataError(f"target {self.target!r}: use 'pred' (predicted class) or 'true' (label)")
        if self.max_images < 0:
            raise DataError(f"max_images must be 0 (all images) or positive, got {self.max_images}")


@dataclass
class _Collected:
    rows: list[pd.DataFrame] = field(default_factory=list)
    tiles: dict[tuple[str, str], object] = field(default_factory=dict)
    consistency: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    curves: list[pd.DataFrame] = field(default_factory=list)
    sanity_ids: list[str] = field(default_factory=list)


def choose_images(predictions: pd.DataFrame, max_images: int = 0) -> list[str]:
    """Validation image ids of one (model, fold), whole pairs, at most ``max_images`` (0 = all), file order."""
    groups = predictions["pair_id"].where(predictions["pair_id"] != "", predictions["image_id"])
    chosen: list[str] = []
    for _, members in predictions.groupby(groups, sort=False):
        if max_images and len(chosen) + len(members) > max_images:
            break
        chosen.extend(members["image_id"])
    return chosen if chosen or not max_images else list(predictions["image_id"][:max_images])


def audit_run(run: Run, config: AuditConfig, analysis: Path, *, progress: bool = True) -> list[Path]:
    """Compute and write the audit of every finished (model, fold) of ``run`` under
    ``analysis/attributions/<method>/``; return the written files."""
    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        return _audit(run, config, analysis, progress)
    finally:
        torch.set_num_threads(threads)


def sample_images(run: Run, predictions: pd.DataFrame, config: AuditConfig) -> tuple[set[str], list[str]]:
    """The audited image ids (``max_images`` over all folds) and the sanity images among them.

    Both are seeded, subject-stratified samples (:func:`interp.audit.sampling.stratified_sample`);
    the sanity images come from the images that no fold of the run trains on when there are any
    (a test set), else from all audited images.
    """
    validation = predictions.drop_duplicates("image_id")[["image_id", "pair_id", "subject"]]
    audited = set(stratified_sample(validation, config.max_images, config.seed))
    pool = validation[validation["image_id"].isin(audited)]
    unseen = pool[pool["image_id"].isin(never_trained(run))]
    sanity = stratified_sample(unseen if len(unseen) else pool, config.sanity_images, config.seed + 1)
    return audited, sanity


def never_trained(run: Run) -> set[str]:
    """Image ids that no fold of the run trains on (the test set of a cross-dataset run)."""
    table = run.manifest()
    seen = np.zeros(len(table), dtype=bool)
    for fold in run.folds:
        seen |= rundir.fold_rows(table, fold)[0]
    return set(table.loc[~seen, "image_id"])


def _audit(run: Run, config: AuditConfig, analysis: Path, progress: bool) -> list[Path]:
    images = RunImages(run.manifest(), run.path)
    predictions = run.predictions()
    tasks = run.fold_dirs()
    of_fold = {(m, f): predictions[(predictions["model"] == m) & (predictions["fold"] == f)] for m, f, _ in tasks}
    audited, sanity_ids = sample_images(run, predictions, config)
    chosen = {key: list(table.loc[table["image_id"].isin(audited), "image_id"]) for key, table in of_fold.items()}
    first_table = of_fold[(tasks[0][0], tasks[0][1])]
    first = chosen[(tasks[0][0], tasks[0][1])]
    overlay_ids = choose_images(first_table[first_table["image_id"].isin(first)], 2 * config.overlay_pairs)
    pe_ids = pe_image_ids(run.manifest())
    collected, written = _Collected(sanity_ids=sanity_ids), []
    bar = tqdm(total=sum(map(len, chosen.values())), unit="img", desc=f"attributions ({config.method})",
               disable=not progress)
    for model_name, fold, folder in tasks:
        if not chosen[(model_name, fold)]:  # the sample drew no image of this fold (small max_images)
            continue
        model, fold_config = load_fold_model(folder)
        image = run.image_input(fold_config)  # study.json, the one source; the checkpoint's copy must agree
        setting = _FoldSetting(model_name, fold, image.size, image.face_crop, fold_config["normalisation"])
        selection = images.select(chosen[(model_name, fold)], setting.size, setting.face_crop)
        frame, maps, targets = _audit_fold(model, selection, setting, config, images)
        frame["pe"] = frame["image_id"].isin(pe_ids)  # image of a complete validated pair: in the PE views
        _check_predictions(frame, of_fold[(model_name, fold)], folder)
        collected.rows.append(frame)
        written.append(_write_maps(layout.maps_path(analysis, config.method, model_name, fold), selection, maps, targets,
                                   frame["pred"].map(CLASSES.index).to_numpy(), config.map_size))
        written += _overlays(analysis, config.method, selection, maps, frame, overlay_ids, setting, collected)
        if config.sanity and sanity_ids:
            _sanity_fold(model, images.select(sanity_ids, setting.size, setting.face_crop), setting, config, collected)
        bar.update(len(selection.image_ids))
    bar.close()
    return written + _write_tables(run, analysis, config, collected)


@dataclass(frozen=True)
class _FoldSetting:
    model: str
    fold: int
    size: int
    face_crop: bool
    normalisation: dict

    def inputs(self, images: np.ndarray) -> torch.Tensor:
        return to_model_input(images, self.normalisation["mean"], self.normalisation["std"])


def _check_predictions(frame: pd.DataFrame, recorded: pd.DataFrame, folder: Path) -> None:
    """Warn when recomputed predictions differ from predictions.csv (e.g. bf16 vs float32)."""
    stored = recorded.set_index("image_id").loc[frame["image_id"], "pred"].to_numpy()
    differ = float(np.mean(stored != frame["pred"].to_numpy())) if len(frame) else 0.0
    if differ > 0.01:
        log.warning("%s: %.1f%% of recomputed predictions differ from predictions.csv; the maps explain the "
                    "recomputed ones (the table's pred/correct columns)", folder, 100 * differ)


def _audit_fold(model: nn.Module, selection: Selection, setting: _FoldSetting, config: AuditConfig,
                images: RunImages) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    inputs = setting.inputs(selection.images)
    target = "pred" if config.target == "pred" else selection.labels
    with create(config.method, model, batch_size=config.batch_size, bf16=config.bf16, **config.settings) as method:
        result = method.attribute(inputs, target=target)
    table = images.manifest.table.set_index("image_id").loc[selection.image_ids]
    preds = result.preds
    frame = pd.DataFrame({
        "model": setting.model, "fold": setting.fold, "image_id": selection.image_ids,
        "subject": table["subject"].to_numpy(), "pair_id": table["pair_id"].to_numpy(),
        "label": [CLASSES[i] for i in selection.labels], "pred": [CLASSES[i] for i in preds],
        "correct": preds == selection.labels, "masked": selection.masked,
        "target": [CLASSES[i] for i in result.targets], "method": config.method,
        "mask_share": selection.regions["mask"].mean(axis=(1, 2)),
        "mask_polygon_source": selection.polygon_sources, "has_landmarks": selection.has_landmarks,
    })
    for name, values in score_regions(result.maps, selection.regions).items():
        frame[name] = values
    if config.sanity:
        frame = _per_image_sanity(model, inputs, selection, result.maps, frame, config, images, setting.size)
    return frame, result.maps, result.targets


def _per_image_sanity(model: nn.Module, inputs: torch.Tensor, selection: Selection, maps: np.ndarray,
                      frame: pd.DataFrame, config: AuditConfig, images: RunImages, size: int) -> pd.DataFrame:
    has_mask = selection.regions["mask"].any(axis=(1, 2))
    if has_mask.any():
        faith = faithfulness(model, inputs[torch.from_numpy(has_mask)], selection.labels[has_mask],
                             selection.regions["mask"][has_mask], repeats=config.faithfulness_repeats,
                             seed=config.seed, batch_size=config.batch_size)
        frame.loc[has_mask, "faith_correct_occluded"] = faith["correct_occluded"].to_numpy()
        frame.loc[has_mask, "faith_correct_random"] = faith["correct_random"].to_numpy()
    evidence = images.evidence(selection, size)
    if evidence is not None:
        agreement = evidence_agreement(maps, _pool(evidence, config.map_size))
        for column in ("spearman", "evidence_fraction", "evidence_rank_accuracy"):
            name = column if column.startswith("evidence") else f"evidence_{column}"
            frame[name] = agreement[column].to_numpy()
    return frame


def _pool(maps: np.ndarray, size: int) -> np.ndarray:
    tensor = torch.from_numpy(np.asarray(maps, dtype=np.float32)).unsqueeze(1)
    return nn.functional.adaptive_avg_pool2d(tensor, size)[:, 0].numpy()


def _sanity_fold(model: nn.Module, selection: Selection, setting: _FoldSetting, config: AuditConfig,
                 collected: _Collected) -> None:
    inputs = setting.inputs(selection.images)
    with create(config.method, model, batch_size=config.batch_size, bf16=config.bf16, **config.settings) as method:
        maps = method.attribute(inputs, target="pred").maps
    collected.consistency.setdefault(setting.model, {})[setting.fold] = _pool(maps, config.map_size)
    if not config.randomisation_folds or len(collected.consistency[setting.model]) <= config.randomisation_folds:
        curve = randomisation_curve(model, inputs, method=config.method, max_stages=config.randomisation_stages,
                                    batch_size=config.batch_size, seed=config.seed, settings=config.settings,
                                    regions=selection.regions)
        curve.insert(0, "fold", setting.fold)
        curve.insert(0, "model", setting.model)
        curve["image_id"] = [selection.image_ids[i] for i in curve["image"]]
        collected.curves.append(curve.drop(columns="image"))


def _write_maps(path: Path, selection: Selection, maps: np.ndarray, targets: np.ndarray, preds: np.ndarray,
                map_size: int) -> Path:
    with atomic_open(path, "wb") as handle:
        np.savez_compressed(handle, image_id=np.asarray(selection.image_ids, dtype=str),
                            maps=_pool(maps, map_size).astype(np.float16), targets=targets.astype(np.int16),
                            preds=preds.astype(np.int16))
    return path


def _overlays(analysis: Path, method: str, selection: Selection, maps: np.ndarray, frame: pd.DataFrame, overlay_ids: list[str],
              setting: _FoldSetting, collected: _Collected) -> list[Path]:
    written = []
    for index, image_id in enumerate(selection.image_ids):
        if image_id not in overlay_ids:
            continue
        tile = overlay(selection.images[index], maps[index], correct=bool(frame["correct"].iloc[index]),
                       polygon=selection.polygons[index])
        collected.tiles[(setting.model, image_id)] = tile
        written.append(save_png(tile, layout.overlay_path(analysis, method, setting.model, image_id)))
    return written


def _write_tables(run: Run, analysis: Path, config: AuditConfig, collected: _Collected) -> list[Path]:
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
    summary = summarise(images)
    if not summary.empty:
        summary = summary.merge(coverage_by_subset(images), on=["model", "subset"], how="left")
        summary = summary.merge(null_references(images, collected.curves), on=["model", "subset", "class"],
                                how="left")
    written += save(summary, "attention_summary")
    by_polygon = summary_by_polygon(images, summarise)
    if not by_polygon.empty:
        written += save(by_polygon, "attention_summary_by_polygon")
    written += save(pd.DataFrame(metric_metadata()), "attention_metrics")
    comparisons = _comparisons(run, images, config)
    if not comparisons.empty:
        written += save(comparisons, "attention_comparisons")
    if collected.tiles:
        written.append(_figure6(layout.figure6_path(analysis, config.method), images, collected))
    if config.sanity:
        written += _write_sanity(run, images, collected, config, save)
    description = {"config": asdict(config), "method": {"name": config.method,
                   "description": ATTRIBUTIONS[config.method].description,
                   "reference": ATTRIBUTIONS[config.method].reference},
                   "metrics": metric_metadata(), "images": len(images),
                   "geometry": {**coverage, "warning": warning},
                   "files": sorted(p.relative_to(out).as_posix() for p in written)}
    with atomic_open(out / layout.AUDIT_FILE) as handle:
        json.dump(description, handle, indent=1)
    return written + [out / layout.AUDIT_FILE]


def _comparisons(run: Run, images: pd.DataFrame, config: AuditConfig) -> pd.DataFrame:
    baseline = pick_baseline(run.models, config.baseline)
    if baseline is None:
        log.info("no baseline model in %s: skipping the mask-fraction comparisons", run.models)
        return pd.DataFrame()
    frames = [compare_to_baseline(images, BaselineTest(baseline, config.compare, subset=subset), run.fold_sizes)
              for subset in ("M", "NM")]
    if PE_BASELINE in run.models:  # Table 5: the pair-trained methods against the pair-trained baseline
        methods = tuple(table5_methods(run.models))
        frames += [compare_to_baseline(images, BaselineTest(PE_BASELINE, methods, subset=subset), run.fold_sizes)
                   for subset in ("PE-M", "PE-NM")]
    return pd.concat([f for f in frames if not f.empty] or [pd.DataFrame()], ignore_index=True)


def _figure6(target: Path, images: pd.DataFrame, collected: _Collected) -> Path:
    models = list(dict.fromkeys(model for model, _ in collected.tiles))
    image_ids = list(dict.fromkeys(image_id for _, image_id in collected.tiles))
    outcome = images.set_index(["model", "image_id"])
    tiles, captions = [], []
    for model in models:
        for image_id in image_ids:
            if (model, image_id) not in collected.tiles:
                continue
            row = outcome.loc[(model, image_id)]
            row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
            tiles.append(collected.tiles[(model, image_id)])
            captions.append(f"{model}: {row['label']} -> {row['pred']}")
    return save_png(contact_sheet(tiles, captions, columns=len(image_ids)), target)


def null_references(images: pd.DataFrame, curves: list[pd.DataFrame]) -> pd.DataFrame:
    """The two null references of the mask fraction per model, subset and class (and ``all``).

    ``mask_share``: the mean share of the image the mask polygon covers, which is what a uniform map
    scores. ``randomised_mask_fraction``: the mean mask fraction of the fully randomised model's maps
    (the last stage of the randomisation cascade) on the sanity images, what this architecture and
    attribution method give without anything learnt; ``n_randomised`` images behind it.
    """
    table = with_views(images)
    keys = ["model", "subset", "class"]
    share = pd.concat([table.assign(**{"class": table["label"]}), table.assign(**{"class": ALL_CLASSES})])
    frame = share.groupby(keys, sort=False)["mask_share"].mean().reset_index()
    if not curves or "mask_fraction" not in curves[0]:
        return frame.assign(randomised_mask_fraction=np.nan, n_randomised=0)
    curve = pd.concat(curves, ignore_index=True)
    last = curve[curve["stage"] == curve.groupby(["model", "fold"])["stage"].transform("max")]
    facts = images.drop_duplicates("image_id").set_index("image_id")
    last = with_views(last.join(facts[[c for c in ("masked", "label", "pe") if c in facts]], on="image_id"))
    both = pd.concat([last.assign(**{"class": last["label"]}), last.assign(**{"class": ALL_CLASSES})])
    randomised = both.groupby(keys, sort=False)["mask_fraction"].agg(
        randomised_mask_fraction="mean", n_randomised="count").reset_index()
    frame = frame.merge(randomised, on=keys, how="left")
    frame["n_randomised"] = frame["n_randomised"].fillna(0).astype(int)
    return frame


def consistency_table(run: Run, collected: _Collected) -> pd.DataFrame:
    """Cross-fold agreement per model and kind (held-out, held-out vs trained, trained) of fold-model pairs.

    Columns: model, kind, k (fold models), n_images, n_pairs, and the mean and sd (over images) of
    each similarity. ``held-out`` rows exist only where no model of a pair trained on the image (a
    test set): only they measure agreement on unseen faces.
    """
    table = run.manifest()
    row = {image_id: index for index, image_id in enumerate(table["image_id"])}
    rows = [row[image_id] for image_id in collected.sanity_ids]
    similarity = ["spearman", "spearman_abs", "ssim"]
    frames = []
    for model, maps in collected.consistency.items():
        if len(maps) < 2:
            continue
        trained = {fold: rundir.fold_rows(table, fold)[0][rows] for fold in maps}
        pairs = consistency_pairs(maps, trained)
        per_image = pairs.groupby(["kind", "image"], sort=False)[similarity].mean().reset_index()
        summary = per_image.groupby("kind", sort=False)[similarity].agg(["mean", "std"]).pipe(_flatten)
        summary["n_images"] = per_image.groupby("kind", sort=False).size()
        summary["n_pairs"] = pairs.groupby("kind", sort=False).size()
        frames.append(summary.reset_index().assign(model=model, k=len(maps)))
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    return frame[["model", "kind", "k", "n_images", "n_pairs"]
                 + [c for c in frame.columns if c.split("_")[0] in ("spearman", "ssim")]]


def _write_sanity(run: Run, images: pd.DataFrame, collected: _Collected, config: AuditConfig,
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
    consistency = consistency_table(run, collected)
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


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [f"{name}_{stat}" for name, stat in frame.columns]
    return frame
