"""``interp.results``: the one reader of a study's ``analysis/`` folder.

The dashboard and the PDF report read a study only through this module, so they show the same
numbers. It never computes and never trains: every table comes from a file that
``python -m interp.analyze`` wrote (the layout is :mod:`interp.layout`); when one is missing, the error
names the command that writes it.

Examples
--------
>>> results = interp.results.load("demo-output/runs/quick")          # doctest: +SKIP
>>> results.accuracy()                    # one row per arm and subset, accuracy_mean, ..._ci_low/high
>>> results.per_class_recall(folds=True)  # one row per arm, fold, subset and class
>>> results.attention(method="gradcam")   # one row per (arm, fold, image) with every region metric
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from interp import layout
from interp.palette import arm_colours
from trainers import rundir
from trainers.common.errors import DataError


class ResultMissing(DataError):
    """A table or figure of ``analysis/`` is absent; the message names the command that writes it."""


@dataclass
class Results:
    """Read-only access to one study: its ``study.json`` and its ``analysis/`` folder.

    Attributes
    ----------
    run
        The run directory (``runs/<study>``).
    study
        The parsed ``study.json`` (resolved config, manifest hash, seed, versions, commit, device).
    index
        The parsed ``analysis/index.json`` (empty steps when the study was never analysed).
    """

    run: Path
    study: dict
    index: dict
    _tables: dict = field(default_factory=dict, repr=False)

    # -- where things are -------------------------------------------------------------------
    @property
    def analysis(self) -> Path:
        """``RUN/analysis``."""
        return layout.analysis_dir(self.run)

    @property
    def name(self) -> str:
        """The study's name (``study.json`` ``study``)."""
        return str(self.study.get("study", self.run.name))

    @property
    def arms(self) -> list[str]:
        """Arms (models) of the study that have results, in ``study.json`` order."""
        if self.has("tables"):
            present = set(self.accuracy()["model"])
            return [arm for arm in self.study.get("models", []) if arm in present]
        return list(self.study.get("models", []))

    @property
    def arm_colours(self) -> dict[str, str]:
        """Arm -> colour of every arm of ``study.json`` (its recorded colour, :func:`interp.palette.arm_colours`),
        the colours the dashboard and the report both draw with."""
        return arm_colours(self.study)

    def steps(self) -> pd.DataFrame:
        """One row per analysis step that ran: name, description, seconds, warnings, outputs, when."""
        rows = [{"step": name, "description": entry.get("description", ""), "seconds": entry.get("seconds"),
                 "outputs": len(entry.get("outputs", [])), "warnings": list(entry.get("warnings", [])),
                 "config": entry.get("config", {}),
                 "time": (entry.get("provenance") or {}).get("created_utc")}
                for name, entry in self.index.get("steps", {}).items()]
        return pd.DataFrame(rows, columns=["step", "description", "seconds", "outputs", "warnings", "config", "time"])

    def has(self, step: str) -> bool:
        """Whether ``step`` ran and all the files it listed are present."""
        entry = self.index.get("steps", {}).get(step)
        folder = str(self.analysis)  # os.path: a step lists hundreds of files, checked on every dashboard page
        return bool(entry) and all(os.path.isfile(os.path.join(folder, item["path"])) for item in entry.get("outputs", []))

    def missing_steps(self, wanted: list[str] | None = None) -> list[str]:
        """Steps of ``wanted`` (default: every registered step) that have not run or lost files."""
        from interp.steps import available

        return [step for step in (wanted or available()) if not self.has(step)]

    def command(self, step: str) -> str:
        """The command that writes ``step``'s outputs for this study."""
        return f"python -m interp.analyze {self.run} --only {step}"

    def files(self) -> set[str]:
        """Every file the analysis steps wrote, relative to ``analysis/`` (the serving allow-list)."""
        return {item["path"] for entry in self.index.get("steps", {}).values() for item in entry.get("outputs", [])}

    # -- tables -------------------------------------------------------------------------------
    def table(self, name: str, method: str | None = None) -> pd.DataFrame:
        """Table ``name`` of :data:`interp.layout.TABLES` (a copy; read once per process).

        Raises
        ------
        ResultMissing
            When the file is absent; the message names the ``interp.analyze`` command that writes it.
        """
        if name not in layout.TABLES:
            raise DataError(f"unknown table {name!r}; tables: {', '.join(layout.TABLES)}")
        spec = layout.TABLES[name]
        if "{method}" in spec.folder:
            method = self._method(method)
        key = (name, method)
        if key not in self._tables:
            path = layout.table_paths(self.analysis, name, method)[0]
            if not path.is_file():
                extra = f" --set attributions.method={method}" if method else ""
                raise ResultMissing(f"{path}: missing ({spec.description}); run "
                                    f"`{self.command(spec.step)}{extra}`")
            try:
                self._tables[key] = pd.read_parquet(path)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise DataError(f"{path}: cannot read ({exc}); rerun `{self.command(spec.step)} --force`") from exc
        return self._tables[key].copy()

    def dataset_summary(self) -> pd.DataFrame:
        """Per class (then ``total``): non-masked, masked, total and pair counts of the frozen manifest
        (the paper's Table 2)."""
        return self.table("dataset")

    def accuracy(self, folds: bool = False) -> pd.DataFrame:
        """Accuracy and macro-F1 per arm and subset over folds (``accuracy_mean``, ``_sd``,
        ``_ci_low``, ``_ci_high``, ``n_folds``); ``folds=True`` gives one row per arm, fold and subset."""
        return self.table("accuracy_folds" if folds else "accuracy")

    def per_class_recall(self, folds: bool = False) -> pd.DataFrame:
        """Recall per arm, subset and class over folds (Table 6); ``folds=True`` per fold."""
        return self.table("per_class_recall_folds" if folds else "per_class_recall")

    def confusion(self, pooled: bool = True) -> pd.DataFrame:
        """Confusion matrices in long form (``model``, [``fold``,] ``subset``, ``true``, ``pred``, ``count``),
        pooled over folds or per fold."""
        return self.table("confusion_pooled" if pooled else "confusion_folds")

    def histories(self) -> pd.DataFrame:
        """Training history of every (arm, fold), one row per epoch."""
        return self.table("histories")

    def predictions(self) -> pd.DataFrame:
        """Every finished fold's validation predictions as the trainer wrote them (``model``, ``fold``,
        ``subset``, ``image_id``, ``label``, ``pred``, ``correct``, ...; read once, a copy each call)."""
        if "predictions" not in self._tables:
            # imported here: interp.runs pulls scipy/sklearn (seconds), which the other readers never need
            from interp.runs import PartialRunWarning, open_run

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PartialRunWarning)
                self._tables["predictions"] = open_run(self.run, allow_partial=True).predictions()
        return self._tables["predictions"].copy()

    def comparisons(self) -> pd.DataFrame:
        """Every statistical comparison: family, effect with CI, raw and adjusted p, reachability."""
        return self.table("comparisons")

    def tests(self) -> pd.DataFrame:
        """The statistical tests used: name, assumptions, reference."""
        return self.table("tests")

    def calibration(self, folds: bool = False) -> pd.DataFrame:
        """Calibration per arm and subset (NM, M) over folds: ``ece_mean``, ``brier_mean``, ``confidence_mean``,
        ``accuracy_mean`` with sd and corrected interval; ``folds=True`` gives one row per arm, subset and fold."""
        return self.table("calibration_folds" if folds else "calibration")

    def reliability(self) -> pd.DataFrame:
        """The reliability diagram's numbers per arm and subset, pooled over folds: one row per confidence
        bin (``lower``, ``upper``, ``count``, mean ``confidence``, ``accuracy``)."""
        return self.table("reliability")

    def predicted_classes(self) -> pd.DataFrame:
        """Per arm, subset and class: true and predicted counts and shares (``excess`` = predicted share -
        true share), pooled over folds: which classes masked faces collapse onto."""
        return self.table("predicted_classes")

    def embedding_projections(self) -> pd.DataFrame:
        """2-D t-SNE/UMAP coordinates of the projected validation images (one row per method and image)."""
        return self.table("embedding_projections")

    def embedding_quality(self, folds: bool = False) -> pd.DataFrame:
        """Cluster quality (silhouette, kNN accuracy, pair distance) per arm and scope, or per fold."""
        return self.table("embedding_quality_folds" if folds else "embedding_quality")

    def mask_sensitivity(self, level: str = "summary") -> pd.DataFrame:
        """Mask sensitivity (``interp.analyze --only sensitivity``): ``summary`` (per arm and class, and
        ``all``: flip rate with a subject-bootstrap CI, probability drop, KL, accuracy/ECE/Brier NM vs M),
        ``pairs`` (one row per NM/M pair) or ``classes`` (share of each predicted class on NM and on M)."""
        names = {"summary": "mask_sensitivity_summary", "pairs": "mask_sensitivity",
                 "classes": "mask_sensitivity_classes"}
        if level not in names:
            raise DataError(f"mask_sensitivity level {level!r}: use one of {', '.join(names)}")
        return self.table(names[level])

    def audited(self) -> dict | None:
        """The audit record of a study written by ``python -m interp.audit`` (fold ``all``, target,
        labels) with each audited arm's card under ``arms``; ``None`` for a trained study."""
        record = self.study.get("audit")
        if not record:
            return None
        arms = {name: (arm or {}).get("audited") for name, arm in (self.study.get("arms") or {}).items()}
        return {**record, "arms": {name: arm for name, arm in arms.items() if arm}}

    # -- attention audit ----------------------------------------------------------------------
    def attention_methods(self) -> list[str]:
        """Attribution methods with an audit in ``analysis/attributions/``."""
        root = self.analysis / layout.ATTRIBUTIONS_DIR
        if not root.is_dir():
            return []
        return sorted(path.name for path in root.iterdir() if (path / layout.AUDIT_FILE).is_file())

    def attention(self, method: str | None = None) -> pd.DataFrame:
        """One row per (arm, fold, image): label, prediction, masked, and every region metric."""
        return self.table("attention_images", method)

    def attention_summary(self, method: str | None = None) -> pd.DataFrame:
        """Region metrics summarised per arm, subset and class."""
        return self.table("attention_summary", method)

    def attention_summary_by_polygon(self, method: str | None = None) -> pd.DataFrame:
        """Region metrics summarised separately for images whose mask polygon is exact (drawn) and
        estimated from landmarks (real photos); absent when the audit saw neither kind."""
        return self.table("attention_summary_by_polygon", method)

    def attention_metrics(self, method: str | None = None) -> pd.DataFrame:
        """Metadata of each region metric: direction, reference, description."""
        return self.table("attention_metrics", method)

    def attention_comparisons(self, method: str | None = None) -> pd.DataFrame:
        """Fold tests of the mask fraction (and other metrics) of each arm against the baseline."""
        return self.table("attention_comparisons", method)

    def attention_shift(self, method: str | None = None, pairs: bool = False) -> pd.DataFrame:
        """The attention-shift tests: per family, ``quantity`` (``shift``: d = U(M) - U(NM); ``learned``: d
        minus the randomised networks' d; ``did``: d(arm) - d(reference) on the same pairs;
        ``shift-correct-both``), arm and class: effect, corrected-t CI and p, sign-flip p, subject-bootstrap
        CI, the null band, the content map's d. ``pairs=True``: one row per model, fold and NM/M pair."""
        return self.table("attention_shift_pairs" if pairs else "attention_shift", method)

    def attention_null(self, method: str | None = None) -> pd.DataFrame:
        """Per arm, subset and metric (every region metric, the shift index, ``shift_d``): the trained maps'
        mean beside the mean and 2.5-97.5% band of fully randomised networks (``null_draws`` per fold)."""
        return self.table("attention_null", method)

    def attention_layers(self, method: str | None = None) -> pd.DataFrame:
        """Where each arm's maps come from, as the audit recorded it once (``audit.json`` ``layers``): ``model``,
        ``layer`` (Grad-CAM's target), ``grid_h``/``grid_w`` (the maps' native size; empty for pixel maps),
        ``input_size``, ``map_kind``. Empty for an audit written before the record existed."""
        layers = self.audit(method).get("layers") or {}
        rows = [{"model": model, "layer": info.get("layer"), "grid_h": (info.get("grid") or [None, None])[0],
                 "grid_w": (info.get("grid") or [None, None])[1], "input_size": info.get("input_size"),
                 "map_kind": info.get("map_kind")} for model, info in layers.items()]
        return pd.DataFrame(rows, columns=["model", "layer", "grid_h", "grid_w", "input_size", "map_kind"])

    def sanity(self, check: str, method: str | None = None) -> pd.DataFrame:
        """A sanity-check table: ``randomisation``, ``randomisation_summary``, ``randomisation_check``
        (pass/fail per model and fold), ``consistency``, ``faithfulness`` or ``evidence``."""
        name = f"sanity_{check}"
        if name not in layout.TABLES:
            checks = [key.removeprefix("sanity_") for key in layout.TABLES if key.startswith("sanity_")]
            raise DataError(f"unknown sanity check {check!r}; checks: {', '.join(checks)}")
        return self.table(name, method)

    def faithfulness(self, level: str = "summary", method: str | None = None) -> pd.DataFrame:
        """Faithfulness of the audit's maps (ROAD imputation): ``summary`` (per arm, subset NM/M and measure:
        deletion and insertion AUC, upper/lower-face occlusion drops and their equal-area controls, mean with
        a subject-bootstrap CI), ``images`` (one row per arm, fold and image) or ``curves`` (mean probability
        of the explained class per arm, subset, curve and fraction)."""
        names = {"summary": "faithfulness", "images": "faithfulness_images", "curves": "faithfulness_curves"}
        if level not in names:
            raise DataError(f"faithfulness level {level!r}: use one of {', '.join(names)}")
        return self.table(names[level], method)

    def attention_agreement(self, level: str = "summary", method: str | None = None) -> pd.DataFrame:
        """Agreement of the audit's method with a second method of another family: ``summary`` (per arm and
        subset: Spearman of the shift index, mean d under each, the arm ranks, Kendall's tau and whether the
        arm ordering holds) or ``images`` (the two shift indices per arm, fold and image)."""
        names = {"summary": "attention_agreement", "images": "attention_agreement_images"}
        if level not in names:
            raise DataError(f"attention_agreement level {level!r}: use one of {', '.join(names)}")
        return self.table(names[level], method)

    def attention_difference_map(self, method: str | None = None) -> pd.DataFrame:
        """Per arm and cell of the common face frame (maps warped on the eye landmarks): mean NM map, mean
        M map and their mean difference M - NM over pairs (the quantitative figure 6)."""
        return self.table("attention_difference_map", method)

    def audit(self, method: str | None = None) -> dict:
        """The audit's description (``audit.json``): config, method reference, metrics, files."""
        path = layout.attribution_dir(self.analysis, self._method(method)) / layout.AUDIT_FILE
        return _read_json(self._existing(path, "attributions"))

    def overlays(self, method: str | None = None) -> pd.DataFrame:
        """Overlay tiles written by the audit: ``model``, ``image_id``, ``path`` (absolute)."""
        method = self._method(method)
        folder = layout.attribution_dir(self.analysis, method) / "overlays"
        rows = []
        for relative in sorted(self.files()):
            path = self.analysis / relative
            if path.parent.parent == folder and path.suffix == ".png":
                rows.append({"model": path.parent.name, "image_id": path.stem, "path": path})
        return pd.DataFrame(rows, columns=["model", "image_id", "path"])

    def figure6(self, method: str | None = None) -> Path:
        """The figure-6 grid of overlays (rows = arms) of the audit."""
        return self._existing(layout.figure6_path(self.analysis, self._method(method)), "attributions")

    # -- figures and images -------------------------------------------------------------------
    def images(self) -> pd.DataFrame:
        """One row per image of the study's frozen manifest (``RUN/manifest.csv``): ``image_id``,
        ``subject``, ``label``, ``masked``, ``pair_id``, ``source`` and ``fold`` (read-only; for preview
        sheets, galleries and fold sizes)."""
        key = ("images", None)
        if key not in self._tables:
            from trainers.rundir import read_manifest

            table = read_manifest(self.run)
            columns = ["image_id", "subject", "label", "masked", "pair_id", "source", "fold"]
            self._tables[key] = table[[column for column in columns if column in table.columns]]
        return self._tables[key].copy()

    def figure(self, name: str, fmt: str = "png") -> Path:
        """A figure of ``analysis/figures`` (``confusion-<arm>``, ``projection-<arm>``) in ``fmt``."""
        paths = {path.suffix[1:]: path for path in layout.figure_paths(self.analysis, name)}
        if fmt not in paths:
            raise DataError(f"figure format {fmt!r}: use {', '.join(paths)}")
        step = "embeddings" if name.startswith("projection-") else "tables"
        return self._existing(paths[fmt], step)

    def thumbnail(self, image_id: str) -> Path | None:
        """The thumbnail of an image of the study, or ``None`` when it has none."""
        path = layout.thumbnail_path(self.analysis, image_id)
        relative = path.relative_to(self.analysis).as_posix()
        return path if relative in self.files() and path.is_file() else None

    # -- provenance ---------------------------------------------------------------------------
    def provenance(self) -> dict:
        """Who made the study and its analysis: preset, seed, folds, device, manifest hash, versions and
        git commit of the training (``study.json``) and of each analysis step (``index.json``)."""
        study = self.study
        return {
            "study": self.name, "run": str(self.run), "preset": study.get("preset"), "seed": study.get("seed"),
            "k": study.get("k"), "folds": study.get("folds"), "models": study.get("models"),
            "device": study.get("device"), "manifest_hash": study.get("manifest_hash"),
            "training": study.get("provenance", {}),
            "analysis": {name: entry.get("provenance", {}) for name, entry in self.index.get("steps", {}).items()},
        }

    def config(self) -> dict:
        """The resolved training config recorded in ``study.json``."""
        return dict(self.study.get("config", {}))

    def cross_dataset(self) -> dict | None:
        """The cross-dataset record of ``study.json`` (``trainers run --test-data``): the training and
        test manifests with their hashes, each side's classes and those missing on either; ``None``
        for a study within one dataset. In a cross-dataset study every accuracy and confusion table
        is on the test dataset (the cross-dataset accuracy of the paper's section 3.6)."""
        record = self.study.get("cross_dataset")
        return dict(record) if record else None

    # -- helpers ------------------------------------------------------------------------------
    def _method(self, method: str | None) -> str:
        methods = self.attention_methods()
        if method:
            if method not in methods and not (layout.attribution_dir(self.analysis, method)).is_dir():
                raise ResultMissing(f"{self.analysis}: no attention audit with method {method!r} "
                                    f"(audits: {', '.join(methods) or 'none'}); run "
                                    f"`{self.command('attributions')} --set attributions.method={method}`")
            return method
        if not methods:
            raise ResultMissing(f"{self.analysis}: no attention audit; run `{self.command('attributions')}`")
        return "gradcam" if "gradcam" in methods else methods[0]

    def _existing(self, path: Path, step: str) -> Path:
        if not path.is_file():
            raise ResultMissing(f"{path}: missing; run `{self.command(step)}`")
        return path


def load(run: str | Path) -> Results:
    """Open a study for reading.

    Parameters
    ----------
    run
        The run directory (``runs/<study>``), which holds ``study.json`` and, once analysed, ``analysis/``.

    Raises
    ------
    DataError
        When ``run`` is not a run directory or its ``study.json``/``index.json`` cannot be read.
    """
    run = Path(run)
    study = rundir.read_study(run)
    return Results(run=run, study=study, index=layout.read_index(layout.analysis_dir(run)))


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object")
    return data
