"""Checks of the audit's maps beyond the region metrics: faithfulness, method agreement, the common frame.

Run inside the attention audit (``python -m interp.analyze RUN --only attributions``), one (arm, fold)
model at a time, on images the audit already explains:

- **faithfulness** (:mod:`interp.faithfulness`): deletion and insertion curves of each map (ROAD
  imputation) and the drop of the explained class's probability when the upper or the lower face is
  removed, against an equal-area control on the face; on ``faithfulness.images`` images per arm;
- **agreement** (:mod:`interp.audit.agreement`): a second attribution method of another family
  (``agreement.method``, integrated gradients by default) on ``agreement.images`` images per arm, its
  shift index beside the audit method's;
- **common frame** (:mod:`interp.audit.face_frame`): every audited map warped on its eye landmarks, and
  per arm the mean masked minus non-masked map of the pairs (the quantitative figure 6).

Both samples are seeded, subject-stratified samples of whole pairs taken from the audited images
(:func:`interp.audit.sampling.stratified_sample`), the same images for every arm.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from interp import layout
from interp.attribution import ATTRIBUTIONS, create
from interp.audit.agreement import agreement_summary
from interp.audit.face_frame import GRID, difference_map, warp
from interp.audit.inputs import RunImages, Selection
from interp.audit.sampling import stratified_sample
from interp.audit.shift import FACE, LOWER, REGIONS, UPPER, shift_shares, union
from interp.faithfulness import deletion_insertion, region_occlusion
from interp.faithfulness.imputation import NOISE
from interp.regions.face_axes import FaceAxes, face_axes
from interp.runs import Run
from interp.stats.bootstrap import cluster_bootstrap_difference
from interp.tables import with_init
from trainers.common.errors import DataError
from trainers.common.options import build
from trainers.data.landmarks import resolve_layout
from trainers.data.manifest import parse_points

log = logging.getLogger(__name__)

FAITHFULNESS_MEASURES = ("auc_deletion", "auc_insertion", "p_target", "drop_upper", "drop_upper_control",
                         "excess_upper", "drop_lower", "drop_lower_control", "excess_lower")
"""Per-image columns summarised in the ``faithfulness`` table (``excess_X = drop_X - drop_X_control``)."""
AGREEMENT_IG_STEPS = 4
"""Integrated-gradients steps of the agreement check unless ``agreement.settings.steps`` says otherwise."""


@dataclass
class FaithfulnessConfig:
    """Options of the faithfulness check (``--set attributions.faithfulness.OPTION=VALUE``).

    Attributes
    ----------
    images
        Images per arm over all folds (whole pairs, a subject-stratified sample of the audited images);
        0 = none (the check is off).
    steps
        Steps of the deletion and insertion curves (fractions 0, 1/steps, ..., 1 of the pixels).
    noise
        Standard deviation of ROAD's imputation noise, in normalised input units.
    control_repeats
        Equal-area control regions per image and region.
    """

    images: int = 8
    steps: int = 4
    noise: float = NOISE
    control_repeats: int = 1

    def __post_init__(self) -> None:
        if self.images < 0 or self.steps < 1 or self.control_repeats < 1 or self.noise < 0:
            raise DataError(f"faithfulness: images ({self.images}) must be >= 0, steps ({self.steps}) and "
                            f"control_repeats ({self.control_repeats}) >= 1, noise ({self.noise}) >= 0")


@dataclass
class AgreementConfig:
    """Options of the method-agreement check (``--set attributions.agreement.OPTION=VALUE``).

    Attributes
    ----------
    method
        The second attribution method (another family than the audit's; ``integrated_gradients`` or
        ``occlusion``).
    settings
        Its own settings (e.g. ``agreement.settings.steps=16``), resolved with its defaults, except that
        integrated gradients takes :data:`AGREEMENT_IG_STEPS` steps here unless told otherwise (the time
        budget of ``make demo``; only the ranking of the shift index is compared).
    images
        Images per arm over all folds (whole pairs, a subject-stratified sample of the audited images);
        0 = none (the check is off).
    """

    method: str = "integrated_gradients"
    settings: dict[str, Any] = field(default_factory=dict)
    images: int = 16

    def __post_init__(self) -> None:
        if self.method == "integrated_gradients":
            self.settings = {"steps": AGREEMENT_IG_STEPS, **self.settings}
        self.settings = asdict(build(ATTRIBUTIONS[self.method].Settings, self.settings,
                                     f"agreement settings of {self.method}"))
        if self.images < 0:
            raise DataError(f"agreement.images must be 0 (off) or positive, got {self.images}")


@dataclass
class MapChecks:
    """Collects the checks fold by fold (:meth:`add_fold`) and writes their tables (:meth:`write`).

    Build it with :meth:`plan`.
    """

    method: str
    faithfulness: FaithfulnessConfig
    agreement: AgreementConfig
    batch_size: int
    seed: int
    faithful_ids: set[str]
    agreement_ids: set[str]
    faithful_rows: list[pd.DataFrame] = field(default_factory=list)
    curve_rows: list[pd.DataFrame] = field(default_factory=list)
    agreement_rows: list[pd.DataFrame] = field(default_factory=list)
    warped: list[dict] = field(default_factory=list)

    @classmethod
    def plan(cls, audited: pd.DataFrame, method: str, faithfulness: FaithfulnessConfig, agreement: AgreementConfig,
             *, batch_size: int = 32, seed: int = 0) -> MapChecks:
        """The checks of an audit of the images ``audited`` (``image_id``, ``pair_id``, ``subject``).

        Raises
        ------
        DataError
            When the agreement's method is the audit's own.
        """
        if agreement.images and agreement.method == method:
            raise DataError(f"agreement.method {agreement.method!r} is the audit's own method: choose another "
                            f"family ({', '.join(name for name in ATTRIBUTIONS if name != method)})")
        pool = audited.drop_duplicates("image_id")
        faithful = set(stratified_sample(pool, faithfulness.images, seed + 2)) if faithfulness.images else set()
        agreeing = set(stratified_sample(pool, agreement.images, seed + 3)) if agreement.images else set()
        return cls(method, faithfulness, agreement, batch_size, seed, faithful, agreeing)

    def add_fold(self, model: nn.Module, inputs: torch.Tensor, selection: Selection, maps: np.ndarray,
                 targets: np.ndarray, frame: pd.DataFrame, images: RunImages) -> None:
        """Run the checks on one (arm, fold): ``frame`` is its rows of the audit's ``images`` table (same
        order as ``selection``), ``maps`` the audit method's maps and ``targets`` the explained classes."""
        keys = frame[["model", "fold", "image_id", "subject", "pair_id", "masked", "label", "target"]].reset_index(drop=True)
        axes = eye_axes(images, selection)
        for index, found in enumerate(axes):
            if found is not None:
                self.warped.append({**keys.iloc[index][["model", "fold", "pair_id", "masked"]].to_dict(),
                                    "map": warp(maps[index], found)})
        chosen = np.flatnonzero([i in self.faithful_ids for i in selection.image_ids])
        if len(chosen) and all(name in selection.regions for name in REGIONS):
            self._faithfulness(model, inputs, selection, maps, targets, keys, chosen)
        chosen = np.flatnonzero([i in self.agreement_ids for i in selection.image_ids])
        if len(chosen) and all(name in selection.regions for name in REGIONS):
            self._agreement(model, inputs, selection, maps, targets, frame, keys, chosen)

    def _faithfulness(self, model: nn.Module, inputs: torch.Tensor, selection: Selection, maps: np.ndarray,
                      targets: np.ndarray, keys: pd.DataFrame, chosen: np.ndarray) -> None:
        config = self.faithfulness
        index = torch.from_numpy(chosen)
        curves = deletion_insertion(model, inputs[index], maps[chosen], targets[chosen], steps=config.steps,
                                    noise=config.noise, seed=self.seed, batch_size=self.batch_size)
        regions = {name: selection.regions[name][chosen] for name in REGIONS}
        occlusion = region_occlusion(
            model, inputs[index], targets[chosen], {"upper": union(regions, UPPER), "lower": union(regions, LOWER)},
            union(regions, FACE), repeats=config.control_repeats, noise=config.noise, seed=self.seed,
            batch_size=self.batch_size)
        rows = keys.iloc[chosen].reset_index(drop=True)
        rows["auc_deletion"], rows["auc_insertion"] = curves.auc_deletion, curves.auc_insertion
        rows = pd.concat([rows, occlusion], axis=1)
        for name in ("upper", "lower"):
            rows[f"excess_{name}"] = rows[f"drop_{name}"] - rows[f"drop_{name}_control"]
        self.faithful_rows.append(rows)
        for curve in ("deletion", "insertion"):
            values = getattr(curves, curve)
            self.curve_rows.append(pd.DataFrame({
                "model": np.repeat(rows["model"].to_numpy(), len(curves.fractions)),
                "masked": np.repeat(rows["masked"].to_numpy(), len(curves.fractions)),
                "curve": curve, "fraction": np.tile(curves.fractions, len(rows)), "probability": values.ravel()}))

    def _agreement(self, model: nn.Module, inputs: torch.Tensor, selection: Selection, maps: np.ndarray,
                   targets: np.ndarray, frame: pd.DataFrame, keys: pd.DataFrame, chosen: np.ndarray) -> None:
        config = self.agreement
        with create(config.method, model, batch_size=self.batch_size, **config.settings) as method:
            second = method.attribute(inputs[torch.from_numpy(chosen)], target=targets[chosen]).maps
        regions = {name: selection.regions[name][chosen] for name in REGIONS}
        if "shift_index" in frame.columns:  # the audit's own index (its coarse-map band included)
            first = frame["shift_index"].to_numpy(dtype=float)[chosen]
        else:
            first = shift_shares(maps[chosen], regions)["shift_index"].to_numpy()
        rows = keys.iloc[chosen].reset_index(drop=True)
        rows["method_a"], rows["method_b"] = self.method, config.method
        rows["u_a"], rows["u_b"] = first, shift_shares(second, regions)["shift_index"].to_numpy()
        self.agreement_rows.append(rows)

    def write(self, run: Run, analysis: Path) -> list[Path]:
        """Write the checks' tables under ``analysis/attributions/<method>/`` (those that have rows)."""
        inits = run.inits()

        def save(frame: pd.DataFrame, name: str) -> list[Path]:
            return layout.write_table(with_init(frame, inits), analysis, name, self.method)

        written: list[Path] = []
        if self.faithful_rows:
            images = pd.concat(self.faithful_rows, ignore_index=True)
            images.insert(images.columns.get_loc("masked") + 1, "subset", np.where(images["masked"], "M", "NM"))
            written += save(images, "faithfulness_images")
            written += save(faithfulness_summary(images), "faithfulness")
            curves = pd.concat(self.curve_rows, ignore_index=True)
            curves["subset"] = np.where(curves["masked"], "M", "NM")
            curves = curves.groupby(["model", "subset", "curve", "fraction"], sort=False)["probability"].agg(
                probability="mean", n_images="count").reset_index()
            written += save(curves, "faithfulness_curves")
        if self.agreement_rows:
            images = pd.concat(self.agreement_rows, ignore_index=True)
            written += save(images, "attention_agreement_images")
            written += save(agreement_summary(images, self.method, self.agreement.method), "attention_agreement")
        if self.warped:
            written += save(difference_map(pd.DataFrame(self.warped), GRID), "attention_difference_map")
        return written


