"""The ``analysis/`` directory contract: every table and figure folder, defined once.

``python -m interp.analyze`` writes these files through :func:`table_paths` and :func:`figure_paths`;
:mod:`interp.results` reads them through the same functions, and ``index.json`` lists every file a step
wrote (the allow-list the dashboard serves images from)::

    analysis/
      index.json                          steps: input hash, options, outputs, warnings, provenance
      tables/<name>.parquet|.csv          the tables of TABLES whose folder is "tables"
      figures/<name>.png|.svg             confusion-<model>, projection-<model>
      thumbnails/<image_id>.png           small face images of every image of the frozen manifest
      attributions/<method>/              images, summary, metrics, comparisons tables; audit.json
        maps/<model>/fold-<k>.npz         low-resolution maps
        overlays/<model>/<image_id>.png   figure-6 tiles; overlays/figure6.png
        sanity/<name>.parquet|.csv        randomisation, consistency, faithfulness, evidence
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trainers.common.atomic import atomic_path
from trainers.common.errors import DataError

ANALYSIS_DIR = "analysis"
INDEX_FILE = "index.json"
INDEX_SCHEMA = 1
TABLES_DIR = "tables"
FIGURES_DIR = "figures"
THUMBNAILS_DIR = "thumbnails"
ATTRIBUTIONS_DIR = "attributions"
AUDIT_FILE = "audit.json"
FIGURE6_FILE = "figure6.png"
TABLE_FORMATS: tuple[str, ...] = ("parquet", "csv")
FIGURE_FORMATS: tuple[str, ...] = ("png", "svg")


@dataclass(frozen=True)
class TableSpec:
    """One table of ``analysis/``.

    Attributes
    ----------
    name
        Key used by writers and readers (``accuracy``, ``attention_images``, ...).
    step
        The ``interp.analyze`` step that writes it (``--only STEP``).
    folder
        Folder relative to ``analysis/``; ``{method}`` stands for the attribution method.
    file
        File name without extension.
    description
        What one row is.
    """

    name: str
    step: str
    folder: str
    file: str
    description: str

    def base(self, analysis: Path, method: str | None = None) -> Path:
        """The table's path without extension under ``analysis``."""
        if "{method}" in self.folder and not method:
            raise ValueError(f"table {self.name!r} is per attribution method: pass method=")
        return analysis / self.folder.format(method=method) / self.file


