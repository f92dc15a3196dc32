"""Step ``attributions``: the attention audit (maps, mask-region metrics, tests, sanity checks).

Options (``--set attributions.OPTION=VALUE``) are the fields of
:class:`interp.audit.pipeline.AuditConfig`, e.g. ``method=gradcam``, ``max_images=64``,
``target=true``, ``sanity=false``.
"""

from __future__ import annotations

from pathlib import Path

from interp.attribution import ATTRIBUTIONS
from interp.audit.pipeline import AuditConfig, audit_run
from interp.regions import REGION_METRICS
from interp.runs import Run
from interp.steps import register
from interp.steps.base import Step


@register
class AttributionsStep(Step):
    name = "attributions"
    order = 40
    description = "Grad-CAM (or another method) maps, mask-region attention metrics, fold tests, sanity checks"
    modules = (
        "interp.audit.pipeline", "interp.audit.aggregate", "interp.audit.inputs", "interp.audit.overlays",
        "interp.audit.sanity", "interp.attribution.base", "interp.regions", "interp.regions.base",
        "interp.regions.geometry", "interp.regions.rasterise", "interp.regions.eye_region",
        *sorted({cls.__module__ for cls in ATTRIBUTIONS.values()}),
        *sorted({type(metric).__module__ for metric in REGION_METRICS.values()}),
    )
    Config = AuditConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.path / "study.json", run.path / "manifest.csv", *run.files("predictions.csv"),
                *run.files("checkpoint.pt")]

    def run(self, run: Run, config: AuditConfig, analysis: Path) -> list[Path]:
        return audit_run(run, config, analysis)
