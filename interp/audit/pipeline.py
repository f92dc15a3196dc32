"""The attention audit of a run, the computing half: maps, per-image region metrics and shift indices,
randomised-network nulls, sanity checks; :mod:`interp.audit.write` summarises and writes.

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

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from interp import layout
from interp.attribution import create, to_model_input
from interp.audit.arms import load_audited_arm
from interp.audit.config import AuditConfig
from interp.audit.inputs import RunImages, Selection
from interp.audit.map_checks import MapChecks
from interp.audit.nulls import NullPool, content_maps
from interp.audit.sampling import stratified_sample
from interp.audit.sanity import draw_seed, evidence_agreement, faithfulness, randomisation_curve
from interp.audit.shift import shift_shares
from interp.audit.summaries import pool
from interp.audit.targets import explained_classes
from interp.audit.write import Collected, write_maps, write_overlays, write_tables
from interp.regions import score_regions
from interp.runs import Run
from interp.tables import pe_image_ids
from trainers import rundir
from trainers.data.labels import CLASSES
from trainers.models.checkpoint import load_fold_model

log = logging.getLogger(__name__)

__all__ = ["AuditConfig", "audit_run", "choose_images", "never_trained", "sample_images"]


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
    """The audited image ids (``max_images`` over all folds of the ``view``) and the sanity images among them.

    Both are seeded, subject-stratified samples (:func:`interp.audit.sampling.stratified_sample`);
    the sanity images come from the images that no fold of the run trains on when there are any
    (a test set), else from all audited images.
    """
    validation = predictions.drop_duplicates("image_id")[["image_id", "pair_id", "subject"]]
    if config.view == "pe":
        pe = validation[validation["image_id"].isin(pe_image_ids(run.manifest()))]
        if len(pe):
            validation = pe
        else:
            log.info("view 'pe': the run has no complete validated pair; auditing all validation images")
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
    collected, written = Collected(sanity_ids=sanity_ids), []
    checks = _map_checks(predictions, audited, config)
    nulls = NullPool.plan(predictions, chosen, draws=config.null_draws, pairs=config.null_pairs, method=config.method,
                          batch_size=config.batch_size, settings=config.settings, seed=config.seed,
                          shared=config.target == "true")
    bar = tqdm(total=sum(map(len, chosen.values())), unit="img", desc=f"attributions ({config.method})",
               disable=not progress)
    for model_name, fold, folder in tasks:
        if not chosen[(model_name, fold)]:  # the sample drew no image of this fold (small max_images)
            continue
        model, setting = _fold_model(run, model_name, fold, folder)
        selection = images.select(chosen[(model_name, fold)], setting.size, setting.face_crop)
        frame, maps, targets, grid = _audit_fold(model, selection, setting, config, images, collected)
        frame["pe"] = frame["image_id"].isin(pe_ids)  # image of a complete validated pair: in the PE views
        _check_predictions(frame, of_fold[(model_name, fold)], folder)
        collected.rows.append(frame)
        checks.add_fold(model, setting.inputs(selection.images), selection, maps, targets, frame, images)
        written.append(write_maps(layout.maps_path(analysis, config.method, model_name, fold), selection, maps, targets,
                                   frame["pred"].map(CLASSES.index).to_numpy(), config.map_size))
        written += write_overlays(analysis, config.method, model_name, selection, maps, frame, overlay_ids, collected)
        if config.null_draws:
            collected.nulls.append(_null_fold(nulls, images, model, selection, setting, targets, grid, collected))
        if config.sanity and sanity_ids:
            _sanity_fold(model, images.select(sanity_ids, setting.size, setting.face_crop), setting, config, collected)
        bar.update(len(selection.image_ids))
    bar.close()
    return written + write_tables(run, analysis, config, collected) + checks.write(run, analysis)


def _map_checks(predictions: pd.DataFrame, audited: set[str], config: AuditConfig) -> MapChecks:
    """Faithfulness, method agreement and the common face frame of the audited images
    (:mod:`interp.audit.map_checks`; options ``faithfulness.*`` and ``agreement.*``)."""
    pool = predictions.loc[predictions["image_id"].isin(audited), ["image_id", "pair_id", "subject"]]
    return MapChecks.plan(pool, config.method, config.faithfulness, config.agreement,
                          batch_size=config.batch_size, seed=config.seed)


@dataclass(frozen=True)
class FoldSetting:
    """One (arm, fold): its input size and crop, and how images become its input."""

    model: str
    fold: int
    size: int
    face_crop: bool
    normalisation: dict
    preprocess: Callable[[np.ndarray], torch.Tensor] | None = None  # an audited model's card

    def inputs(self, images: np.ndarray) -> torch.Tensor:
        if self.preprocess is not None:
            return self.preprocess(images)
        return to_model_input(images, self.normalisation["mean"], self.normalisation["std"])


def _fold_model(run: Run, model_name: str, fold: int, folder: Path) -> tuple[nn.Module, FoldSetting]:
    """The model of one (arm, fold) and how its inputs are made: an audited arm from its card
    (:mod:`interp.audit.arms`), a trained arm from its checkpoint."""
    audited = load_audited_arm(run.path, run.study, model_name)
    if audited is not None:
        card = audited.card
        return audited, FoldSetting(model_name, fold, int(card.input_size), card.crop == "face",
                                     {"mean": list(card.mean), "std": list(card.std)}, card.preprocess)
    model, fold_config = load_fold_model(folder)
    image = run.image_input(fold_config)  # study.json, the one source; the checkpoint's copy must agree
    return model, FoldSetting(model_name, fold, image.size, image.face_crop, fold_config["normalisation"])


def _check_predictions(frame: pd.DataFrame, recorded: pd.DataFrame, folder: Path) -> None:
    """Warn when recomputed predictions differ from predictions.csv (e.g. bf16 vs float32)."""
    stored = recorded.set_index("image_id").loc[frame["image_id"], "pred"].to_numpy()
    differ = float(np.mean(stored != frame["pred"].to_numpy())) if len(frame) else 0.0
    if differ > 0.01:
        log.warning("%s: %.1f%% of recomputed predictions differ from predictions.csv; the maps explain the "
                    "recomputed ones (the table's pred/correct columns)", folder, 100 * differ)


def _audit_fold(model: nn.Module, selection: Selection, setting: FoldSetting, config: AuditConfig,
                images: RunImages, collected: Collected) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, tuple | None]:
    """Per-image table, maps, explained classes and the maps' native grid of one (arm, fold)."""
    inputs = setting.inputs(selection.images)
    table = images.manifest.table.set_index("image_id").loc[selection.image_ids]
    target = explained_classes(model, inputs, selection, table["pair_id"].to_numpy(), config.target, config.batch_size)
    with create(config.method, model, batch_size=config.batch_size, bf16=config.bf16, **config.settings) as method:
        result = method.attribute(inputs, target=target)
    _record_layer(collected, setting, model, method)
    preds = result.preds
    frame = pd.DataFrame({
        "model": setting.model, "fold": setting.fold, "image_id": selection.image_ids,
        "subject": table["subject"].to_numpy(), "pair_id": table["pair_id"].to_numpy(),
        "label": [CLASSES[i] if i >= 0 else "" for i in selection.labels], "pred": [CLASSES[i] for i in preds],
        "correct": preds == selection.labels, "masked": selection.masked,
        "target": [CLASSES[i] for i in result.targets], "method": config.method,
        "mask_share": selection.regions["mask"].mean(axis=(1, 2)),
        "mask_polygon_source": selection.polygon_sources, "has_landmarks": selection.has_landmarks,
        "anchor": selection.anchors,
    })
    for name, values in score_regions(result.maps, selection.regions).items():
        frame[name] = values
    frame = pd.concat([frame, shift_shares(result.maps, selection.regions, method.grid)], axis=1)
    content = shift_shares(content_maps(selection.images, method.grid), selection.regions, method.grid)
    frame["content_index"] = content["shift_index"].to_numpy()
    if config.sanity:
        frame = _per_image_sanity(model, inputs, selection, result.maps, frame, config, images, setting.size)
    return frame, result.maps, result.targets, method.grid