def faithfulness_summary(images: pd.DataFrame) -> pd.DataFrame:
    """Per model, subset (NM, M) and measure: mean over images with a subject cluster-bootstrap 95% interval.

    Returns
    -------
    pandas.DataFrame
        model, subset, measure (:data:`FAITHFULNESS_MEASURES`), mean, ci_low, ci_high, n_images, n_subjects.
    """
    rows = []
    for (model, subset), own in images.groupby(["model", "subset"], sort=False):
        for measure in FAITHFULNESS_MEASURES:
            defined = own.dropna(subset=[measure])
            row = {"model": model, "subset": subset, "measure": measure, "mean": np.nan, "ci_low": np.nan,
                   "ci_high": np.nan, "n_images": len(defined), "n_subjects": defined["subject"].nunique()}
            if len(defined):
                values = defined[measure].to_numpy(dtype=float)
                interval = cluster_bootstrap_difference(values, np.zeros_like(values), defined["subject"].tolist())
                row.update(mean=float(values.mean()), ci_low=interval.ci_low, ci_high=interval.ci_high)
            rows.append(row)
    return pd.DataFrame(rows)


def eye_axes(images: RunImages, selection: Selection) -> list[FaceAxes | None]:
    """Each selected image's face axes (eye centres) in its input frame; ``None`` without usable landmarks."""
    table = images.manifest.table
    found: list[FaceAxes | None] = []
    for image_id, frame in zip(selection.image_ids, selection.frames):
        record = table.iloc[images.row(image_id)]
        try:
            points = parse_points(record["landmarks"], images.manifest.root)
            axes = None if points is None else face_axes(frame.map(points), resolve_layout(record["landmark_layout"], points))
        except (DataError, OSError, ValueError):
            axes = None  # no landmarks, or a layout without both eyes: the map is left out of the frame
        found.append(axes)
    return found
