"""Audit one model the suite did not train: a run directory of one arm with a single fold, then its analysis.

:func:`audit_model` (the Python API, for a notebook's ``nn.Module``) and :func:`audit_card` (what
``python -m interp.audit`` calls, for a model file, a factory or the built-in ``fer``) both write a run
directory that every reader of a trained study reads (``interp.analyze``, ``interp.results``, the
dashboard, the report)::

    RUN/study.json              k = 1, folds = [0], arms.<arm>.audited = resolved card, Grad-CAM layer,
                                outputs kind, features, model hash; audit = fold "all", target, counts
    RUN/manifest.csv            the manifest with fold 0 on every row
    RUN/<arm>/fold-0/           predictions.csv (7-class logits and prob_<class> of every model output),
                                embeddings.npy, history.csv (no epochs), checkpoint.pt (the audited
                                record, no weights), DONE
    RUN/analysis/               every analysis step, mask sensitivity included

**Fold ``all``.** The audit has no folds: every image is scored by the one model. On disk that is fold
``0`` of a one-fold split (``k = 1``), so the int-fold readers need nothing new; ``study.json`` says
``"audit": {"fold": "all", ...}`` and the report and dashboard label it so. No image was trained on
(:func:`trainers.rundir.fold_rows` gives fold 0 every row for evaluation and none for training).

**Atomic.** Everything is written into a hidden sibling folder and renamed onto ``RUN`` at the end, so a
failed audit leaves nothing half-written; an earlier audit in ``RUN`` is replaced, anything else there
is refused.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from interp.audit.arm_model import ArmModel, infer, make_arm
from interp.audit.arms import (
    AUDITED,
    PYTHON_SOURCE,
    as_module,
    file_sha256,
    provided_model,
    sample_batch,
)
from interp.external.card import ModelCard
from interp.external.outputs import to_probabilities
from trainers import rundir
from trainers.common.atomic import atomic_open
from trainers.common.errors import DataError
from trainers.common.provenance import provenance
from trainers.data.cache import load_images
from trainers.data.manifest import Manifest, content_hash

log = logging.getLogger(__name__)

AUDIT_KEY = "audit"
"""Key of the audit's record in ``study.json`` (its presence marks a study written by the audit)."""
FOLD_LABEL = "all"
TARGETS: tuple[str, ...] = ("true", "pair", "pred")
QUICK_CHECKS: dict[str, object] = {"null_draws": 0, "faithfulness": {"images": 0}, "agreement": {"images": 0}}
"""Attention-audit options that ``sanity=False`` (``--no-sanity``) also turns off."""
PROB_PREFIX = "prob_"
"""predictions.csv columns ``prob_<class>``: the model's probability of each of its outputs (extras included)."""


@dataclass
class AuditOptions:
    """Options of an audit.

    Attributes
    ----------
    target
        Class each map explains: ``true`` (the label), ``pair`` (the class the model predicts on the
        pair's non-masked image, for both images) or ``pred`` (each image's own prediction). ``None``:
        ``true`` when every image is labelled, else ``pair``.
    max_images
        At most this many images (whole pairs) get maps; 0 = all. Predictions cover every image.
    method
        Attribution method (:data:`interp.attribution.ATTRIBUTIONS`).
    sanity
        Run the audit's sanity checks (randomisation, faithfulness) and the other checks of the maps
        (the randomised-network null band, deletion/insertion faithfulness, method agreement:
        :data:`QUICK_CHECKS`); ``False`` keeps the maps, the region metrics and mask sensitivity only.
    batch_size
        Images per forward pass and per attribution batch.
    analyse
        Run ``interp.analyze`` on the new run directory (all steps).
    """

    target: str | None = None
    max_images: int = 0
    method: str = "gradcam"
    sanity: bool = True
    batch_size: int = 32
    analyse: bool = True

    def __post_init__(self) -> None:
        if self.target is not None and self.target not in TARGETS:
            raise DataError(f"--target {self.target!r}: use one of {', '.join(TARGETS)}")
        if self.max_images < 0:
            raise DataError(f"--max-images must be 0 (all images) or positive, got {self.max_images}")