def _record_layer(collected: Collected, setting: FoldSetting, model: nn.Module, method: object) -> None:
    """Keep, once per arm, the layer its maps come from and their native grid (``audit.json`` ``layers``)."""
    layer, grid = getattr(method, "layer_name", None), getattr(method, "grid", None)
    kind = f"{type(model).__name__}:{layer}" if layer else type(model).__name__
    collected.layers.setdefault(setting.model, {"layer": layer, "grid": list(grid) if grid else None,
                                                "input_size": setting.size, "map_kind": kind})


def _null_fold(nulls: NullPool, images: RunImages, model: nn.Module, selection: Selection, setting: FoldSetting,
               targets: np.ndarray, grid: tuple[int, int] | None, collected: Collected) -> pd.DataFrame:
    """Region metrics and shift index of randomised networks on the fold's null pairs, explaining the same
    classes (:class:`interp.audit.nulls.NullPool`: arms of one map kind and input share the draws)."""
    kind = "|".join(map(str, (collected.layers[setting.model]["map_kind"], setting.size, setting.face_crop,
                              sorted(setting.normalisation.items()))))
    explained = dict(zip(selection.image_ids, targets))

    def inputs_of(image_ids: list[str]) -> tuple[torch.Tensor, np.ndarray, dict[str, np.ndarray]]:
        chosen = images.select(image_ids, setting.size, setting.face_crop)
        classes = chosen.labels if nulls.shared else np.array([explained[i] for i in image_ids])
        return setting.inputs(chosen.images), classes, chosen.regions

    null = nulls.explain(model, setting.model, kind, setting.fold, inputs_of, grid)
    return null.assign(model=setting.model)