_ATTRIBUTION = f"{ATTRIBUTIONS_DIR}/{{method}}"
_SPECS: tuple[TableSpec, ...] = (
    TableSpec("dataset", "tables", TABLES_DIR, "dataset", "per class: non-masked, masked, total, pairs (Table 2)"),
    TableSpec("accuracy_folds", "tables", TABLES_DIR, "accuracy_folds", "per model, fold and subset: accuracy, macro-F1"),
    TableSpec("accuracy", "tables", TABLES_DIR, "accuracy", "per model and subset: mean, sd, CI over folds"),
    TableSpec("per_class_recall_folds", "tables", TABLES_DIR, "per_class_recall_folds",
              "per model, fold, subset and class: recall"),
    TableSpec("per_class_recall", "tables", TABLES_DIR, "per_class_recall",
              "per model, subset and class: recall mean, sd, CI (Table 6)"),
    TableSpec("confusion_folds", "tables", TABLES_DIR, "confusion_folds", "per model, fold, subset, true, pred: count"),
    TableSpec("confusion_pooled", "tables", TABLES_DIR, "confusion_pooled",
              "per model, subset, true, pred: count summed over folds, row share"),
    TableSpec("histories", "tables", TABLES_DIR, "histories", "per model, fold and epoch: training history"),
    TableSpec("comparisons", "stats", TABLES_DIR, "comparisons", "per family, comparison and test: effect, CI, p"),
    TableSpec("tests", "stats", TABLES_DIR, "tests", "per statistical test: assumptions, reference"),
    TableSpec("calibration_folds", "calibration", TABLES_DIR, "calibration_folds",
              "per model, subset (NM, M) and fold: ECE (15 bins), Brier score, mean confidence, accuracy"),
    TableSpec("calibration", "calibration", TABLES_DIR, "calibration",
              "per model and subset: ECE, Brier, confidence, accuracy mean, sd, corrected CI over folds"),
    TableSpec("reliability", "calibration", TABLES_DIR, "reliability",
              "per model, subset and confidence bin, pooled over folds: count, mean confidence, accuracy"),
    TableSpec("predicted_classes", "calibration", TABLES_DIR, "predicted_classes",
              "per model, subset and class, pooled over folds: true and predicted counts and shares"),
    TableSpec("embedding_quality_folds", "embeddings", TABLES_DIR, "embedding_quality_folds",
              "per model, fold and scope: silhouette, kNN accuracy, pair distance"),
    TableSpec("embedding_quality", "embeddings", TABLES_DIR, "embedding_quality",
              "per model and scope: cluster quality over folds"),
    TableSpec("embedding_projections", "embeddings", TABLES_DIR, "embedding_projections",
              "per projected image: 2-D coordinates (t-SNE, UMAP)"),
    TableSpec("thumbnails", "thumbnails", THUMBNAILS_DIR, "thumbnails", "per image: thumbnail file"),
    TableSpec("attention_images", "attributions", _ATTRIBUTION, "images",
              "per model, fold and image: region metrics of its attribution map"),
    TableSpec("attention_summary", "attributions", _ATTRIBUTION, "summary",
              "per model, subset, class: region metrics summarised"),
    TableSpec("attention_summary_by_polygon", "attributions", _ATTRIBUTION, "summary_by_polygon",
              "per mask-polygon source (exact, estimated), model, subset, class: region metrics summarised"),
    TableSpec("attention_metrics", "attributions", _ATTRIBUTION, "metrics",
              "per region metric: direction, reference, description"),
    TableSpec("attention_comparisons", "attributions", _ATTRIBUTION, "comparisons",
              "fold tests of a region metric against the baseline"),
    TableSpec("attention_shift", "attributions", _ATTRIBUTION, "shift",
              "per family, quantity (shift, learned, did, shift-correct-both), arm and class: the attention-shift "
              "effect with corrected-t, sign-flip and subject-bootstrap results and the null band"),
    TableSpec("attention_shift_pairs", "attributions", _ATTRIBUTION, "shift_pairs",
              "per model, fold and NM/M pair: shift indices, d = U(M) - U(NM), on-face shares, null and content d"),
    TableSpec("attention_null", "attributions", _ATTRIBUTION, "null",
              "per model, subset and metric: trained mean beside the randomised networks' mean and band"),
    TableSpec("sanity_randomisation", "attributions", f"{_ATTRIBUTION}/sanity", "randomisation",
              "per model, stage and image: similarity to the trained map"),
    TableSpec("sanity_randomisation_summary", "attributions", f"{_ATTRIBUTION}/sanity", "randomisation_summary",
              "per model, fold and stage: mean similarity"),
    TableSpec("sanity_randomisation_check", "attributions", f"{_ATTRIBUTION}/sanity", "randomisation_check",
              "per model and fold: similarity at the last randomisation stage, threshold, pass/fail"),
    TableSpec("sanity_consistency", "attributions", f"{_ATTRIBUTION}/sanity", "consistency",
              "per model and kind (held-out, held-out vs trained, trained): cross-fold map similarity"),
    TableSpec("sanity_faithfulness", "attributions", f"{_ATTRIBUTION}/sanity", "faithfulness",
              "per model and subset: accuracy with the mask region or a random region occluded"),
    TableSpec("sanity_evidence", "attributions", f"{_ATTRIBUTION}/sanity", "evidence",
              "per model and subset: agreement of maps with the demo's evidence maps"),
    TableSpec("faithfulness_images", "attributions", f"{_ATTRIBUTION}/faithfulness", "images",
              "per model, fold and image: deletion/insertion AUC (ROAD), upper/lower-face occlusion drops"),
    TableSpec("faithfulness", "attributions", f"{_ATTRIBUTION}/faithfulness", "summary",
              "per model, subset and measure: mean with a subject-bootstrap CI"),
    TableSpec("faithfulness_curves", "attributions", f"{_ATTRIBUTION}/faithfulness", "curves",
              "per model, subset, curve and fraction: mean probability of the explained class"),
    TableSpec("attention_agreement_images", "attributions", _ATTRIBUTION, "agreement_images",
              "per model, fold and image: shift index under the audit's method and a second method"),
    TableSpec("attention_agreement", "attributions", _ATTRIBUTION, "agreement",
              "per model and subset: rank correlation of the shift index between methods, arm ordering by mean d"),
    TableSpec("attention_difference_map", "attributions", _ATTRIBUTION, "difference_map",
              "per model and cell of the common face frame: mean NM, M and M - NM map"),
    TableSpec("mask_sensitivity", "sensitivity", TABLES_DIR, "mask_sensitivity",
              "per model, fold and NM/M pair: predictions, flip, probability drop, KL(NM||M), attention metrics"),
    TableSpec("mask_sensitivity_summary", "sensitivity", TABLES_DIR, "mask_sensitivity_summary",
              "per model and class (and all): flip rate with subject-bootstrap CI, drop, KL, accuracy/ECE/Brier NM vs M"),
    TableSpec("mask_sensitivity_classes", "sensitivity", TABLES_DIR, "mask_sensitivity_classes",
              "per model and predicted class: share of pairs predicted as it on NM and on M"),
)
TABLES: dict[str, TableSpec] = {spec.name: spec for spec in _SPECS}