def audit_model(model: object, manifest: str | Path | Manifest, card: ModelCard, out: str | Path,
                options: AuditOptions | None = None, **option_values: object) -> Path:
    """Audit an ``nn.Module`` on a paired manifest; write and analyse the run directory ``out``.

    Parameters
    ----------
    model
        A torch module taking the card's preprocessed ``(N, C, size, size)`` batch and returning
        ``(N, K)`` logits or probabilities (or an ``interp.external.load_model`` result).
    manifest
        A manifest file or :class:`~trainers.data.manifest.Manifest` with NM/M pairs (labels optional).
    card
        The model's card: name (the arm), input size, colour, mean/std, crop, outputs, classes
        (``interp.external.card.ModelCard``; fields left empty take the card's defaults).
    out
        The run directory to write.
    options, **option_values
        :class:`AuditOptions` (or its fields as keywords).

    Returns
    -------
    Path
        ``out``.
    """
    options = options or AuditOptions(**option_values)
    card = card if card.input_size and card.classes and card.mean else card.resolved()
    return _audit(as_module(model), card, manifest, Path(out), options, source=PYTHON_SOURCE)


def audit_card(card: ModelCard, manifest: str | Path | Manifest, out: str | Path,
               options: AuditOptions | None = None) -> Path:
    """Load the model a card names (:func:`interp.external.load_model`) and audit it (:func:`audit_model`)."""
    from interp.external import load_model

    out = Path(out)
    _check_out(out)
    loaded = load_model(card)
    return _audit(loaded.module, loaded.card, manifest, out, options or AuditOptions(), source="file")


def _audit(module, card: ModelCard, manifest: str | Path | Manifest, out: Path, options: AuditOptions,
           source: str) -> Path:
    _check_out(out)
    manifest = _read_manifest(manifest)
    labelled = bool((manifest.table["label"] != "").all())
    target = options.target or ("true" if labelled else "pair")
    if target == "true" and not labelled:
        raise DataError(f"--target true: {int((manifest.table['label'] == '').sum())} image(s) of the manifest "
                        "have no label; use --target pair (the class predicted on the non-masked image)")
    arm = make_arm(module, card, card.preprocess(sample_batch(card)))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        _write_run(staging, out.name, arm, manifest, options, target, labelled, source)
        if options.analyse:
            _analyse(staging, arm, options, target)
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("audit of %s written to %s", card.name, out)
    return out


def _check_out(out: Path) -> None:
    """Refuse an ``out`` that exists and is not an earlier audit (never overwrite a trained study)."""
    if out.exists() and not _is_audit(out):
        raise DataError(f"--out {out}: exists and is not an audit's run directory; choose a new folder "
                        "(an earlier audit there would be replaced)")


def _is_audit(folder: Path) -> bool:
    try:
        return AUDIT_KEY in rundir.read_study(folder)
    except DataError:
        return folder.is_dir() and not any(folder.iterdir())


def _read_manifest(manifest: str | Path | Manifest) -> Manifest:
    """The manifest, checked to hold at least one complete NM/M pair."""
    if not isinstance(manifest, Manifest):
        path = Path(manifest)
        if not path.is_file():
            raise DataError(f"--data {path}: no such manifest; make one with `python -m trainers data import` "
                            "(labels optional: --unlabelled) then `trainers data faces` and `trainers data mask`")
        manifest = Manifest.load(path)
    if not complete_pairs(manifest.table):
        raise DataError(f"--data {manifest.root}: the manifest has no pair of a non-masked and a masked image "
                        "(pair_id); add synthetic masks with `python -m trainers data mask MANIFEST --out DIR`")
    return manifest


