"""Step ``attributions``: the attention audit (maps, mask-region metrics, tests, sanity checks).

Options (``--set attributions.OPTION=VALUE``) are the fields of
:class:`interp.audit.pipeline.AuditConfig`, e.g. ``method=gradcam``, ``max_images=64``,
``target=true``, ``sanity=false``.
"""

from __future__ import annotations

from pathlib import Path

from interp.audit.pipeline import AuditConfig, audit_run
from interp.runs import Run
from interp.steps import register
from interp.steps.base import Step
from trainers import rundir


@register
class AttributionsStep(Step):
    name = "attributions"
    order = 40
    description = "Grad-CAM (or another method) maps, mask-region attention metrics, fold tests, sanity checks"
    Config = AuditConfig

    def inputs(self, run: Run) -> list[Path]:
        return [run.study_file, run.manifest_file, *run.files(rundir.PREDICTIONS_FILE),
                *run.files(rundir.CHECKPOINT_FILE)]

    def run(self, run: Run, config: AuditConfig, analysis: Path) -> list[Path]:
        return audit_run(run, config, analysis)