def analysis_dir(run: Path) -> Path:
    """``RUN/analysis``."""
    return Path(run) / ANALYSIS_DIR


def read_index(analysis: Path) -> dict:
    """``analysis/index.json``, or an empty index when there is none yet (or it has an older schema)."""
    path = analysis / INDEX_FILE
    empty = {"schema": INDEX_SCHEMA, "steps": {}}
    if not path.is_file():
        return empty
    try:
        index = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); delete it to rebuild the analysis") from exc
    if not isinstance(index, dict) or index.get("schema") != INDEX_SCHEMA:
        return empty
    index.setdefault("steps", {})
    return index


def table_paths(analysis: Path, name: str, method: str | None = None) -> list[Path]:
    """The files of table ``name`` (one per :data:`TABLE_FORMATS`, parquet first)."""
    base = TABLES[name].base(analysis, method)
    return [base.with_name(f"{base.name}.{fmt}") for fmt in TABLE_FORMATS]


def write_table(frame: pd.DataFrame, analysis: Path, name: str, method: str | None = None) -> list[Path]:
    """Write table ``name`` of :data:`TABLES` under ``analysis``: parquet and CSV, each atomically."""
    paths = table_paths(analysis, name, method)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    for path in paths:
        with atomic_path(path) as tmp:
            if path.suffix == ".parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False)
    return paths


def figure_paths(analysis: Path, name: str) -> list[Path]:
    """The files of figure ``name`` under ``figures/`` (one per :data:`FIGURE_FORMATS`, png first)."""
    return [analysis / FIGURES_DIR / f"{name}.{fmt}" for fmt in FIGURE_FORMATS]


def attribution_dir(analysis: Path, method: str) -> Path:
    """``analysis/attributions/<method>``."""
    return analysis / ATTRIBUTIONS_DIR / method


def maps_path(analysis: Path, method: str, model: str, fold: int) -> Path:
    """Stored low-resolution maps of one (model, fold)."""
    return attribution_dir(analysis, method) / "maps" / model / f"fold-{fold}.npz"


def overlay_path(analysis: Path, method: str, model: str, image_id: str) -> Path:
    """Figure-6 tile of one image explained by one model."""
    return attribution_dir(analysis, method) / "overlays" / model / f"{image_id}.png"


def figure6_path(analysis: Path, method: str) -> Path:
    """The figure-6 grid (rows = models) of one attribution method."""
    return attribution_dir(analysis, method) / "overlays" / FIGURE6_FILE


def thumbnail_path(analysis: Path, image_id: str) -> Path:
    """Thumbnail of one image of the frozen manifest."""
    return analysis / THUMBNAILS_DIR / f"{image_id}.png"