def complete_pairs(table: pd.DataFrame) -> int:
    """How many pair ids join exactly one non-masked and one masked image (labels may be empty)."""
    paired = table[table["pair_id"] != ""].groupby("pair_id")["masked"].agg(["size", "sum"])
    return int(((paired["size"] == 2) & (paired["sum"] == 1)).sum())


def _write_run(folder: Path, study_name: str, arm: ArmModel, manifest: Manifest, options: AuditOptions,
               target: str, labelled: bool, source: str) -> None:
    card = arm.card
    frozen = manifest.with_table(manifest.table.assign(fold=0))
    rundir.write_manifest(folder, frozen)
    images = load_images(frozen, card.input_size, face_crop=card.crop == "face")
    inference = infer(arm, images, options.batch_size)
    fold = rundir.fold_dir(folder, card.name, 0)
    fold.mkdir(parents=True)
    predictions = rundir.prediction_table(frozen.table, inference.scores)
    probabilities = to_probabilities(inference.outputs, card).numpy()
    for index, name in enumerate(card.output_classes()):
        predictions[f"{PROB_PREFIX}{name}"] = probabilities[:, index]
    rundir.write_predictions(fold, predictions, inference.features)
    with atomic_open(fold / rundir.HISTORY_FILE, newline="") as handle:  # no training: no epochs
        pd.DataFrame(columns=["epoch"]).to_csv(handle, index=False)
    record = _arm_record(arm, source, inference.features_from)
    rundir.save_checkpoint(fold / rundir.CHECKPOINT_FILE, {AUDITED: record})
    rundir.write_done(fold, 0, 0.0)
    rundir.write_study(folder, {
        "schema": rundir.SCHEMA, "study": study_name, "preset": "audit", "models": [card.name],
        "k": 1, "folds": [0], "seed": 0, "manifest_hash": content_hash(manifest),
        "config": {"image_size": card.input_size, "face_crop": card.crop == "face", "k": 1, "epochs": 0},
        "arms": {card.name: {"role": "reference", "init": "audited", AUDITED: record}},
        AUDIT_KEY: {"fold": FOLD_LABEL, "target": target, "labelled": labelled, "images": len(manifest),
                    "pairs": complete_pairs(manifest.table), "max_images": options.max_images,
                    "method": options.method, "dataset_root": str(manifest.root)},
        "device": "cpu", **provenance(),
    })


def _arm_record(arm: ArmModel, source: str, features_from: str) -> dict:
    card = arm.card.to_dict()
    record = {"card": {**card, "layer": arm.layer.name}, "source": source, "outputs": arm.kind,
              "layer": {"name": arm.layer.name, "side": arm.layer.side, "rule": arm.layer.rule},
              "features": features_from, "output_classes": arm.card.output_classes()}
    if source != PYTHON_SOURCE and card.get("model") and Path(card["model"]).is_file():
        record["model_sha256"] = file_sha256(Path(card["model"]))
    return record


def _analyse(folder: Path, arm: ArmModel, options: AuditOptions, target: str) -> None:
    from interp.analyze import analyze
    from interp.audit.config import AuditConfig

    settings = {"method": options.method, "target": target, "max_images": options.max_images,
                "sanity": options.sanity, "batch_size": options.batch_size, "compare": ()}
    if not options.sanity:  # also the checks of the maps beside the sanity checks: null band, faithfulness, agreement
        known = {field.name for field in dataclasses.fields(AuditConfig)}
        settings.update({key: value for key, value in QUICK_CHECKS.items() if key in known})
    with provided_model(folder, arm.card.name, arm):  # t-SNE only: UMAP's first call compiles for seconds
        analyze(folder, options={"attributions": settings, "embeddings": {"methods": ("tsne",)}})


def _replace(staging: Path, out: Path) -> None:
    """Rename the finished ``staging`` folder onto ``out`` (an earlier audit there goes last)."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