def _per_image_sanity(model: nn.Module, inputs: torch.Tensor, selection: Selection, maps: np.ndarray,
                      frame: pd.DataFrame, config: AuditConfig, images: RunImages, size: int) -> pd.DataFrame:
    has_mask = selection.regions["mask"].any(axis=(1, 2)) & (selection.labels >= 0)  # accuracy needs a label
    if has_mask.any():
        faith = faithfulness(model, inputs[torch.from_numpy(has_mask)], selection.labels[has_mask],
                             selection.regions["mask"][has_mask], repeats=config.faithfulness_repeats,
                             seed=config.seed, batch_size=config.batch_size)
        frame.loc[has_mask, "faith_correct_occluded"] = faith["correct_occluded"].to_numpy()
        frame.loc[has_mask, "faith_correct_random"] = faith["correct_random"].to_numpy()
    evidence = images.evidence(selection, size)
    if evidence is not None:
        agreement = evidence_agreement(maps, pool(evidence, config.map_size))
        for column in ("spearman", "evidence_fraction", "evidence_rank_accuracy"):
            name = column if column.startswith("evidence") else f"evidence_{column}"
            frame[name] = agreement[column].to_numpy()
    return frame


def _sanity_fold(model: nn.Module, selection: Selection, setting: FoldSetting, config: AuditConfig,
                 collected: Collected) -> None:
    inputs = setting.inputs(selection.images)
    with create(config.method, model, batch_size=config.batch_size, bf16=config.bf16, **config.settings) as method:
        maps = method.attribute(inputs, target="pred").maps
    collected.consistency.setdefault(setting.model, {})[setting.fold] = pool(maps, config.map_size)
    if not config.randomisation_folds or len(collected.consistency[setting.model]) <= config.randomisation_folds:
        curve = randomisation_curve(model, inputs, method=config.method, max_stages=config.randomisation_stages,
                                    batch_size=config.batch_size, settings=config.settings,
                                    seed=draw_seed(config.seed, setting.model, setting.fold),
                                    regions=selection.regions)
        curve.insert(0, "fold", setting.fold)
        curve.insert(0, "model", setting.model)
        curve["image_id"] = [selection.image_ids[i] for i in curve["image"]]
        collected.curves.append(curve.drop(columns="image"))
